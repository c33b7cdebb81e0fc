"""One module per worksheet: its layout, its Excel formulas, and beside them the Python
(``compute``) that evaluates the same quantities through :mod:`gpuval.core`.

Build order = :data:`SHEETS`; every module offers ``write(book)`` and, where the sheet holds
headline quantities, ``compute(v)`` which adds them to the dict ``v`` of named values.
"""
