"""Each ``GPUVAL_`` function declared once: name, description, parameters, and what it calls.

A declaration (:func:`udf`) lists the function's parameters as :class:`Param` objects (name,
kind, default, help). From it come:

* the Python function itself, with exactly those parameters (optional ones default to ``None``,
  which is what Excel passes for a blank or an omitted argument);
* the coercion of each argument by its kind (:mod:`gpuval.excel.args`);
* the error guard: classic xlwings and Python callers get the text ``"#GPUVAL! <sentence>"``;
  under xlwings Lite and Server (Office.js) the function raises ``xlwings.XlwingsError``, which
  Excel shows as an error value (``#VALUE!``, so ``ISERROR`` sees it) carrying the sentence;
* the xlwings registration: each parameter's help, ``ndim=2`` and ``err_to_str=True``; the
  namespace ``GPUVAL`` with the short name (``=GPUVAL.PS(...)`` in Lite and Server, where
  ``category`` does not apply), ``cache=True`` for results that depend only on the arguments;
* the README's function table (:func:`readme_table`).

xlwings is imported only where a runtime registers functions (it is already imported, Office.js
mode is set, or on Windows); elsewhere its decorators are no-ops and the import would cost
pandas, so the functions stay plain Python.
"""

from __future__ import annotations

import inspect
import keyword
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from gpuval.excel import args as a
from gpuval.excel import results
from gpuval.excel.args import REQUIRED
from gpuval.excel.text import number_text

__all__ = ["CATEGORY", "NAMESPACE", "REGISTRY", "Param", "Udf", "evaluate", "readme_table", "udf"]

NAMESPACE = "GPUVAL"
"""Function namespace in xlwings Lite and Server: ``=GPUVAL.PS(...)``."""

CATEGORY = "gpuval"
"""Function category in classic Excel's function wizard."""

REGISTRY: dict[str, Udf] = {}
"""Every declared function by its Python name, in declaration order."""

TOPICS = ("multiples", "scenarios", "dcf", "simulation", "data")
"""The modules declaring functions, in the README's order."""

_KINDS = ("number", "single", "whole", "text", "choice", "flag", "range")


@dataclass(frozen=True)
class Param:
    """One parameter of a ``GPUVAL_`` function.

    ``kind``: ``number`` (a number or a range that broadcasts), ``single`` (one number),
    ``whole`` (a whole number from ``options[0]`` to ``options[1]``), ``text``, ``choice`` (one
    of ``options``), ``flag`` (TRUE/FALSE) or ``range`` (a table, read by the function itself).
    ``default``: the value a blank takes (``REQUIRED`` when it has none); ``blank``: how the help
    names that default (derived from ``default`` when omitted; ``""`` to say nothing).
    """

    name: str
    kind: str
    help: str
    default: Any = REQUIRED
    blank: str | None = None
    options: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"parameter {self.name}: unknown kind {self.kind!r}.")
        if not self.name.isidentifier() or keyword.iskeyword(self.name) or self.name[0] == "_":
            raise ValueError(f"parameter {self.name!r} is not a Python name.")

    @property
    def optional(self) -> bool:
        return self.default is not REQUIRED

    @property
    def doc(self) -> str:
        """The help Excel shows: ``Optional. <help> Blank = <default>.`` for optional ones."""
        if not self.optional:
            return self.help
        blank = self.blank if self.blank is not None else _show(self.default)
        return f"Optional. {self.help}" + (f" Blank = {blank}." if blank else "")

    def with_(self, **changes: Any) -> Param:
        """A copy with some fields changed (e.g. another help text)."""
        return Param(**{**self.__dict__, **changes})

    def coerce(self, value: Any) -> Any:
        """The argument as the function body wants it (see the kinds above)."""
        return _coercer(self)(self.name, value, self.default)


def _show(default: Any) -> str:
    if isinstance(default, bool):
        return "TRUE" if default else "FALSE"
    if isinstance(default, int):
        return str(default)
    if isinstance(default, float):
        return number_text(default).removesuffix(".0")
    return "" if default is None else f'"{default}"'


def _coercer(p: Param) -> Callable[[str, Any, Any], Any]:
    if p.kind == "number":
        return a.number
    if p.kind == "single":
        return a.single
    if p.kind == "whole":
        lo, hi = p.options
        return lambda n, v, d: a.whole(n, v, d, lo, hi)
    if p.kind == "text":
        return a.text
    if p.kind == "choice":
        options = p.options
        return lambda n, v, d: a.choice(n, v, d, options)
    if p.kind == "flag":
        return a.flag
    return lambda n, v, d: v  # range: the body reads it


@dataclass(frozen=True)
class Udf:
    """The declaration of one ``GPUVAL_`` function."""

    name: str
    doc: str
    params: tuple[Param, ...]
    summary: str  # README: what it returns
    example: str  # README: a call and its result
    cache: bool = True
    ret: dict[str, Any] = field(default_factory=dict)
    topic: str = ""  # the module that declares it

    @property
    def short(self) -> str:
        """The name under the ``GPUVAL`` namespace: ``GPUVAL_PS`` -> ``PS``."""
        return self.name.removeprefix(NAMESPACE + "_")

    def signature(self) -> str:
        """``GPUVAL_PS(market_value, revenue, [fx])``, as the README shows it."""
        parts = []
        for p in self.params:
            if not p.optional:
                parts.append(p.name)
            elif p.default is not None and len(_show(p.default)) <= 10:
                parts.append(f"[{p.name}={_show(p.default)}]")
            else:
                parts.append(f"[{p.name}]")
        return f"{self.name}({', '.join(parts)})"


def udf(
    name: str,
    doc: str,
    params: tuple[Param, ...] | list[Param],
    *,
    body: Callable[..., Any] | None = None,
    core: Callable[..., Any] | None = None,
    core_defaults: Callable[..., Any] | None = None,
    numbers_dict: bool = False,
    attr: str | None = None,
    summary: str,
    example: str,
    cache: bool = True,
    ret: dict[str, Any] | None = None,
) -> Callable[..., Any]:
    """Declare, build and register one ``GPUVAL_`` function; returns the function.

    Give either ``body``, called with every argument coerced (as keywords), or ``core``, a core
    function evaluated over the ``number`` arguments (floats, or ranges that broadcast and spill)
    with the other arguments as keywords; ``attr`` picks a field of its result. When every
    number argument is one cell, those omitted are left out of the call if ``core_defaults``
    (default ``core``, the function whose defaults they take) has the declared default. With
    ``numbers_dict``, ``core`` takes the number arguments as one dict, its first argument
    (cheaper than keywords when it only passes them on).
    """
    params = tuple(params)
    topic = sys._getframe(1).f_globals.get("__name__", "")  # the declaring module
    spec = Udf(name, doc, params, summary, example, cache, dict(ret or {}), topic)
    _check(spec)
    if (body is None) == (core is None):
        raise ValueError(f"{name}: give body or core, not both or neither.")
    func = _build(spec, body, core, attr, core_defaults or core, numbers_dict)
    REGISTRY[name] = spec
    return _register(func, spec)


def _check(spec: Udf) -> None:
    if not spec.name.startswith(NAMESPACE + "_") or spec.name in REGISTRY:
        raise ValueError(f"{spec.name}: a new name starting {NAMESPACE}_ is needed.")
    if not 0 < len(spec.doc) <= 255 or "\n" in spec.doc:
        raise ValueError(f"{spec.name}: the Excel description must be one line of 1-255 chars.")
    names = [p.name for p in spec.params]
    if len(set(names)) != len(names):
        raise ValueError(f"{spec.name}: a parameter is declared twice.")
    seen_optional = False
    for p in spec.params:
        if not 0 < len(p.doc) <= 255:
            raise ValueError(f"{spec.name}: parameter {p.name} needs help of 1-255 characters.")
        if seen_optional and not p.optional:
            raise ValueError(f"{spec.name}: required {p.name} follows an optional parameter.")
        seen_optional = seen_optional or p.optional


def _build(
    spec: Udf,
    body: Callable[..., Any] | None,
    core: Callable[..., Any] | None,
    attr: str | None,
    core_defaults: Callable[..., Any] | None = None,
    numbers_dict: bool = False,
) -> Callable[..., Any]:
    """The Python function, generated with the declared signature (as ``dataclasses`` does)."""
    numbers = tuple(p for p in spec.params if p.kind == "number")
    env: dict[str, Any] = {
        "_fail": _failure_handler(spec.name),
        "_body": body,
        "_core": core,
        "_attr": attr,
        "_evaluate": evaluate,
        "_one_cells": a.one_cells,
        "_results": results,
        "_numbers": tuple(p.name for p in numbers),
        "_required": frozenset(p.name for p in numbers if not p.optional),
        "_fill": _fill(numbers, core_defaults),
        "REQUIRED": REQUIRED,
    }
    coerced = []
    for i, p in enumerate(spec.params):
        env[f"_d{i}"] = p.default
        if p.kind == "whole":  # the helpers themselves, without a wrapping lambda
            env[f"_c{i}"], (env[f"_lo{i}"], env[f"_hi{i}"]) = a.whole, p.options
            coerced.append(f"_c{i}({p.name!r}, {p.name}, _d{i}, _lo{i}, _hi{i})")
        elif p.kind == "choice":
            env[f"_c{i}"], env[f"_o{i}"] = a.choice, p.options
            coerced.append(f"_c{i}({p.name!r}, {p.name}, _d{i}, _o{i})")
        elif p.kind == "range":
            coerced.append(p.name)  # the body reads it
        else:
            env[f"_c{i}"] = _coercer(p)
            coerced.append(f"_c{i}({p.name!r}, {p.name}, _d{i})")
        if p.optional and p.kind != "range":  # omitted: its default, without a call
            coerced[-1] = f"(_d{i} if {p.name} is None else {coerced[-1]})"
    signature = ", ".join(p.name + ("=None" if p.optional else "") for p in spec.params)
    fast = ""
    if body is not None:
        call = (
            "_body("
            + ", ".join(f"{p.name}={c}" for p, c in zip(spec.params, coerced, strict=True))
            + ")"
        )
    else:
        nums = ", ".join(
            f"{p.name!r}: {c}"
            for p, c in zip(spec.params, coerced, strict=True)
            if p.kind == "number"
        )
        extra = "".join(
            f", {p.name}={c}"
            for p, c in zip(spec.params, coerced, strict=True)
            if p.kind != "number"
        )
        call = f"_evaluate(_core, {{{nums}}}, _attr, {numbers_dict}{extra})"
        if numbers:  # every number one cell: one pass over them, then the core itself
            values = "".join(f"{p.name}, " for p in numbers)
            direct = f"_core({'' if numbers_dict else '**'}_cells{extra})"
            direct = direct if attr is None else f"getattr({direct}, _attr)"
            fast = (
                f"        _cells = _one_cells(_numbers, ({values}), _required, _fill)\n"
                f"        if _cells is not None:\n"
                f"            return _results.result({direct})\n"
            )
    source = (
        f"def {spec.name}({signature}):\n"
        f"    try:\n"
        f"{fast}"
        f"        return {call}\n"
        f"    except Exception as exc:\n"
        f"        return _fail(exc)\n"
    )
    exec(source, env)
    func = env[spec.name]
    func.__doc__ = spec.doc
    func.__module__ = spec.topic or __name__
    func.__qualname__ = spec.name
    return func


def _fill(numbers: tuple[Param, ...], core: Callable[..., Any] | None) -> dict[str, Any]:
    """The optional number arguments whose declared default ``core`` does not have itself:
    ``{name: default}``, passed when they are omitted."""
    own = inspect.signature(core).parameters if core is not None else {}
    return {
        p.name: p.default
        for p in numbers
        if p.optional
        and not (
            p.name in own
            and type(own[p.name].default) is type(p.default)
            and own[p.name].default == p.default
        )
    }


def evaluate(
    func: Callable[..., Any],
    nums: dict[str, Any],
    attr: str | None,
    as_dict: bool = False,
    /,
    **extra: Any,
) -> Any:
    """``func(**nums, **extra)`` (``func(nums, **extra)`` ``as_dict``; its ``attr``), as a
    float or, for ranges, rows of floats."""
    for v in nums.values():
        if type(v) is not float and v is not None:
            return _evaluate_ranges(func, nums, attr, as_dict, extra)
    out = func(nums, **extra) if as_dict else func(**nums, **extra)
    return results.result(out if attr is None else getattr(out, attr))


def _evaluate_ranges(
    func: Callable[..., Any],
    nums: dict[str, Any],
    attr: str | None,
    as_dict: bool,
    extra: dict[str, Any],
) -> Any:
    import numpy as np

    shape = a.broadcast(nums)
    with np.errstate(all="ignore"):
        out = func(nums, **extra) if as_dict else func(**nums, **extra)
        out = out if attr is None else getattr(out, attr)
        return results.result(np.broadcast_to(np.asarray(out, dtype=np.float64), shape))


# --- the runtime ------------------------------------------------------------------------------


def _xlwings() -> ModuleType | None:
    """xlwings, where a runtime registers functions with it; otherwise None (no import)."""
    if (
        "xlwings" in sys.modules
        or os.environ.get("XLWINGS_ON_SERVER") == "true"
        or sys.platform.startswith("win")
    ):
        import xlwings

        return xlwings
    return None


def officejs() -> bool:
    """True under xlwings Lite or Server, whose Office.js functions can return error values."""
    xw = _xlwings()
    return xw is not None and getattr(xw.func, "__module__", "").startswith("xlwings.pro")


def _failure_handler(name: str) -> Callable[[BaseException], Any]:
    if officejs():
        import xlwings

        def fail_officejs(exc: BaseException) -> Any:
            raise xlwings.XlwingsError(results.error_text(results.failure(exc, name))) from None

        return fail_officejs

    def fail(exc: BaseException) -> Any:
        return results.error_text(results.failure(exc, name))

    return fail


def _register(func: Callable[..., Any], spec: Udf) -> Callable[..., Any]:
    xw = _xlwings()
    if xw is None:
        return func
    if spec.ret:
        func = xw.ret(**spec.ret)(func)
    for p in reversed(spec.params):
        func = xw.arg(p.name, doc=p.doc, ndim=2, err_to_str=True)(func)
    return xw.func(category=CATEGORY, namespace=NAMESPACE, name=spec.short, cache=spec.cache)(func)


# --- the README -------------------------------------------------------------------------------

README_BEGIN = "<!-- GPUVAL functions: generated by gpuval.excel.declare.readme_table -->"
README_END = "<!-- end of GPUVAL functions -->"


def readme_table() -> str:
    """The README's table of functions, from the declarations (between the two markers)."""
    lines = [
        README_BEGIN,
        "| Function (classic name; `GPUVAL.` + the rest in Lite and Server) | Returns | Example |",
        "|---|---|---|",
    ]
    order = [f"gpuval.excel.{t}" for t in TOPICS]
    specs = sorted(
        REGISTRY.values(), key=lambda s: order.index(s.topic) if s.topic in order else 99
    )
    for spec in specs:
        lines.append(f"| `{spec.signature()}` | {spec.summary} | {spec.example} |")
    lines.append(README_END)
    return "\n".join(lines)
