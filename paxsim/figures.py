"""The tutorial's figures as scenarios: finding, ordering and replaying them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from .driver import RunResult, run_scenario
from .data import folder
from .scenario import Scenario, load

SCENARIO_DIR = folder("scenarios")  # shipped with paxsim: see paxsim/data
_FIG = re.compile(r"^fig(\d+)(.*)$")


def figure_key(fig_id: str) -> tuple:
    """Order as in figures.md: fig03 < fig03-lost < fig04; fig12a < fig12b < fig12-promise."""
    m = _FIG.match(fig_id)
    if not m:
        return (10**6, 1, fig_id)
    num, suffix = int(m.group(1)), m.group(2)
    return (num, 0 if not suffix else (2 if suffix.startswith("-") else 1), suffix)


def figure_files(folder: Optional[Path] = None) -> list[Path]:
    folder = SCENARIO_DIR if folder is None else Path(folder)
    files = [p for p in folder.glob("fig*.toml") if _FIG.match(p.stem)]
    return sorted(files, key=lambda p: figure_key(p.stem))


def load_figures(folder: Optional[Path] = None) -> list[Scenario]:
    return [load(p) for p in figure_files(folder)]


def replay(scenario: Scenario) -> RunResult:
    return run_scenario(scenario)
