"""Run by Debian's ``/usr/bin/python3`` (which has ``uno``), never by the venv.

``python3 uno_edit.py JOB.json``: start LibreOffice headless with the profile directory given in
the job, open ``src``, apply the ``edits`` in order, recalculate, save as .xlsx ("Calc MS Excel
2007 XML") to ``dst`` and quit. The job file is written by ``tests/apps/libreoffice.py``, which
also owns the timeout (it kills this process's whole group). Exit status 0 on success; on failure
one line on stderr (``uno_edit: ...``) and exit status 1.

Edit records (JSON objects, ``op`` first; rows and columns 1-based as in a spreadsheet):
``insert_rows {sheet, at, count}``, ``delete_rows {sheet, at, count}``,
``insert_columns {sheet, at, count}``, ``delete_columns {sheet, at, count}``,
``rename_sheet {sheet, new}``, ``delete_sheet {sheet}``, ``insert_sheet {sheet, at}`` (a new
empty sheet at 1-based position ``at``), ``set_value {sheet, cell, value}``,
``set_formula {sheet, cell, formula}``, ``copy_range {sheet, source, to}`` (copy and paste:
relative references move with the cells).
"""

import contextlib
import json
import os
import subprocess
import sys
import time

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]


def props(**kwargs):
    out = []
    for key, value in kwargs.items():
        p = PropertyValue()
        p.Name, p.Value = key, value
        out.append(p)
    return tuple(out)


def connect(soffice, profile, pipe, deadline):
    proc = subprocess.Popen(
        [
            soffice,
            "-env:UserInstallation=" + uno.systemPathToFileUrl(profile),
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--accept=pipe,name=" + pipe + ";urp;StarOffice.ComponentContext",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    while True:
        try:
            ctx = resolver.resolve("uno:pipe,name=" + pipe + ";urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"LibreOffice exited (code {proc.returncode}) before accepting a connection"
                ) from None
            if time.monotonic() > deadline:
                raise RuntimeError("LibreOffice did not accept a connection in time") from None
            time.sleep(0.1)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    return proc, desktop


def sheet(doc, name):
    sheets = doc.getSheets()
    if not sheets.hasByName(name):
        raise RuntimeError(f"no sheet {name!r} (sheets: {', '.join(sheets.getElementNames())})")
    return sheets.getByName(name)


def apply(doc, edit):
    op = edit["op"]
    if op == "rename_sheet":
        sheet(doc, edit["sheet"]).setName(edit["new"])
        return
    if op == "insert_sheet":
        doc.getSheets().insertNewByName(edit["sheet"], edit["at"] - 1)
        return
    if op == "delete_sheet":
        sheet(doc, edit["sheet"])  # one sentence if it is not there
        doc.getSheets().removeByName(edit["sheet"])
        return
    ws = sheet(doc, edit["sheet"])
    if op == "insert_rows":
        ws.getRows().insertByIndex(edit["at"] - 1, edit["count"])
    elif op == "delete_rows":
        ws.getRows().removeByIndex(edit["at"] - 1, edit["count"])
    elif op == "insert_columns":
        ws.getColumns().insertByIndex(edit["at"] - 1, edit["count"])
    elif op == "delete_columns":
        ws.getColumns().removeByIndex(edit["at"] - 1, edit["count"])
    elif op == "set_value":
        cell = ws.getCellRangeByName(edit["cell"])
        value = edit["value"]
        if value is None:
            cell.setString("")
        elif isinstance(value, str):
            cell.setString(value)
        else:
            cell.setValue(float(value))
    elif op == "set_formula":
        ws.getCellRangeByName(edit["cell"]).setFormula(edit["formula"])
    elif op == "copy_range":
        source = ws.getCellRangeByName(edit["source"]).getRangeAddress()
        ws.copyRange(ws.getCellRangeByName(edit["to"]).getCellAddress(), source)
    else:
        raise RuntimeError(f"unknown edit {op!r}")


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        job = json.load(handle)
    deadline = time.monotonic() + job["timeout"]
    pipe = f"gpuval_uno_{os.getpid()}"
    proc, desktop = connect(job["soffice"], job["profile"], pipe, deadline)
    try:
        doc = desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(job["src"]), "_blank", 0, props(Hidden=True)
        )
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {job['src']}")
        for edit in job["edits"]:
            apply(doc, edit)
        doc.calculateAll()
        doc.storeToURL(
            uno.systemPathToFileUrl(job["dst"]),
            props(FilterName="Calc MS Excel 2007 XML", Overwrite=True),
        )
        doc.close(True)
    finally:
        with contextlib.suppress(Exception):  # the connection drops as LibreOffice quits
            desktop.terminate()
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # one line for the caller; the traceback is noise there
        sys.stderr.write(f"uno_edit: {type(exc).__name__}: {exc}\n")
        sys.exit(1)
