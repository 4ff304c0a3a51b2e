"""Metrics of one run: hand-computed values on tiny scenarios and hand-made numbers."""

from __future__ import annotations

import pytest

from paxsim import run_scenario, scenario_from_dict
from paxsim.metrics import METRIC_NAMES, percentile
from paxsim.sim.clients import ClientMetrics


def one_request(protocol: str, servers: int, faults=(), requests=(("m1", 0.0),)) -> dict:
    sc = scenario_from_dict({
        "description": "metrics", "protocol": protocol, "servers": servers, "network": {"delay": 1.0},
        "clients": [{"name": "C1", "requests": [{"id": i, "at": t} for i, t in requests]}],
        "faults": list(faults),
    })
    r = run_scenario(sc, record_trace=False)
    assert r.trace is None
    return r.metrics()


def test_single_server_one_request_two_messages_latency_two():
    m = one_request("single_server", 1)
    assert m["requests_sent"] == m["requests_completed"] == 1
    assert m["messages_sent"] == m["messages_delivered"] == 2
    assert m["sent_by_type"] == {"REPLY": 1, "REQ": 1}
    assert m["messages_per_request"] == 2.0
    assert m["latency_mean"] == m["latency_p50"] == m["latency_p99"] == m["latency_max"] == 2.0
    assert m["throughput"] == pytest.approx(1 / 2.0)   # one completion over the span 0..2
    assert m["unavailable_time"] == 0.0 and m["outages"] == 0 and m["max_gap"] == 2.0
    assert m["outcome"] == "SAFE" and m["violations"] == 0 and m["violated"] == ""
    assert set(m) == set(METRIC_NAMES)


def test_send_accept_two_servers_five_messages_per_request():
    # C1 -> S1, S2 (2 REQ); S1 -> S2 ACC (1); both reply (2 REPLY); the first reply at t=2
    m = one_request("send_accept", 2)
    assert m["sent_by_type"] == {"ACC": 1, "REPLY": 2, "REQ": 2}
    assert m["messages_per_request"] == 5.0
    assert m["latency_max"] == 2.0
    assert m["heartbeats"] == 0


def test_two_sequential_requests_throughput_and_percentiles():
    # closed loop: m2 is due at 0 but goes when m1 is answered (t=2); answered at 4
    m = one_request("single_server", 1, requests=(("m1", 0.0), ("m2", 0.0)))
    assert m["requests_completed"] == 2
    assert m["latency_mean"] == 2.0
    assert m["throughput"] == pytest.approx(2 / 4.0)
    assert m["messages_per_request"] == 2.0


def test_lost_request_counts_as_unavailable_time():
    # drop the first REQ: the client resends after retry=20 (the scenario default), answered at 22
    sc = scenario_from_dict({
        "description": "lost request", "protocol": "single_server", "servers": 1, "network": {"delay": 1.0},
        "clients": [{"name": "C1", "requests": [{"id": "m1", "at": 0.0}]}],
        "faults": [{"drop": {"type": "REQ"}, "nth": 1}],
    })
    m = run_scenario(sc, record_trace=False).metrics()
    assert m["latency_max"] == 22.0
    assert m["messages_dropped"] == 1 and m["dropped_by_type"] == {"REQ": 1}
    assert m["messages_per_request"] == 3.0     # REQ (lost), REQ again, REPLY
    assert m["unavailable_time"] == 22.0 and m["outages"] == 1 and m["max_gap"] == 22.0


def test_leader_changes_counted_from_log_effects():
    # wait_for_learn_majority: S1 leads from the start; after S1 crashes, S2 takes over
    calm = one_request("wait_for_learn_majority", 3)
    assert calm["leader_changes"] == 1
    crash = one_request("wait_for_learn_majority", 3, faults=[{"at": 5.0, "crash": "S1"}])
    assert crash["leader_changes"] == 2
    assert crash["heartbeats"] > 0
    assert crash["messages_per_request"] == (crash["messages_sent"] - crash["heartbeats"]) / 1


def test_violations_counted_on_the_uncoordinated_figure():
    from paxsim import load_scenario

    r = run_scenario(load_scenario("scenarios/fig02.toml"), record_trace=False)
    m = r.metrics()
    assert m["outcome"] == "UNSAFE"
    assert m["violations"] == len(r.verdict.violations) + sum(n for _, n in r.verdict.omitted) >= 2
    assert m["violated"].split(",")[0] == "prefix_chain"
    assert "replica_agreement" in m["violated"].split(",")


# ---- unavailability on hand-made numbers -------------------------------------------------

def test_unavailability_docstring_example():
    cm = ClientMetrics(threshold=10.0)
    cm.invoked(0.0)
    cm.completed(2.0, 2.0)      # gap 0..2: 2, ordinary latency
    cm.invoked(5.0)
    cm.completed(25.0, 20.0)    # gap 5..25: 20 > 10, an outage
    cm.invoked(30.0)
    cm.close(100.0)             # pending 30..100 with no completion: 70
    assert cm.unavailable == 90.0
    assert cm.outages == 2
    assert cm.max_gap == 70.0
    assert list(cm.latencies) == [2.0, 20.0]
    assert cm.first_invocation == 0.0 and cm.last_completion == 25.0


def test_unavailability_gap_spans_overlapping_requests():
    # two clients: a pending from 0, b pending from 4; completions at 15 (a) and 18 (b)
    cm = ClientMetrics(threshold=10.0)
    cm.invoked(0.0)
    cm.invoked(4.0)             # no new gap: one is already open since 0
    cm.completed(15.0, 15.0)    # gap 0..15 (15) counts
    cm.completed(18.0, 14.0)    # gap 15..18 (3) is below the threshold
    cm.close(50.0)              # nothing pending: nothing added
    assert cm.unavailable == 15.0 and cm.outages == 1 and cm.max_gap == 15.0
    assert cm.pending == 0


def test_gap_equal_to_threshold_is_not_an_outage():
    cm = ClientMetrics(threshold=10.0)
    cm.invoked(0.0)
    cm.completed(10.0, 10.0)
    assert cm.unavailable == 0.0 and cm.outages == 0 and cm.max_gap == 10.0


def test_percentile_nearest_rank():
    assert percentile([], 0.5) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
