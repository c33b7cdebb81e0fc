"""The GPUVAL_ Excel functions (xlwings)."""
