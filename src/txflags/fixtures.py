"""Typology fixtures: the executable spec beside each typology (``<name>.fixture.yaml``).

A fixture lists a few accounts, compact transactions and the expected outcome per account::

    start: 2024-03-01          # day 0 (optional)
    defaults: {direction: in, channel: p2p}
    accounts:
      - {account_id: A1, timezone: America/New_York}
    transactions:
      - {account_id: A1, repeat: 10, day: 1, step_days: 1, time: "21:30",
         amount: [40, 60], counterparty_id: "S{i}"}
    expect: {A1: hit, A2: ok}

``day``/``time`` are local to the account's time zone (UTC if none); ``repeat`` makes n rows,
``step_days``/``step_minutes`` apart, ``{i}`` in text becomes 1..n and a list value cycles.
Unspecified columns take defaults (out, card, USD, amount 20, 12:00).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from txflags.catalogue import Catalogue, Typology, read_yaml
from txflags.errors import CheckFailed, InputError
from txflags.schema import Accounts, Transactions

EXPECT = ("hit", "ok")
TXN_DEFAULTS: dict[str, Any] = {
    "direction": "out",
    "channel": "card",
    "currency": "USD",
    "amount": 20,
    "time": "12:00",
    "day": 0,
}
ROW_KEYS = {"repeat", "step_days", "step_minutes", "day", "time"}


@dataclass
class FixtureResult:
    """Outcome of one typology's fixture."""

    typology_id: str
    passed: bool
    expected: dict[str, str] = field(default_factory=dict)
    got: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def diff(self) -> list[dict[str, str]]:
        """Accounts where the outcome differs: {account, expected, got}."""
        return [
            {"account": a, "expected": e, "got": self.got.get(a, "ok")}
            for a, e in sorted(self.expected.items())
            if self.got.get(a, "ok") != e
        ]


def check_fixture(doc: Any) -> list[str]:
    """Problems with a fixture's structure (empty: fine)."""
    if not isinstance(doc, Mapping):
        return ["a fixture must be a mapping with accounts, transactions and expect"]
    errs = []
    for key in ("accounts", "expect"):
        if key not in doc:
            errs.append(f"fixture: missing `{key}`")
    expect = doc.get("expect") or {}
    if not isinstance(expect, Mapping):
        return errs + ["fixture: expect must map account ids to hit or ok"]
    bad = {a: v for a, v in expect.items() if v not in EXPECT}
    if bad:
        errs.append(f"fixture: expect values must be hit or ok, got {bad}")
    if "hit" not in expect.values() or "ok" not in expect.values():
        errs.append("fixture: expect at least one `hit` and one near-miss `ok` account")
    ids = {a.get("account_id") for a in doc.get("accounts") or [] if isinstance(a, Mapping)}
    unknown = [a for a in expect if a not in ids]
    if unknown:
        errs.append(f"fixture: expect names accounts not listed under accounts: {unknown}")
    return errs


def _cycle(value: Any, i: int) -> Any:
    if isinstance(value, list):
        value = value[i % len(value)]
    if isinstance(value, str) and "{i}" in value:
        value = value.replace("{i}", str(i + 1))
    return value


def build_frames(doc: Mapping[str, Any]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Transactions and Accounts frames from a fixture document."""
    start = doc.get("start", date(2024, 3, 1))
    if isinstance(start, str):
        start = date.fromisoformat(start)
    accts = []
    zones: dict[str, str | None] = {}
    for a in doc.get("accounts") or []:
        row = {"customer_id": a["account_id"], "customer_type": "individual", **a}
        accts.append(row)
        zones[a["account_id"]] = a.get("timezone")
    defaults = {**TXN_DEFAULTS, **(doc.get("defaults") or {})}
    txns: list[dict[str, Any]] = []
    for spec in doc.get("transactions") or []:
        spec = {**defaults, **spec}
        for i in range(int(spec.get("repeat", 1))):
            row = {k: _cycle(v, i) for k, v in spec.items() if k not in ROW_KEYS}
            day = int(_cycle(spec["day"], i)) + i * int(spec.get("step_days", 1))
            hh, mm = str(_cycle(spec["time"], i)).split(":")
            local = datetime.combine(start + timedelta(days=day), datetime.min.time())
            step = i * int(spec.get("step_minutes", 0))
            local += timedelta(hours=int(hh), minutes=int(mm) + step)
            zone = ZoneInfo(zones.get(row["account_id"]) or "UTC")
            row["ts"] = local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))
            row.setdefault("txn_id", f"{row['account_id']}-{len(txns) + 1:03d}")
            row.setdefault("customer_id", row["account_id"])
            row.setdefault("amount_usd", float(row["amount"]))
            row["amount"] = str(row["amount"])
            txns.append(row)
    tcols = {c for r in txns for c in r}
    unknown = tcols - set(Transactions.names)
    if unknown:
        raise InputError(f"fixture: unknown transaction column(s) {sorted(unknown)}")
    acols = {c for r in accts for c in r}
    bad = sorted(acols - set(Accounts.names))
    if bad:
        raise InputError(f"fixture: unknown account column(s) {bad}")
    tframe = pl.DataFrame(
        [{c: r.get(c) for c in tcols} for r in txns],
        schema={c: (pl.String if c == "amount" else Transactions.schema[c]) for c in tcols}
        if txns
        else None,
    )
    tframe = Transactions.conform(tframe).collect() if txns else Transactions.empty()
    aframe = pl.DataFrame(
        [{c: r.get(c) for c in acols} for r in accts],
        schema={c: Accounts.schema[c] for c in acols},
    )
    return tframe, Accounts.conform(aframe).collect()


def run_fixture(t: Typology, catalogue: Catalogue) -> FixtureResult:
    """Run ``t`` (and what it depends on) over its fixture and compare per account."""
    from txflags.engine import detect

    path = t.fixture_path
    if path is None or not path.exists():
        return FixtureResult(t.id, False, error=f"fixture missing: {path}")
    try:
        doc = read_yaml(path)
        errs = check_fixture(doc)
        if errs:
            return FixtureResult(t.id, False, error="; ".join(errs))
        txns, accts = build_frames(doc)
        expected = {str(k): v for k, v in doc["expect"].items()}
        result = detect(txns, accts, catalogue.subset([t.id]))
    except InputError as exc:
        return FixtureResult(t.id, False, error=str(exc))
    if t.id in result.skipped:
        return FixtureResult(t.id, False, expected, error=f"skipped: {result.skipped[t.id]}")
    fired = set(result.hits.filter(pl.col("typology_id") == t.id)["account_id"].to_list())
    got = {a: ("hit" if a in fired else "ok") for a in expected}
    return FixtureResult(t.id, got == expected, expected, got)


def run_fixtures(catalogue: Catalogue, ids: list[str] | None = None) -> list[FixtureResult]:
    """Run the fixtures of ``ids`` (default: every typology), in id order."""
    chosen = [catalogue.get(i) for i in ids] if ids else sorted(catalogue, key=lambda t: t.id)
    return [run_fixture(t, catalogue) for t in chosen]


def raise_on_failure(results: list[FixtureResult]) -> None:
    """CheckFailed naming every failing fixture with its diff."""
    failed = [r for r in results if not r.passed]
    if failed:
        lines = []
        for r in failed:
            detail = r.error or ", ".join(
                f"{d['account']}: expected {d['expected']}, got {d['got']}" for d in r.diff
            )
            lines.append(f"{r.typology_id}: {detail}")
        raise CheckFailed(f"{len(failed)} fixture(s) failed:\n  " + "\n  ".join(lines))


def fixture_summary(path: Path) -> dict[str, Any]:
    """Counts for `show`: accounts, transactions (expanded), expected hits and oks."""
    doc = read_yaml(path)
    txns, accts = build_frames(doc)
    exp = doc.get("expect") or {}
    return {
        "path": str(path),
        "accounts": accts.height,
        "transactions": txns.height,
        "expect_hit": sorted(a for a, v in exp.items() if v == "hit"),
        "expect_ok": sorted(a for a, v in exp.items() if v == "ok"),
    }
