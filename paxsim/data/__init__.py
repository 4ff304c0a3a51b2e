"""The files paxsim ships besides its code: the tutorial's figure scenarios
(``scenarios/``), the examples (``examples/``) and the experiments (``experiments/``).

In a source checkout (or an editable install) they are the folders of those
names next to ``paxsim/``. A built wheel (or a plain ``pip install .``) carries
them as package data under ``paxsim/data/`` (``setup.py`` maps the folders
there), found with :mod:`importlib.resources`. So every command of the README
works from any folder::

    folder("scenarios")              # the figure scenarios, wherever paxsim is
    resolve("scenarios/fig02.toml")  # that path if it exists here, else the shipped file
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

FOLDERS: tuple[str, ...] = ("scenarios", "examples", "experiments")


def folder(name: str) -> Path:
    """The folder ``name`` (one of :data:`FOLDERS`) that this paxsim ships."""
    if name not in FOLDERS:
        raise ValueError(f"paxsim ships no folder {name!r} (it ships: {', '.join(FOLDERS)})")
    packaged = importlib.resources.files(__name__) / name
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / name  # a source checkout


def root() -> Path:
    """The folder holding :data:`FOLDERS` (``examples.MODULE:Class`` resolves from here)."""
    return folder("examples").parent


def resolve(path: str | Path) -> Path:
    """``path`` if it exists; else, for a relative ``scenarios/...``, ``examples/...``
    or ``experiments/...``, the file paxsim ships under that name if there is one;
    else ``path`` unchanged (so that loading it reports it missing)."""
    p = Path(path)
    try:
        if p.exists() or p.is_absolute() or not p.parts or p.parts[0] not in FOLDERS:
            return p
        shipped = folder(p.parts[0]).joinpath(*p.parts[1:])
        return shipped if shipped.exists() else p
    except OSError:  # a name too long for the file system...: loading it says so
        return p


__all__ = ["FOLDERS", "folder", "resolve", "root"]
