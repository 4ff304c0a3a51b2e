"""Up-front checks for command-line flags: numbers and output paths.

Every command calls these before it runs anything, so a bad flag is refused at
once with one line naming the flag (exit 2), and nothing is written::

    from ..outputs import check_flag, check_output

    check_flag("--seed", args.seed, 0, MAX_SEED, whole=True)
    check_output("--trace", args.trace)                  # a file: its folder exists, is writable
    check_output("--out", args.out, folder=True, create=True)   # a folder made if missing

Numbers follow :mod:`paxsim.limits` (the same rules as scenario files).
"""

from __future__ import annotations

import os
from typing import Any, Optional

from .cli import UsageError
from .limits import number_problem, printable


def check_flag(flag: str, value: Any, low: float, high: float, *, whole: bool = False,
               above: bool = False) -> Any:
    """``value`` if it lies in ``[low, high]`` (``above``: ``(low, high]``); else UsageError.
    ``None`` (flag not given) passes."""
    if value is None:
        return None
    problem = number_problem(value, low, high, whole=whole, above=above)
    if problem:
        raise UsageError(f"{flag}: {problem}")
    return value


NAME_MAX = 255
"""Bytes in one file or folder name (Linux, macOS and Windows file systems)."""


def _writable_dir(folder: str) -> bool:
    return os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)


def check_output(flag: str, path: Optional[str], *, folder: bool = False, create: bool = False) -> None:
    """Refuse, before anything runs, an output the command could not write.

    A file (``folder=False``): its folder exists and is writable, and the path is
    not a folder (nor a file that may not be written). A folder: it exists and is
    writable, or (``create``) the nearest existing folder above it is writable, so
    that the command can make it. ``None`` (flag not given) passes."""
    if path is None:
        return
    shown = printable(path)
    if not path:
        raise UsageError(f"{flag}: give a {'folder' if folder else 'file'} name")
    if "\0" in path:
        raise UsageError(f"{flag}: {shown}: a path cannot contain a NUL character")
    full = os.path.abspath(path)
    longest = max(len(os.fsencode(part)) for part in full.split(os.sep))
    if longest > NAME_MAX:
        raise UsageError(f"{flag}: {shown[:80]}...: a file or folder name is at most {NAME_MAX} bytes, "
                         f"this one has {longest}")
    if folder:
        if os.path.exists(full):
            if not os.path.isdir(full):
                raise UsageError(f"{flag}: {shown} exists and is not a folder")
            if not _writable_dir(full):
                raise UsageError(f"{flag}: {shown}: folder is not writable")
            return
        if not create:
            raise UsageError(f"{flag}: {shown}: no such folder")
        above = os.path.dirname(full)
        while not os.path.exists(above):
            above = os.path.dirname(above)
        if not _writable_dir(above):
            raise UsageError(f"{flag}: {shown}: cannot create it in {printable(above)} (not a writable folder)")
        return
    parent = os.path.dirname(full)
    if not os.path.isdir(parent):
        raise UsageError(f"{flag}: {shown}: folder {printable(parent)} does not exist")
    if not _writable_dir(parent):
        raise UsageError(f"{flag}: {shown}: folder {printable(parent)} is not writable")
    if os.path.isdir(full):
        raise UsageError(f"{flag}: {shown} is a folder")
    if os.path.exists(full) and not os.access(full, os.W_OK):
        raise UsageError(f"{flag}: {shown}: file is not writable")
