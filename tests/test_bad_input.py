"""Every class of bad input from issue #13 is refused at once: one line naming the
file (or flag), the key and the problem, exit code 2, nothing run, nothing written.
The loader and the flags are also fuzzed (tests/test_bad_input_fuzz.py)."""

from __future__ import annotations

import io
import os
import sqlite3
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from paxsim.cli import main
from paxsim.limits import MAX_BATCH_REQUESTS, MAX_SERVERS, MAX_TIME, MIN_PERIOD
from paxsim.protocols import UnknownProtocol, load_protocol
from paxsim.scenario import from_dict

ROOT = Path(__file__).resolve().parent.parent
FIG01 = str(ROOT / "scenarios" / "fig01.toml")

BASE = """
description = "test"
protocol = "PROTO"
servers = 3
[[clients]]
name = "C1"
requests = [{id = "m1", at = 0.0}]
"""


def cli(*argv: str) -> tuple[int, str, str]:
    """Run the paxsim command in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            rc = main(list(argv))
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 2
    return rc, out.getvalue(), err.getvalue()


def files(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


def refused(tmp_path: Path, text: str, *flags: str, name: str = "bad.toml", proto: str = "paxos",
            expect: str = "") -> str:
    """Write ``text`` as a scenario, run it; assert one line, exit 2, nothing written."""
    p = tmp_path / name
    p.write_text(text.replace("PROTO", proto), encoding="utf-8")
    before = files(tmp_path)
    t0 = time.perf_counter()
    rc, out, err = cli("run", str(p), "--events", "0", *flags)
    took = time.perf_counter() - t0
    assert rc == 2, (rc, out, err)
    assert out == "" and err.count("\n") == 1 and err.startswith("paxsim: error: "), err
    assert expect in err, err
    assert files(tmp_path) == before, "a refused run wrote something"
    assert took < 5.0, f"refusal took {took:.1f} s"
    return err


# ---------------------------------------------------------------- tracebacks ---

@pytest.mark.parametrize("spec, expect", [
    ("", "empty protocol name"),
    (":Paxos", "names no module before the colon"),
    (".paxos:Paxos", "relative module path"),
    ("paxsim..protocols:Paxos", "is not a module path"),
    ("paxsim.protocols.paxos:", "names no class after the colon"),
    ("paxsim.protocols.paxos:Pa-xos", "is not a class name"),
    ("paxsim.protocols.paxos:Nope", "has no class 'Nope'"),
    ("paxsim.protocols.nope:Paxos", "cannot import module"),
    ("paxsim.protocols.base:Replica", "is the abstract base class"),
    ("paxsim.protocols.paxos:Leader", "is not a subclass of paxsim.protocols.base.Replica"),
    ("paxsim.protocols.paxos:HEARTBEAT_TIMER", "not a class"),
    ("a:b:c", "is not a class name"),
])
def test_malformed_protocol_specs_get_one_clear_message(tmp_path, spec, expect):
    with pytest.raises(UnknownProtocol, match=expect):
        load_protocol(spec)
    text = BASE.replace('"PROTO"', '"' + spec + '"')
    refused(tmp_path, text, expect="protocol")


def test_a_protocol_with_broken_class_attributes_is_not_usable(tmp_path, monkeypatch):
    (tmp_path / "myproto.py").write_text(
        "from paxsim.protocols.base import Replica\n"
        "class Bad(Replica):\n    client_mode = 'some'\n"
        "class Boom(Replica):\n    pass\n"
        "raise_at_import = None\n")
    (tmp_path / "boom_mod.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UnknownProtocol, match="client_mode 'some'"):
        load_protocol("myproto:Bad")
    assert load_protocol("myproto:Boom").__name__ == "Boom"
    with pytest.raises(UnknownProtocol, match="RuntimeError: boom"):
        load_protocol("boom_mod:X")


def test_huge_server_count_is_refused_without_building_names(tmp_path):
    refused(tmp_path, BASE.replace("servers = 3", "servers = 1000000000"),
            expect=f"servers: must be at most {MAX_SERVERS}")


@pytest.mark.parametrize("text, expect", [
    ("a = " + "[" * 2000 + "]" * 2000 + "\n", "nested too deep"),
    ("a = " + "1" * 5000 + "\n", "not readable TOML"),
    ("a = \"\x00\"\n", "not valid TOML"),
    ("description = 'x'\n\xff\n", "not UTF-8"),
])
def test_any_parser_failure_is_one_line_naming_the_file(tmp_path, text, expect):
    p = tmp_path / "bad.toml"
    p.write_bytes(text.encode("utf-8", "surrogateescape") if "\xff" not in text else text.encode("latin-1"))
    rc, out, err = cli("run", str(p))
    assert rc == 2 and err.count("\n") == 1 and str(p) in err and expect in err, err


def test_sweep_with_too_many_seeds_is_refused_before_the_database_exists(tmp_path):
    db = tmp_path / "r.sqlite"
    for seeds in ("99999999999999999999999", "0:99999999999999999", "5:" + "9" * 30):
        rc, _, err = cli("sweep", "--protocols", "paxos", "--seeds", seeds, "--db", str(db), "--workers", "1")
        assert rc == 2 and err.count("\n") == 1 and "--seeds" in err, err
        assert not db.exists()


# --------------------------------------------------------------------- hangs ---

@pytest.mark.parametrize("edit, key", [
    ('description = "test"\nuntil = 1e308', "until"),
    ('description = "test"\nsettle = 1e308', "settle"),
    ('at = 0.0}]', "clients[0].requests[0].at"),
])
def test_times_beyond_the_horizon_are_refused(tmp_path, edit, key):
    text = BASE
    if edit.startswith("at"):
        text = text.replace("at = 0.0}]", "at = 1e308}]")
    else:
        text = text.replace('description = "test"', edit)
    refused(tmp_path, text, expect=f"{key}: must be at most {MAX_TIME:g}")


def test_an_interval_whose_multiples_overflow_is_refused(tmp_path):
    text = BASE.replace('[{id = "m1", at = 0.0}]', "{count = 1000, interval = 1e306}")
    refused(tmp_path, text, expect="clients[0].requests.interval")
    text = BASE.replace('[{id = "m1", at = 0.0}]', "{count = 1000, interval = 1e5}")
    refused(tmp_path, text, expect="the last request would be due at")


@pytest.mark.parametrize("param, value, expect", [
    ("heartbeat", "1e-300", "params.heartbeat: must be at least"),
    ("retransmit", "1e-300", "params.retransmit: must be at least"),
    ("heartbeat", "0.005", "1/100 of the network's mean delay"),
    ("heartbeat", "nan", "must be finite"),
    ("suspect", "inf", "must be finite"),
    ("backoff", "-1.0", "must not be negative"),
    ("compact", "1.5", "must be a whole number"),
    ("compact", "99999999999999999999", "must be at most"),
])
def test_protocol_params_are_checked_like_every_other_number(tmp_path, param, value, expect):
    refused(tmp_path, BASE + f"[params]\n{param} = {value}\n", expect=expect)


def test_a_tiny_resend_interval_is_refused(tmp_path):
    text = BASE.replace('at = 0.0}]', 'at = 0.0}]\nretry = 1e-300')
    refused(tmp_path, text, expect="clients[0].retry: must be at least")
    assert MIN_PERIOD > 0


# ------------------------------------------------------- silently accepted ---

def test_a_targeted_fault_on_a_kind_the_protocol_never_sends_is_refused(tmp_path):
    one = BASE.replace("servers = 3", "servers = 1")
    err = refused(tmp_path, one + '[[faults]]\ndrop = {type = "PREP"}\n', proto="single_server",
                  expect="faults[0].drop.type")
    assert "never sends a 'PREP'" in err and "REQ, REPLY" in err
    refused(tmp_path, BASE + '[[faults]]\ndrop = {type = "ACCEPT"}\n', expect="its kinds: REQ, REPLY, ACC")
    # a kind it does send is fine, and the same dict from a program is normalized, not refused
    d = {"description": "x", "protocol": "single_server", "servers": 1,
         "clients": [{"name": "C1", "requests": [{"id": "m1", "at": 0.0}]}],
         "faults": [{"drop": {"type": "PREP"}}, {"drop": {"type": "REPLY"}}]}
    assert [f.match for f in from_dict(d).faults] == [{"type": "REPLY"}]


def test_every_builtin_protocol_declares_the_kinds_it_sends():
    from paxsim.protocols import BUILTIN

    for name in BUILTIN:
        kinds = load_protocol(name).message_kinds
        assert kinds is not None and {"REQ", "REPLY"} <= set(kinds), name


@pytest.mark.parametrize("faults, key, expect", [
    ("at = 5.0\nrecover = \"S2\"\n", "faults[0].recover", "S2 is not down at 5"),
    ("at = 1.0\ncrash = \"S2\"\n[[faults]]\nat = 2.0\ncrash = \"S2\"\n", "faults[1].crash", "already down at 2"),
    ("at = 1.0\ncrash = \"S2\"\n[[faults]]\nat = 2.0\nrecover = \"S2\"\n[[faults]]\nat = 3.0\nrecover = \"S2\"\n",
     "faults[2].recover", "S2 is not down at 3"),
    # listed out of time order: judged in time order
    ("at = 9.0\nrecover = \"S2\"\n[[faults]]\nat = 1.0\ncrash = \"S3\"\n[[faults]]\nat = 2.0\nrecover = \"S3\"\n",
     "faults[0].recover", "S2 is not down at 9"),
])
def test_fault_schedules_are_validated_as_a_timeline(tmp_path, faults, key, expect):
    err = refused(tmp_path, BASE + "[[faults]]\n" + faults, expect=key)
    assert expect in err


def test_a_timeline_that_makes_sense_runs(tmp_path):
    p = tmp_path / "ok.toml"
    p.write_text(BASE.replace("PROTO", "paxos") + "[[faults]]\nat = 1.0\ncrash = \"S2\"\n"
                 "[[faults]]\nat = 3.0\nrecover = \"S2\"\n[[faults]]\nat = 4.0\ncrash = \"S2\"\n"
                 # a server a message may crash can be recovered at any time
                 "[[faults]]\ncrash_after_send = {type = \"ACC\", from = \"S1\"}\n"
                 "[[faults]]\nat = 20.0\nrecover = \"S1\"\n")
    assert cli("run", str(p), "--events", "0")[0] == 0


@pytest.mark.parametrize("servers, expect", [
    ('["S1", "S\\nfake line"]', "servers[1]: must be printable"),
    ('["S1", "S\\u0000"]', "servers[1]: must be printable"),
    ('["S1", ""]', "servers[1]: must be a non-empty name"),
    ('["S1", "S1"]', "servers: names must be distinct"),
    ('["S1", "S,2"]', "must not contain ','"),
    ('["S1", " S2"]', "must not begin or end with a space"),
])
def test_process_names_are_printable_nonempty_unique(tmp_path, servers, expect):
    refused(tmp_path, BASE.replace("servers = 3", f"servers = {servers}"), expect=expect)


def test_client_names_and_descriptions_cannot_forge_report_lines(tmp_path):
    refused(tmp_path, BASE.replace('name = "C1"', 'name = "C1\\nS1: paxos outcome SAFE"'),
            expect="clients[0].name: must be printable")
    refused(tmp_path, BASE.replace('"test"', '"a\\nb"'), expect="description: must be printable")


# --------------------------------------------------------- refused too late ---

def test_output_folders_are_checked_before_anything_runs(tmp_path):
    p = tmp_path / "ok.toml"
    p.write_text(Path(FIG01).read_text())
    for flag in ("--trace", "--svg", "--png", "--pdf"):
        t0 = time.perf_counter()
        rc, _, err = cli("run", str(p), flag, str(tmp_path / "missing" / "out"))
        assert rc == 2 and f"{flag}: " in err and "does not exist" in err, err
        assert time.perf_counter() - t0 < 5.0
        rc, _, err = cli("run", str(p), flag, str(tmp_path))
        assert rc == 2 and "is a folder" in err, err
    assert sorted(os.listdir(tmp_path)) == ["ok.toml"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to any folder")
def test_an_unwritable_output_folder_is_refused(tmp_path):  # pragma: no cover - CI runs as a user
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    rc, _, err = cli("run", FIG01, "--trace", str(ro / "t.jsonl"))
    assert rc == 2 and "not writable" in err


def test_the_output_check_is_one_reusable_helper(tmp_path):
    from paxsim.cli import UsageError
    from paxsim.outputs import check_flag, check_output

    check_output("--x", str(tmp_path / "f.txt"))
    check_output("--x", str(tmp_path / "new" / "deeper"), folder=True, create=True)
    for path, kw, expect in ((str(tmp_path / "no" / "f"), {}, "does not exist"), (str(tmp_path), {}, "is a folder"),
                             ("", {}, "give a file name"), ("a\0b", {}, "NUL"),
                             (str(tmp_path / "no"), {"folder": True}, "no such folder")):
        with pytest.raises(UsageError, match=expect):
            check_output("--x", path, **kw)
    assert not (tmp_path / "new").exists()
    for value, whole, expect in ((float("nan"), False, "finite"), (float("inf"), False, "finite"),
                                 (-1, True, "negative"), (10**30, True, "at most"), (1.5, True, "whole")):
        with pytest.raises(UsageError, match=f"--n: must .*{expect}"):
            check_flag("--n", value, 0, 100, whole=whole)
    assert check_flag("--n", 7, 0, 100, whole=True) == 7 and check_flag("--n", None, 0, 1) is None


def test_batch_runs_beyond_the_memory_limit_are_refused(tmp_path):
    text = BASE.replace('[{id = "m1", at = 0.0}]', f"{{count = {MAX_BATCH_REQUESTS + 1}}}")
    refused(tmp_path, text, "--no-stream", expect="too many to keep every record")


def test_compare_on_an_empty_or_foreign_file_changes_nothing(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    for db in (empty, other):
        before = db.read_bytes()
        listing = sorted(os.listdir(tmp_path))
        rc, _, err = cli("compare", "--db", str(db), "--no-plots")
        assert rc == 2 and "not a paxsim results database" in err, err
        assert db.read_bytes() == before and sorted(os.listdir(tmp_path)) == listing


def test_draw_on_a_malformed_trace_names_the_file_and_line(tmp_path):
    trace = tmp_path / "t.jsonl"
    assert cli("run", FIG01, "--trace", str(trace))[0] == 0
    lines = trace.read_text().splitlines()
    bad = tmp_path / "bad.jsonl"
    for k, old, new in ((3, '"t":', '"t":"x","u":'), (5, '"src":"', '"src":["x"],"was":"'),
                        (2, '"ev":"', '"groups":7,"ev":"partition","old":"')):
        broken = list(lines)
        broken[k] = broken[k].replace(old, new, 1)
        bad.write_text("\n".join(broken) + "\n")
        rc, _, err = cli("draw", str(bad))
        assert rc == 2 and err.count("\n") == 1 and f"{bad}: line {k + 1}:" in err, err
    bad.write_text(lines[0] + "\n" + "[" * 5000 + "\n")
    rc, _, err = cli("draw", str(bad))
    assert rc == 2 and f"{bad}: line 2:" in err and "nested too deep" in err, err


def test_bad_flag_values_are_one_line(tmp_path):
    for argv in (["run", FIG01, "--seed", "x"], ["run", FIG01, "--seed", str(2**70)], ["run", FIG01, "--bogus"],
                 ["bench", "--requests", "10000000000"], ["fuzz", "--protocol", "paxos", "--seed", "-1"],
                 ["sweep", "--protocols", "paxos", "--workers", "100000"], ["draw", "x.jsonl", "--from", "nan"]):
        rc, out, err = cli(*argv)
        assert rc == 2 and err.count("\n") == 1 and "error: " in err, (argv, err)


def test_names_too_long_for_the_file_system_are_refused_up_front(tmp_path):
    long = "x" * 300
    p = tmp_path / "ok.toml"
    p.write_text(Path(FIG01).read_text())
    trace = tmp_path / "t.jsonl"
    assert cli("run", str(p), "--trace", str(trace))[0] == 0
    for argv in (["run", str(p), "--trace", str(tmp_path / long)], ["draw", str(trace), "--svg", str(tmp_path / long)],
                 ["figures", "--dir", long * 20], ["run", str(tmp_path / long)]):
        rc, _, err = cli(*argv)
        assert rc == 2 and err.count("\n") == 1, (argv[:2], err)
    assert sorted(os.listdir(tmp_path)) == ["ok.toml", "t.jsonl"]


def test_a_sweep_whose_scenarios_the_loader_refuses_is_refused_before_the_database(tmp_path):
    db = tmp_path / "r.sqlite"
    rc, _, err = cli("sweep", "--protocols", "paxos", "--delay", "1000", "--seeds", "1", "--workers", "1",
                     "--db", str(db), "--no-progress")
    assert rc == 2 and err.count("\n") == 1 and "params.heartbeat: must be at least 10" in err, err
    assert not db.exists()


def test_a_run_with_nothing_to_draw_is_no_refusal(tmp_path):
    p = tmp_path / "quiet.toml"
    p.write_text('description = "no clients"\nprotocol = "single_server"\nservers = 1\n')
    rc, out, err = cli("run", str(p), "--diagram", "--events", "0")
    assert rc == 0 and "outcome SAFE" in out and "no diagram written" in err, (rc, err)


def test_an_oversized_scenario_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    import paxsim.scenario as scenario

    p = tmp_path / "big.toml"
    p.write_text(Path(FIG01).read_text())
    monkeypatch.setattr(scenario, "MAX_FILE_BYTES", 100)
    rc, _, err = cli("run", str(p))
    assert rc == 2 and err == f"paxsim: error: {p}: too large ({p.stat().st_size:,} bytes; at most 100)\n", err


def test_an_empty_file_name_is_named_as_such():
    for argv in (["run", "", FIG01], ["draw", ""]):
        rc, _, err = cli(*argv)
        assert rc == 2 and err.startswith("paxsim: error: '': an empty file name"), err


def test_blank_names_are_quoted_and_csv_names_are_checked(tmp_path):
    rc, _, err = cli("run", " ", FIG01)
    assert rc == 2 and err == "paxsim: error: ' ': no such file\n", err
    db = tmp_path / "r.sqlite"
    assert cli("sweep", "--protocols", "single_server", "--servers", "1", "--seeds", "1", "--workload", "1x1",
               "--workers", "1", "--no-progress", "--db", str(db))[0] == 0
    listing = sorted(os.listdir(tmp_path))
    for csv, expect in ((str(tmp_path / ("x" * 300)), "at most 255 bytes"), (str(tmp_path), "is a folder"),
                        (str(db / "x.csv"), "exists and is not a folder")):
        rc, _, err = cli("compare", "--db", str(db), "--no-plots", "--csv", csv)
        assert rc == 2 and expect in err, err
    assert sorted(os.listdir(tmp_path)) == listing
    rc, out, _ = cli("compare", "--db", str(db), "--no-plots", "--csv", str(tmp_path / "new" / "rows.csv"))
    assert rc == 0 and (tmp_path / "new" / "rows.csv").exists()


def test_leaving_out_no_op_faults_is_stable():
    """A targeted crash on a kind the protocol never sends crashes nobody, so the
    recovery after it is a no-op too: both go, and writing the scenario back and
    reading it again changes nothing more."""
    import tomllib

    d = {"description": "x", "protocol": "uncoordinated", "servers": 2,
         "clients": [{"name": "C1", "requests": [{"id": "m1", "at": 0.0}]}],
         "faults": [{"crash_after_send": {"type": "ACC", "from": "S1"}}, {"at": 10.0, "recover": "S1"}]}
    sc = from_dict(d)
    assert sc.faults == ()
    assert from_dict(tomllib.loads(sc.to_toml())).to_toml() == sc.to_toml()


def test_schedule_steps_follow_the_number_rules(tmp_path):
    """A [[schedule]] step's time is a time like any other: finite, not negative,
    within MAX_TIME; a schedule written by paxsim check (retry = 0.0, mode) loads."""
    good = BASE.replace("PROTO", "uncoordinated") + 'mode = "all"\nretry = 0.0\n'
    for at, problem in ((MAX_TIME * 10, f"at most {MAX_TIME:g}"), ("nan", "must be finite"),
                        (-1.0, "must not be negative")):
        p = tmp_path / "s.toml"
        p.write_text(good + f"[[schedule]]\nat = {at}\ncrash = \"S1\"\n")
        rc, _, err = cli("run", str(p))
        assert rc == 2 and err.count("\n") == 1 and "schedule[0].at: " in err and problem in err, err
    p.write_text(good + "[[schedule]]\nat = 1.0\ncrash = \"S1\"\n")
    assert cli("run", str(p), "--events", "0")[0] in (0, 1)
