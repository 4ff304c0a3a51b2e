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
from .limits import number_problem, printable, shown_path


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
    writable. ``create``: the command makes a missing folder (the folder itself,
    or a file's folder), so the nearest existing folder above it must be writable.
    Names longer than the file system allows are refused too. ``None`` (flag not
    given) passes."""
    if path is None:
        return
    shown = shown_path(path)
    if not path:
        raise UsageError(f"{flag}: give a {'folder' if folder else 'file'} name")
    if "\0" in path:
        raise UsageError(f"{flag}: {shown}: a path cannot contain a NUL character")
    full = os.path.abspath(path)
    longest = max(len(os.fsencode(part)) for part in full.split(os.sep))
    if longest > NAME_MAX:
        raise UsageError(f"{flag}: {shown[:80]}...: a file or folder name is at most {NAME_MAX} bytes, "
                         f"this one has {longest}")
    where = full if folder else os.path.dirname(full)
    if os.path.exists(where):
        if not os.path.isdir(where):
            raise UsageError(f"{flag}: {shown}: {printable(where)} exists and is not a folder")
        if not _writable_dir(where):
            raise UsageError(f"{flag}: {shown}: folder {printable(where)} is not writable")
    elif not create:
        raise UsageError(f"{flag}: {shown}: {'no such folder' if folder else f'folder {printable(where)} does not exist'}")
    else:
        above = os.path.dirname(where)
        while not os.path.exists(above):
            above = os.path.dirname(above)
        if not _writable_dir(above):
            raise UsageError(f"{flag}: {shown}: cannot create {printable(where)} in {printable(above)} "
                             "(not a writable folder)")
    if folder:
        return
    if os.path.isdir(full):
        raise UsageError(f"{flag}: {shown} is a folder")
    if os.path.exists(full) and not os.access(full, os.W_OK):
        raise UsageError(f"{flag}: {shown}: file is not writable")
