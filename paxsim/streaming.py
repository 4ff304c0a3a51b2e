"""Kept for imports: the streaming checker lives in :mod:`paxsim.checker.stream`."""

from .checker.stream import StreamChecker

__all__ = ["StreamChecker"]
