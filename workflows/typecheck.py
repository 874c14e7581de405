"""`isinstance` as Python has it, for the modules whose code runs inside workflows.

While a workflow activation runs, Temporal's sandbox swaps `builtins.isinstance` (and
`issubclass`) for a wrapper that sees through its proxies of restricted modules; the swap is
global, and each call then asks which thread it is on. Through the wrapper a call costs some
thirty times the builtin's, and the interpreter, its templates and its pure modules make well
over a hundred a run. The `workflows` package is passed through the sandbox (imported once,
outside it) and checks only its own types, the standard library's and its libraries', never a
proxy: its modules that run in workflows import this one instead of looking the builtin up
at every call (docs/fast-path.md#worker-tuning).
"""

from __future__ import annotations

# Bound once, when the module is imported (outside any sandbox): the builtin itself.
from builtins import isinstance  # noqa: UP029 (the point: a binding, not a lookup at each call)

__all__ = ["isinstance"]
