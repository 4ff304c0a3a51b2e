"""The tutorial's figures as scenarios: finding, ordering and replaying them."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from .driver import RunResult, run_scenario
from .data import folder
from .protocols import load_protocol
from .scenario import Scenario, from_dict, load

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


# ------------------------------------------------------------------ ablation ---
#
# Every figure's claim, tested by changing the one thing the text blames: for an
# UNSAFE or STUCK figure, remove (or move) the decisive fault and the run turns
# SAFE; for a SAFE figure that shows a fix, the stage before it fails on the same
# scenario (or a minimally changed one, said in ``what``).

@dataclass(frozen=True)
class Ablation:
    what: str                       # what was removed or changed, in words
    change: Callable[[dict], dict]  # the figure's scenario (as a dict) -> the changed one
    expected: str                   # the outcome the changed run must have


def without_faults(*kinds_and_matches: tuple) -> Callable[[dict], dict]:
    """Remove the faults of a kind whose fields include the given ones, e.g.
    ``("crash_after_receive", {"to": "S3"})`` or ``("crash", {"crash": "S3"})``."""
    def change(d: dict) -> dict:
        d = copy.deepcopy(d)
        keep = []
        for f in d.get("faults", []):
            hit = False
            for kind, fields in kinds_and_matches:
                if kind in f:
                    body = f[kind] if isinstance(f[kind], dict) else f
                    if all(body.get(k) == v or f.get(k) == v for k, v in fields.items()):
                        hit = True
            if not hit:
                keep.append(f)
        d["faults"] = keep
        return d
    return change


def under(protocol: str, then: Optional[Callable[[dict], dict]] = None) -> Callable[[dict], dict]:
    """The same scenario under another stage (its parameters kept where it has them)."""
    def change(d: dict) -> dict:
        d = copy.deepcopy(d if then is None else then(d))
        d["protocol"] = protocol
        known = load_protocol(protocol).params
        d["params"] = {k: v for k, v in d.get("params", {}).items() if k in known}
        return d
    return change


def _same_delays(d: dict) -> dict:
    d = copy.deepcopy(d)
    d["network"]["links"] = []
    d["network"]["delay"] = {"dist": "constant", "value": 1.0}
    return d


def _fig06_with_fig05_crash(d: dict) -> dict:
    d = copy.deepcopy(d)
    d.setdefault("faults", []).append({"crash_after_send": {"type": "REPLY", "from": "S1", "to": "C1"}, "nth": 1})
    return d


def _fig09a_schedule(d: dict) -> dict:
    d = load(SCENARIO_DIR / "fig09a.toml").to_dict()
    d["protocol"] = "wait_for_learn_majority"
    return d


def _fig08_two_servers(d: dict) -> dict:
    d = copy.deepcopy(d)
    d["servers"] = ["S1", "S2"]
    for f in d.get("faults", []):
        if "partition" in f:
            f["partition"] = [[p for p in g if p != "S3"] for g in f["partition"]]
    return d


ABLATIONS: dict[str, Ablation] = {
    "fig02": Ablation("every link takes 1 (no slow crossing links): both servers receive m1 first",
                      _same_delays, "SAFE"),
    "fig03": Ablation("the stage before, Uncoordinated", under("uncoordinated"), "UNSAFE"),
    "fig03-lost": Ablation("the lost <ACC, m2, 1> delivered", without_faults(("drop", {"type": "ACC"})), "SAFE"),
    "fig04": Ablation("the stage before, SendAccept (no retransmission)", under("send_accept"), "STUCK"),
    "fig05": Ablation("S1 does not crash after replying", without_faults(("crash_after_send", {"from": "S1"})),
                      "SAFE"),
    "fig06": Ablation("the stage before, RetransAccept with fallback, with S1 crashing after its reply as"
                      " in Fig. 5", under("retrans_accept_fallback", _fig06_with_fig05_crash), "UNSAFE"),
    "fig07": Ablation("no partition", without_faults(("partition", {})), "SAFE"),
    "fig08": Ablation("the stage before, WaitForLearn with fallback, which runs two servers: S3 left out",
                      under("wait_for_learn_fallback", _fig08_two_servers), "UNSAFE"),
    "fig09a": Ablation("S3 does not crash", without_faults(("crash_after_receive", {"to": "S3"})), "SAFE"),
    "fig09b": Ablation("S3 does not crash", without_faults(("crash_after_receive", {"to": "S3"})), "SAFE"),
    "fig10": Ablation("the stage before, majority WaitForLearn, on Fig. 9(a)'s schedule (a false detection"
                      " and S3's crash), which LeaderChange answers", _fig09a_schedule, "STUCK"),
    "fig11": Ablation("the stage before, majority WaitForLearn: S2 takes over without asking S3, orders m2"
                      " in slot 1, which S3 holds for m1", under("wait_for_learn_majority"), "STUCK"),
    "fig11-rounds": Ablation("the stage before, LeaderChange by ids", under("leader_change"), "STUCK"),
    "fig12a": Ablation("S2 (the one server that executed m1) does not crash",
                       without_faults(("crash", {"crash": "S2"})), "SAFE"),
    "fig12b": Ablation("the stage before, LeaderChange with rounds (executes on one accept; promises"
                       " without rounds)", under("leader_change_rounds"), "UNSAFE"),
    "fig12-promise": Ablation("promises carry (round, value): Paxos", under("paxos"), "SAFE"),
}


def ablate(sc: Scenario) -> Optional[tuple[Ablation, RunResult]]:
    """Run the figure's ablation (None if it has none: Fig. 1, the first stage)."""
    ab = ABLATIONS.get(sc.name)
    if ab is None:
        return None
    changed = from_dict(ab.change(sc.to_dict()), source=f"{sc.source} (ablation)", name=f"{sc.name}-ablation")
    return ab, run_scenario(changed)
