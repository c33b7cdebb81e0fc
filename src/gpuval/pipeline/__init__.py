"""Acting on workbooks: refresh, check, publish, LibreOffice recalculation, safe opening."""
