"""paxsim: a deterministic discrete-event simulator for "Paxos Explained from Scratch".

The public API::

    from paxsim import load_scenario, run_scenario
    result = run_scenario(load_scenario("scenarios/fig05.toml"))
    result.outcome, result.verdict.violations, result.trace_digest()
"""

from .checker import Verdict, Violation, check
from .driver import RunResult, run_scenario
from .history import History
from .protocols import BUILTIN as PROTOCOLS
from .protocols import Replica, load_protocol
from .scenario import Scenario, ScenarioError, from_dict as scenario_from_dict, load as load_scenario

__all__ = [
    "PROTOCOLS",
    "History",
    "Replica",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Verdict",
    "Violation",
    "check",
    "load_protocol",
    "load_scenario",
    "run_scenario",
    "scenario_from_dict",
]
__version__ = "0.1.0"
