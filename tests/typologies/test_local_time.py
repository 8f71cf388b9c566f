"""The offset lookup gives the when-chain's local time to the microsecond, transitions included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from txflags.errors import InputError
from txflags.features.context import month_label
from txflags.features.local_time import MAX_TABLE, local_time

# zones with DST on half hours (Adelaide, St John's), a 30-minute DST shift (Lord Howe),
# a 45-minute offset (Kathmandu, Chatham) and an offset in seconds until 1972 (Monrovia)
ZONES = ["Australia/Adelaide", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kathmandu",
         "Pacific/Chatham", "Africa/Monrovia", "Europe/Paris", "America/New_York"]
START = datetime(1971, 6, 1, tzinfo=UTC)


def _both(frame: pl.DataFrame, zones: list[str]) -> tuple[pl.Series, pl.Series]:
    span = (frame["ts"].min(), frame["ts"].max())
    chain = frame.select(local_time(pl.col("ts"), pl.col("tz"), zones))
    lookup = frame.select(local_time(pl.col("ts"), pl.col("tz"), zones, span))
    return chain.to_series(), lookup.to_series()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3 * 366 * 86_400 * 1_000_000),  # 1971-06 .. 1974-06
            st.sampled_from([*ZONES, None, "Mars/Olympus"]),
        ),
        min_size=1, max_size=200,
    )
)
def test_lookup_equals_chain(rows: list[tuple[int, str | None]]) -> None:
    frame = pl.DataFrame(
        {"ts": [START + timedelta(microseconds=us) for us, _ in rows], "tz": [z for _, z in rows]},
        schema={"ts": pl.Datetime("us", "UTC"), "tz": pl.String},
    )
    chain, lookup = _both(frame, ZONES)
    assert chain.equals(lookup)


@pytest.mark.parametrize("zone", ZONES)
def test_every_microsecond_around_each_transition(zone: str) -> None:
    """The instants on both sides of every offset change of 1972 and 2024, to the microsecond
    (Monrovia's 1972 change, from -0:44:30, lies inside a 15-minute bucket)."""
    hours = [START + timedelta(hours=h) for h in range(0, 366 * 24)]
    hours += [datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(366 * 24)]
    probe = pl.DataFrame({"ts": hours, "tz": [zone] * len(hours)},
                         schema={"ts": pl.Datetime("us", "UTC"), "tz": pl.String})
    local = probe.select(local_time(pl.col("ts"), pl.col("tz"), [zone])).to_series()
    offset = (local - probe["ts"].dt.replace_time_zone(None))
    changes = probe["ts"].filter(offset != offset.shift(1))  # null on the first: dropped
    instants = []
    for at in changes:  # the change lies within the hour before; probe it densely
        for m in range(0, 61):
            base = at - timedelta(minutes=m)
            for back in (0, 1, 30_000_000, 30_000_001):
                instants.append(base - timedelta(microseconds=back))
    frame = pl.DataFrame({"ts": instants, "tz": [zone] * len(instants)},
                         schema={"ts": pl.Datetime("us", "UTC"), "tz": pl.String})
    chain, lookup = _both(frame, [zone])
    assert chain.equals(lookup)
    assert len(changes) >= 1 or zone in ("Asia/Kathmandu",)


def test_a_span_of_decades_falls_back_to_the_chain() -> None:
    frame = pl.DataFrame(
        {"ts": [datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)],
         "tz": ["Europe/Paris", "Europe/Paris"]},
    )
    assert (130 * 366 * 96) * 2 > MAX_TABLE
    chain, lookup = _both(frame, ["Europe/Paris"])
    assert chain.equals(lookup)


def test_unknown_zone_is_an_input_error() -> None:
    with pytest.raises(InputError, match="Mars/Olympus"):
        local_time(pl.col("ts"), pl.col("tz"), ["Mars/Olympus"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-86_400, 5 * 366 * 86_400), min_size=1, max_size=100))
def test_month_label_lookup_equals_strftime(seconds: list[int]) -> None:
    """Local dates up to a day outside the UTC span, across year ends and a leap day."""
    utc = [datetime(1999, 12, 31, tzinfo=UTC) + timedelta(seconds=max(s, 0)) for s in seconds]
    days = [(datetime(1999, 12, 31) + timedelta(seconds=s)).date() for s in seconds]
    frame = pl.DataFrame({"day": days}, schema={"day": pl.Date})
    span = (min(utc), max(utc))
    lookup = frame.select(month_label(pl.col("day"), span)).to_series()
    assert lookup.equals(frame.select(pl.col("day").dt.strftime("%Y-%m")).to_series(),
                         check_names=False)
