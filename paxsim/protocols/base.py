"""The replica interface every protocol implements.

A replica is a pure, sans-IO state machine (in the spirit of h11's ``Connection``
and etcd-raft's ``Step``): the simulator hands it one input at a time, always with
the current simulated time ``now``, and it answers with a list of effects (data,
see :mod:`paxsim.types`): messages to send, timers to set or cancel, requests it
executed, replies to clients, values to persist. It never touches a clock, a
random generator, the network or a file, so the same inputs always give the same
outputs and a test can drive it by hand.

Inputs::

    on_start(now)                 the run begins (or the process is new)
    on_message(now, src, msg)     a message arrived from process ``src``
    on_timer(now, name)           the timer ``name`` fired
    on_recover(now, stored)       the process restarts after a crash: it is a fresh
                                  instance, given only what it persisted

A crash needs no input: the simulator drops the instance and its timers.

Optional, for the viewer (``paxsim run --html``)::

    inspect(now) -> dict          what the replica knows at time ``now``, as plain
                                  data; it must not change the replica

``inspect`` is only called when a view is asked for (the run is replayed with
every replica observed after each input), so it costs nothing otherwise. A
protocol without it still shows its messages. Values are str, int, float, bool,
None, lists of those, or dicts of those keyed by str or int (a dict is shown and
stored entry by entry, so a growing log costs one entry per step). The stages
use these keys: ``role`` (leader, candidate, follower), ``leader`` (whom it
follows), ``promised`` (highest round promised), ``accepted`` (slot -> "(round,
request)"), ``log`` (slot -> request ordered or chosen), ``executed`` (the service
state, e.g. ``s^12``), ``suspects`` (peers it suspects now).

Class attributes tell the simulator and checker about the protocol:

``params``        parameter name -> default value (the type of the default is the
                  type required); scenario files set them under ``[params]``.
``client_mode``   how clients address requests: ``"all"`` (every server) or
                  ``"one"`` (one server at a time, the next one on a timeout).
``min_servers``, ``max_servers``  how many servers the protocol can run with.
``quorum(n)``     how many connected, up servers a request needs to be answered.
``catch_up``      whether every up server connected to the others is expected to
                  end with everything they executed (judged as liveness).
``param_ranges``  parameter name -> :class:`ParamRange` (the range of a number;
                  ``period``: it repeats, so it must also be at least 1/100 of the
                  network's mean delay, see :mod:`paxsim.limits`). A numeric
                  parameter not listed may lie in [0, MAX_TIME] (a whole number:
                  [0, MAX_COUNT]). The base lists the stages' common parameters.
``message_kinds`` the ``kind`` of every message the protocol may send (client
                  requests and replies included), e.g. ``("REQ", "REPLY", "ACC")``:
                  a scenario's targeted fault must name one of them. ``None``
                  (not declared): targeted faults are not checked.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, NamedTuple, Optional, Sequence

from ..limits import MAX_COUNT, MAX_TIME, number_problem, period_problem, show
from ..types import Effect, Message, ProcessId


class ParamError(ValueError):
    """A protocol parameter is unknown, of the wrong type or out of range."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class ParamRange(NamedTuple):
    """The range of a numeric parameter: ``[low, high]`` (``above``: ``(low, high]``);
    ``period``: the interval of something that repeats (see :meth:`Replica.check_timing`)."""

    low: float = 0.0
    high: float = MAX_TIME
    above: bool = False
    period: bool = False


class Replica:
    name: ClassVar[str] = "replica"
    params: ClassVar[dict[str, Any]] = {}
    client_mode: ClassVar[str] = "one"
    min_servers: ClassVar[int] = 1
    max_servers: ClassVar[Optional[int]] = None
    catch_up: ClassVar[bool] = True
    param_ranges: ClassVar[dict[str, ParamRange]] = {
        "heartbeat": ParamRange(above=True, period=True),
        "retransmit": ParamRange(above=True, period=True),
        "suspect": ParamRange(above=True),
        "backoff": ParamRange(),
        "compact": ParamRange(0, MAX_COUNT),
    }
    message_kinds: ClassVar[Optional[tuple[str, ...]]] = None
    constant_attributes: ClassVar[tuple[str, ...]] = ("pid", "servers", "peers", "rank", "p")
    """Attributes never changed after ``__init__``: the exhaustive checker
    (:mod:`paxsim.explore`) shares them between states and leaves them out of a
    state's identity. A subclass that sets more such attributes may list them too."""

    def __init__(self, pid: ProcessId, servers: Sequence[ProcessId], params: Mapping[str, Any]):
        self.pid = pid
        self.servers = tuple(servers)
        self.peers = tuple(s for s in self.servers if s != pid)
        self.rank = self.servers.index(pid) + 1 if pid in self.servers else 0
        self.p = params  # validated, with defaults filled in

    # ---- describing the protocol -------------------------------------------------
    @classmethod
    def quorum(cls, n: int) -> int:
        return n // 2 + 1

    @classmethod
    def check_params(cls, given: Mapping[str, Any], n_servers: int) -> dict[str, Any]:
        """Defaults merged with ``given``; raises :class:`ParamError` on bad input."""
        out = dict(cls.params)
        for key, value in given.items():
            if key not in cls.params:
                known = ", ".join(sorted(cls.params)) or "none"
                raise ParamError(key, f"unknown parameter for protocol {cls.name} (known: {known})")
            default = cls.params[key]
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ParamError(key, f"must be true or false, not {show(value)}")
            elif isinstance(default, (int, float)):
                whole = isinstance(default, int)
                r = cls.param_ranges.get(key) or ParamRange(0, MAX_COUNT if whole else MAX_TIME)
                problem = number_problem(value, r.low, r.high, whole=whole, above=r.above)
                if problem:
                    raise ParamError(key, problem)
            elif default is not None and not isinstance(value, type(default)):
                raise ParamError(key, f"must be a {type(default).__name__}, not {show(value)}")
            out[key] = value
        if n_servers < cls.min_servers:
            raise ParamError("servers", f"protocol {cls.name} needs at least {cls.min_servers} servers, got {n_servers}")
        if cls.max_servers is not None and n_servers > cls.max_servers:
            raise ParamError("servers", f"protocol {cls.name} runs with at most {cls.max_servers} servers, got {n_servers}")
        return out

    @classmethod
    def check_timing(cls, params: Mapping[str, Any], delay: float) -> None:
        """Raises :class:`ParamError` if a repeating parameter (``period`` in
        :attr:`param_ranges`) is too short for a network whose mean delay is ``delay``."""
        for key in sorted(params):
            r = cls.param_ranges.get(key)
            value = params[key]
            if r is not None and r.period and isinstance(value, (int, float)) and not isinstance(value, bool):
                problem = period_problem(value, delay)
                if problem:
                    raise ParamError(key, problem)

    # ---- inputs --------------------------------------------------------------------
    def on_start(self, now: float) -> list[Effect]:
        return []

    def on_message(self, now: float, src: ProcessId, msg: Message) -> list[Effect]:
        return []

    def on_timer(self, now: float, name: str) -> list[Effect]:
        return []

    def on_recover(self, now: float, stored: Mapping[str, Any]) -> list[Effect]:
        return self.on_start(now)
