"""Duplicate ids: the first good row of an id is kept, every later good row is quarantined,
whether the hash of the id or the id itself finds it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from txflags.ingest import ingest
from txflags.mapping import parse_mapping
from txflags.normalize import CHECK, SUSPECT, _confirm_duplicates

SIMPLE = parse_mapping({
    "columns": {
        "txn_id": "id",
        "ts": "ts",
        "account_id": "acct",
        "amount": {"column": "amt", "signed": True},
        "currency": "ccy",
        "channel": {"value": "card"},
    }
})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.booleans()), min_size=1,
                max_size=30))
def test_first_good_row_of_an_id_is_kept(tmp_path: Path, rows: list[tuple[str, bool]]) -> None:
    """An id whose first row is bad (amount zero) is kept from its first good row on."""
    frame = pl.DataFrame({
        "id": [i for i, _ in rows],
        "ts": ["2026-01-05T10:00:00"] * len(rows),
        "acct": ["A"] * len(rows),
        "amt": ["5" if ok else "0" for _, ok in rows],
        "ccy": ["USD"] * len(rows),
    })
    path = tmp_path / "t.csv"
    frame.write_csv(path)
    result = ingest([path], SIMPLE)
    first_good: dict[str, int] = {}
    for n, (i, ok) in enumerate(rows, start=1):  # source rows count data rows from 1
        if ok:
            first_good.setdefault(i, n)
    kept = dict(zip(result.kept["txn_id"], result.kept["source_row"], strict=True))
    assert kept == first_good
    dups = result.quarantine.filter(pl.col("reason") == "duplicate_id")
    assert dups.height == sum(ok for _, ok in rows) - len(first_good)


def test_a_hash_collision_is_not_a_duplicate() -> None:
    """A suspect whose hash an earlier good row shares, but not its id, stays good."""
    frame = pl.DataFrame({
        "txn_id": ["x", "y", "x", "z"],
        CHECK: [None, None, None, 3],
        SUSPECT: [False, True, True, False],  # "y" as if it collided with "x"
    }, schema_overrides={CHECK: pl.Int32})
    out = _confirm_duplicates(frame, "txn_id", 9)
    assert out[CHECK].to_list() == [None, None, 9, 3]
    assert SUSPECT not in out.columns
