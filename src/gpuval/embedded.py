"""The embedded dataset as already validated: a quick path for commands that only print it.

``gpuval data`` and ``gpuval entities`` print the embedded dataset. Validating it takes pydantic and
the schema (about 70 ms of start-up), which would put those commands over their 0.15 s budget. The
snapshot file ``gpuval/data/embedded_snapshot.json`` holds what validation gives: the records as
:meth:`~gpuval.data.dataset.Dataset.rows` returns them and the entities, made by
:func:`~gpuval.data.dataset.load_dataset` with the seed articles (every quote checked).

It also holds the SHA-256 of every input of that validation: the dataset file, the code that reads
it (``data/dataset.py``, ``data/numbers.py``, ``data/peers.py``, ``data/schema.py``) and each
seed article quoted. :func:`quick_dataset` returns the snapshot only when those bytes are
unchanged, so its answer is the one validation would give; otherwise it returns ``None`` and the
caller validates. A test checks that the committed snapshot is current; after changing the
dataset or that code, regenerate it::

    python -m gpuval.embedded
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpuval.errors import GpuvalError

__all__ = ["Snapshot", "build_snapshot", "quick_dataset", "write_snapshot"]

_PACKAGE = Path(__file__).resolve().parent
#: The files, relative to the package, whose bytes decide the validated records.
CODE_FILES = ("data/dataset.py", "data/numbers.py", "data/peers.py", "data/schema.py")
SNAPSHOT_FILE = _PACKAGE / "data" / "embedded_snapshot.json"


@dataclass(frozen=True)
class Snapshot:
    """The validated embedded dataset, as the quick commands print it."""

    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    entities: list[dict[str, Any]]
    seeds_checked: bool

    def select(
        self, entity: Iterable[str] = (), metric: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        """Rows of the given entities and metrics, as ``Dataset.rows`` selects them."""
        entities, metrics = set(entity), set(metric)
        known = [e["id"] for e in self.entities]
        for name in entities - set(known):
            raise GpuvalError(f"Unknown entity {name!r}; known entities: {', '.join(known)}.")
        return [
            r
            for r in self.rows
            if (not entities or r["entity"] in entities) and (not metrics or r["metric"] in metrics)
        ]


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _fingerprint(dataset: Path, seeds: Path | None, sources: Iterable[str]) -> dict[str, Any]:
    """SHA-256 of everything validation reads: the dataset, its code and the quoted seeds."""
    return {
        "dataset": _sha256(dataset),
        "code": {name: _sha256(_PACKAGE / name) for name in CODE_FILES},
        "seeds": None if seeds is None else {s: _sha256(seeds / s) for s in sorted(sources)},
    }


def quick_dataset() -> Snapshot | None:
    """The validated embedded dataset if nothing validation reads has changed, else ``None``.

    Seeds are looked up as :func:`~gpuval.data.dataset.load_dataset` does; without a seed folder
    the snapshot still applies (quotes were checked when it was made) and ``seeds_checked`` is
    False, as validation would report.
    """
    from gpuval.data.dataset import COLUMNS, default_seeds_dir

    try:
        data = json.loads(SNAPSHOT_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    seeds = default_seeds_dir()
    dataset = _PACKAGE / "data" / "dataset.toml"
    now = _fingerprint(dataset, seeds, data["fingerprint"]["seeds"])
    made = data["fingerprint"]
    if (now["dataset"], now["code"]) != (made["dataset"], made["code"]) or tuple(
        data["columns"]
    ) != tuple(COLUMNS):
        return None
    if seeds is not None and now["seeds"] != made["seeds"]:
        return None
    return Snapshot(tuple(data["columns"]), data["rows"], data["entities"], seeds is not None)


def build_snapshot(seeds: Path) -> dict[str, Any]:
    """Validate the embedded dataset against ``seeds`` and return the snapshot's content."""
    from gpuval.data.dataset import COLUMNS, default_dataset_path, load_dataset

    dataset = load_dataset(seeds=seeds)
    if dataset.path.resolve() != (_PACKAGE / "data" / "dataset.toml").resolve():
        raise GpuvalError(f"The embedded dataset is not at {_PACKAGE / 'data'}; cannot snapshot.")
    sources = {s for r in dataset.records.values() for s in r.source.split("; ")}
    return {
        "fingerprint": _fingerprint(default_dataset_path(), seeds, sources),
        "columns": list(COLUMNS),
        "rows": dataset.rows(),
        "entities": [e.model_dump() for e in dataset.entities.values()],
    }


def render(content: dict[str, Any]) -> str:
    """The snapshot file's text: the content as JSON."""
    return json.dumps(content, ensure_ascii=False, indent=1) + "\n"


def write_snapshot(seeds: Path, path: Path = SNAPSHOT_FILE) -> Path:
    """Regenerate the snapshot file from a full validation against ``seeds``."""
    text = render(build_snapshot(seeds))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def main() -> int:
    from gpuval.data.dataset import default_seeds_dir

    seeds = default_seeds_dir()
    if seeds is None:
        print("gpuval: error: no seed folder found (set GPUVAL_SEEDS); quotes must be checked.")
        return 1
    try:
        print(f"wrote {write_snapshot(seeds)}")
    except GpuvalError as exc:
        print(f"gpuval: error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
