"""The checker: judge a run's records as SAFE, UNSAFE or STUCK.

- :mod:`.core`: the judgements (invariants, violations and their wording, exact
  state identity, the liveness rule), shared by both drivers;
- :mod:`.batch`: :func:`check`, all records of a finished run at once;
- :mod:`.stream`: :class:`StreamChecker`, records judged as they come, none kept.

Dependencies point one way: ``types`` <- ``history`` <- ``checker.core`` <-
``checker.batch`` / ``checker.stream``; the history imports no checker.
"""

from .batch import check
from .core import (
    INVARIANTS,
    LIVENESS_INVARIANTS,
    SAFETY_INVARIANTS,
    Verdict,
    Violation,
    judge_liveness,
)
from .stream import StreamChecker

__all__ = ["INVARIANTS", "LIVENESS_INVARIANTS", "SAFETY_INVARIANTS", "StreamChecker", "Verdict",
           "Violation", "check", "judge_liveness"]
