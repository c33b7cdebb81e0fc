"""The workbook: template, one module per worksheet, the typed model, build and evaluate."""
