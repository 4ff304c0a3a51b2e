"""The results database: one SQLite file, one row per (experiment, configuration, seed).

Rows are written as runs finish, in transactions of a few rows (at most
``batch`` rows or ``interval`` seconds apart), so an interrupted sweep loses at
most the last batch of a hard kill and nothing on Ctrl-C (the buffer is written
on the way out). The primary key (experiment, config, seed) makes a rerun of the
same sweep skip what is stored. Rows are always read back sorted by that key.

The configuration appears twice: as the canonical ``config`` text (part of the
key) and as columns (protocol, servers, loss, ...) for queries. Per-kind message
counts are JSON objects (``sent_by_type`` ...); :func:`export_csv` spreads them
into one column per kind (``sent_ACC`` ...).
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable, Optional

from ..metrics import BY_TYPE
from .grid import SweepError

SCHEMA_VERSION = 2
DEFAULT_DB = "paxsim-results.sqlite"

KEY_COLUMNS: tuple[tuple[str, str], ...] = (("experiment", "TEXT"), ("config", "TEXT"), ("seed", "INTEGER"))
CONFIG_COLUMNS: tuple[tuple[str, str], ...] = (
    ("protocol", "TEXT"), ("servers", "INTEGER"), ("loss", "REAL"), ("duplicate", "REAL"),
    ("delay_low", "REAL"), ("delay_high", "REAL"), ("crash_rate", "REAL"), ("partition_rate", "REAL"),
    ("clients", "INTEGER"), ("requests", "INTEGER"), ("horizon", "REAL"), ("recover", "INTEGER"),
    ("threshold", "REAL"), ("params", "TEXT"), ("code", "TEXT"), ("paxsim_version", "TEXT"),
)
RUN_COLUMNS: tuple[tuple[str, str], ...] = (("crashes", "INTEGER"), ("partitions", "INTEGER"))
METRIC_COLUMNS: tuple[tuple[str, str], ...] = (
    ("requests_sent", "INTEGER"), ("requests_completed", "INTEGER"),
    ("latency_mean", "REAL"), ("latency_p50", "REAL"), ("latency_p99", "REAL"), ("latency_max", "REAL"),
    ("messages_sent", "INTEGER"), ("messages_delivered", "INTEGER"), ("messages_dropped", "INTEGER"),
    ("messages_duplicated", "INTEGER"), ("heartbeats", "INTEGER"), ("messages_per_request", "REAL"),
    ("throughput", "REAL"),
    ("unavailable_time", "REAL"), ("outages", "INTEGER"), ("max_gap", "REAL"),
    ("leader_changes", "INTEGER"), ("end_time", "REAL"),
    ("outcome", "TEXT"), ("violations", "INTEGER"), ("violated", "TEXT"),
    ("sent_by_type", "TEXT"), ("delivered_by_type", "TEXT"), ("dropped_by_type", "TEXT"),
    ("duplicated_by_type", "TEXT"),
)
COLUMNS: tuple[str, ...] = tuple(c for c, _ in KEY_COLUMNS + CONFIG_COLUMNS + RUN_COLUMNS + METRIC_COLUMNS)


def _schema() -> str:
    cols = ",\n  ".join(f"{c} {t}" + (" NOT NULL" if (c, t) in KEY_COLUMNS else "")
                        for c, t in KEY_COLUMNS + CONFIG_COLUMNS + RUN_COLUMNS + METRIC_COLUMNS)
    return (f"CREATE TABLE IF NOT EXISTS runs (\n  {cols},\n  PRIMARY KEY (experiment, config, seed)\n)")


class ResultsDB:
    """An open results database. Use as a context manager; ``add`` rows, they are
    committed in batches; ``close`` (or leaving the ``with``) writes the rest."""

    def __init__(self, path: str, *, batch: int = 25, interval: float = 1.0, create: bool = True):
        self.path = path
        if not create and not os.path.exists(path):
            raise SweepError(f"--db: {path}: no such file")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise SweepError(f"--db: {path}: folder {folder} does not exist")
        try:
            if create:
                self.conn = sqlite3.connect(path, timeout=30.0)
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
                self._init_schema()
            else:  # reading only: open read-only, change nothing (not even an empty file); with no
                # writer (no -wal file) also make no -shm/-wal files beside it
                quiet = "&immutable=1" if not os.path.exists(path + "-wal") else ""
                self.conn = sqlite3.connect(Path(os.path.abspath(path)).as_uri() + "?mode=ro" + quiet, uri=True,
                                            timeout=30.0)
                self._check_schema()
        except sqlite3.DatabaseError as exc:
            raise SweepError(f"--db: {path}: not a paxsim results database ({exc})") from None
        self.batch = batch
        self.interval = interval
        self.buffer: list[dict[str, Any]] = []
        self.last_commit = time.monotonic()
        self.written = 0

    def _init_schema(self) -> None:
        c = self.conn
        c.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            with c:
                c.execute(_schema())
                c.execute("CREATE TABLE IF NOT EXISTS experiments (experiment TEXT PRIMARY KEY, spec TEXT)")
                c.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif row[0] != str(SCHEMA_VERSION):
            raise SweepError(f"--db: {self.path}: written by another version of paxsim (schema {row[0]}, "
                             f"this one writes {SCHEMA_VERSION}); use a new file")

    def _check_schema(self) -> None:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:
            row = None
        if row is None:
            raise SweepError(f"--db: {self.path}: not a paxsim results database (no runs stored by paxsim sweep)")
        if row[0] != str(SCHEMA_VERSION):
            raise SweepError(f"--db: {self.path}: written by another version of paxsim (schema {row[0]}, "
                             f"this one reads {SCHEMA_VERSION})")

    # ---- writing -----------------------------------------------------------------------
    def save_experiment(self, name: str, spec: dict[str, Any]) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO experiments VALUES (?, ?)",
                              (name, json.dumps(spec, sort_keys=True)))

    def done(self, experiment: str) -> set[tuple[str, int]]:
        """The (config, seed) pairs already stored for ``experiment``."""
        cur = self.conn.execute("SELECT config, seed FROM runs WHERE experiment = ?", (experiment,))
        return {(c, s) for c, s in cur}

    def supersede(self, experiment: str, current: Iterable[str]) -> dict[str, int]:
        """Delete the rows of ``experiment`` that a current configuration replaces: same
        configuration but other protocol code or paxsim version (``code=`` in the key).
        Returns {protocol: rows deleted}."""
        current = set(current)
        bases = {k.rsplit(" code=", 1)[0] for k in current}
        stale: dict[str, list[str]] = {}
        for config, protocol in self.conn.execute(
                "SELECT DISTINCT config, protocol FROM runs WHERE experiment = ?", (experiment,)):
            if config not in current and config.rsplit(" code=", 1)[0] in bases:
                stale.setdefault(protocol, []).append(config)
        out = {}
        with self.conn:
            for protocol, configs in sorted(stale.items()):
                n = 0
                for c in configs:
                    n += self.conn.execute("DELETE FROM runs WHERE experiment = ? AND config = ?",
                                           (experiment, c)).rowcount
                out[protocol] = n
        return out

    def add(self, row: dict[str, Any]) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= self.batch or time.monotonic() - self.last_commit >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            rows = sorted(self.buffer, key=lambda r: (r["experiment"], r["config"], r["seed"]))
            marks = ", ".join("?" for _ in COLUMNS)
            values = [tuple(_cell(r.get(c)) for c in COLUMNS) for r in rows]
            with self.conn:
                self.conn.executemany(f"INSERT OR IGNORE INTO runs ({', '.join(COLUMNS)}) VALUES ({marks})",
                                      values)
            self.written += len(rows)
            self.buffer.clear()
        self.last_commit = time.monotonic()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.conn.close()

    def __enter__(self) -> "ResultsDB":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- reading -----------------------------------------------------------------------
    def experiments(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT experiment FROM runs ORDER BY experiment")]

    def rows(self, experiment: Optional[str] = None) -> list[dict[str, Any]]:
        """Every stored row (JSON columns decoded), sorted by (experiment, config, seed)."""
        sql = f"SELECT {', '.join(COLUMNS)} FROM runs"
        args: tuple = ()
        if experiment is not None:
            sql += " WHERE experiment = ?"
            args = (experiment,)
        sql += " ORDER BY experiment, config, seed"
        out = []
        for values in self.conn.execute(sql, args):
            row = dict(zip(COLUMNS, values))
            for c in BY_TYPE:
                row[c] = json.loads(row[c]) if row[c] else {}
            row["params"] = json.loads(row["params"]) if row["params"] else {}
            out.append(row)
        return out


def _cell(v: Any) -> Any:
    if isinstance(v, dict):
        return json.dumps(v, sort_keys=True, separators=(",", ":"))
    if isinstance(v, bool):
        return int(v)
    return v


def read_rows(path: str, experiment: Optional[str] = None) -> list[dict[str, Any]]:
    """Rows of an existing database file, sorted by key (see :meth:`ResultsDB.rows`)."""
    db = ResultsDB(path, create=False)
    try:
        if experiment is not None and experiment not in db.experiments():
            known = ", ".join(db.experiments()) or "none"
            raise SweepError(f"--experiment: no experiment {experiment!r} in {path} (stored: {known})")
        return db.rows(experiment)
    finally:
        db.conn.close()


def flat_rows(rows: Iterable[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Rows with the per-kind dicts spread into columns ``sent_ACC`` ...; (columns, rows)."""
    rows = list(rows)
    kinds: dict[str, set[str]] = {c: set() for c in BY_TYPE}
    for r in rows:
        for c in BY_TYPE:
            kinds[c].update(r.get(c) or {})
    extra = [f"{c[:-len('_by_type')]}_{k}" for c in BY_TYPE for k in sorted(kinds[c])]
    base = [c for c in COLUMNS if c not in BY_TYPE]
    out = []
    for r in rows:
        f = {c: r.get(c) for c in base}
        f["params"] = json.dumps(r.get("params") or {}, sort_keys=True)
        for c in BY_TYPE:
            d = r.get(c) or {}
            prefix = c[:-len("_by_type")]
            for k in sorted(kinds[c]):
                f[f"{prefix}_{k}"] = d.get(k, 0)
        out.append(f)
    return base + extra, out


def export_csv(path: str, out: str, experiment: Optional[str] = None) -> int:
    """Write the rows of database ``path`` to CSV file ``out`` (atomically); returns the row count."""
    return write_csv_rows(read_rows(path, experiment), out)


def write_csv_rows(rows: Iterable[dict[str, Any]], out: str) -> int:
    """Write ``rows`` (as :meth:`ResultsDB.rows` gives them) to CSV file ``out``, atomically."""
    from ..commands.run import write_atomic

    columns, flat = flat_rows(rows)

    def write(tmp: str) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=columns)
            w.writeheader()
            for r in flat:
                w.writerow({k: ("" if v is None else v) for k, v in r.items()})

    write_atomic(out, write)
    return len(flat)


def to_dataframe(db: str, experiment: Optional[str] = None):
    """The rows of results database ``db`` as a pandas DataFrame (per-kind counts
    spread into columns). Needs pandas, which paxsim does not depend on."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_dataframe needs pandas, which paxsim does not install: "
                          "pip install 'paxsim[pandas]' (or use export_csv / read_rows)") from None
    columns, rows = flat_rows(read_rows(db, experiment))
    return pd.DataFrame(rows, columns=columns)

