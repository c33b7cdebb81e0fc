"""The one exception type an analyst ever sees from gpuval.

Every failure caused by bad input (a malformed dataset, a wrong argument, a corrupt file) is raised
as :class:`GpuvalError` whose message is one sentence naming the file, record or cell and what is
wrong. The CLI prints that sentence and exits non-zero; it never shows a traceback.
"""


class GpuvalError(Exception):
    """A user-facing error: ``str(err)`` is one complete sentence."""
