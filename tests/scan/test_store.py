"""History store properties: any order and split of batches gives the same history."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from txflags.store import Store

from .conftest import txn_frame

ROWS = txn_frame(
    [
        {
            "txn_id": f"t{i:02d}",
            "ts": f"2026-03-{1 + i % 9:02d} {i % 24:02d}:00",
            "account_id": f"A{i % 4}",
            "amount_usd": 10 + i,
        }
        for i in range(40)
    ]
)


def _append(store: Store, batch: pl.DataFrame, name: str) -> None:
    days = batch["ts"].dt.date().unique().to_list()
    new = batch.join(store.known_ids(days).collect(), on="txn_id", how="anti")
    parts = store.stage_history(new, name)
    run = {
        "run_id": name, "started_at": name, "finished_at": name, "status": "completed",
        "batch_hash": name, "inputs": [], "catalogue": {}, "overrides": {},
        "risk_config": {}, "counts": {},
    }
    store.commit(run, None, parts, pl.DataFrame())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=st.permutations(list(range(40))),
    cuts=st.lists(st.integers(1, 39), max_size=4, unique=True),
    repeat=st.booleans(),
)
def test_any_order_and_split_gives_the_same_history(order, cuts, repeat):
    shuffled = ROWS[order]
    bounds = [0, *sorted(cuts), 40]
    batches = [shuffled[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    if repeat:
        batches.append(shuffled[: bounds[1]])  # a batch sent twice (overlapping rows)
    with tempfile.TemporaryDirectory() as d:
        store = Store(Path(d))
        for i, b in enumerate(batches):
            _append(store, b, f"{i:02d}" + "0" * 62)
        got = store.history().collect().sort("txn_id")
        assert got.equals(ROWS.sort("txn_id"))
        assert store.counts()["history_rows"] == 40
        assert store.history(start=ROWS["ts"].min().date(), end=ROWS["ts"].min().date())\
            .collect().height == (ROWS["ts"].dt.date() == ROWS["ts"].min().date()).sum()


def test_opening_deletes_files_no_committed_row_names(tmp_path):
    """A crashed run's renamed parts and temporaries are orphans: the next open deletes them
    and keeps every part the database names."""
    store = Store(tmp_path / "s")
    _append(store, ROWS, "b1")
    kept = sorted(p.relative_to(store.path) for p in (store.path / "history").rglob("*.parquet"))
    day = next((store.path / "history").iterdir())
    orphans = [day / "part-crashed.parquet", day / ".part-crashed.parquet.tmp",
               store.path / "aggregates" / "k" / "part-crashed.parquet"]
    for f in orphans:
        f.parent.mkdir(parents=True, exist_ok=True)
        ROWS.head(1).write_parquet(f)
    Store(tmp_path / "s")
    assert not any(f.exists() for f in orphans)
    assert sorted(p.relative_to(store.path)
                  for p in (store.path / "history").rglob("*.parquet")) == kept
    assert store.history().collect().height == ROWS.height


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(0, 40), max_size=41))
def test_stored_parts_read_by_day_ranges_keep_exactly_those_days(offsets):
    """The ranges a stored-parts read filters by select the listed days, no more, no fewer."""
    from datetime import date, timedelta

    from txflags.store import _on_days

    all_days = [date(2026, 1, 1) + timedelta(days=i) for i in range(41)]
    frame = pl.DataFrame({"day": all_days})
    wanted = sorted(all_days[i] for i in offsets)
    assert frame.filter(_on_days(wanted))["day"].to_list() == wanted
