"""Local wall-clock time of UTC timestamps in per-row IANA time zones.

Polars converts a column to one literal zone at a time. Without more to go on, the local time
is a when-chain over the zones present: every row is converted once per zone (10M rows over
14 zones: ~1.0 s). Given the span of the timestamps, it is one lookup per row instead (~0.2 s):
a table holds each zone's UTC offset for every ``BUCKET_US`` of the span, and each row gathers
its zone's offset for its bucket. A bucket in which the offset changes (a daylight-saving
transition) also holds the exact instant of the change, found by bisection with the same
Polars conversion, so both paths give the same local time to the microsecond.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import available_timezones

import polars as pl

from txflags.errors import InputError

#: width of one offset-table bucket: every zone's offsets are multiples of 15 minutes, and
#: two transitions are never 15 minutes apart
BUCKET_US = 15 * 60 * 1_000_000
#: a table larger than this (zones x buckets; 14 zones x 1 year: 0.5M) is not built: a span of
#: decades is rare and the when-chain costs no memory
MAX_TABLE = 4_000_000


def local_time(
    ts: pl.Expr,
    tz: pl.Expr,
    zones: Iterable[str],
    span: tuple[datetime, datetime] | None = None,
) -> pl.Expr:
    """Naive local datetime of UTC ``ts`` in the per-row IANA zone ``tz`` (UTC when null).

    ``zones``: the distinct zones ``tz`` holds (a zone not listed reads as UTC). ``span``: the
    earliest and latest ``ts`` (UTC-aware), which turns on the offset lookup.
    """
    names = sorted(set(zones))
    known = available_timezones()
    bad = [z for z in names if z not in known]
    if bad:
        raise InputError(f"unknown IANA time zone(s) in accounts.timezone: {', '.join(bad)}")
    if span is not None and span[0] is not None and span[1] is not None:
        first = _us(span[0]) // BUCKET_US
        n = _us(span[1]) // BUCKET_US - first + 1
        if n * (len(names) + 1) <= MAX_TABLE:
            return _by_lookup(ts, tz, names, first, n)
    return _by_chain(ts, tz, names)


def _us(t: datetime) -> int:
    """Microseconds since the epoch of ``t`` (naive: UTC)."""
    t = t if t.tzinfo is not None else t.replace(tzinfo=UTC)
    delta = t - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _by_chain(ts: pl.Expr, tz: pl.Expr, names: list[str]) -> pl.Expr:
    expr = ts.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    for zone in names:
        expr = (
            pl.when(tz == zone)
            .then(ts.dt.convert_time_zone(zone).dt.replace_time_zone(None))
            .otherwise(expr)
        )
    return expr


def _offsets(instants_us: pl.Series, zone: str) -> pl.Series:
    """UTC offset (microseconds) of ``zone`` at each UTC instant."""
    t = pl.from_epoch(instants_us, time_unit="us").dt.replace_time_zone("UTC")
    local = t.dt.convert_time_zone(zone).dt.replace_time_zone(None)
    return (local - t.dt.replace_time_zone(None)).dt.total_microseconds()


def _zone_table(zone: str, first: int, n: int) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Per bucket: offset at its start, first instant of the next offset (past the bucket when
    none), the offset from that instant."""
    start = (pl.int_range(first, first + n, eager=True, dtype=pl.Int64)) * BUCKET_US
    end = start + (BUCKET_US - 1)
    before, after = _offsets(start, zone), _offsets(end, zone)
    change = pl.arg_where(before != after, eager=True)
    switch = end + 1
    if change.len():
        lo, hi = start.gather(change), end.gather(change)  # offset(lo) = before, offset(hi) = after
        b = before.gather(change)
        while (hi - lo).max() > 1:  # type: ignore[operator]
            mid = lo + (hi - lo) // 2
            same = _offsets(mid, zone) == b  # the change is after mid, else at or before it
            lo, hi = mid.zip_with(same, lo), hi.zip_with(same, mid)
        switch = switch.scatter(change, hi)
    return before, switch, after


def _by_lookup(ts: pl.Expr, tz: pl.Expr, names: list[str], first: int, n: int) -> pl.Expr:
    tables = [_zone_table(z, first, n) for z in ["UTC", *names]]
    before, switch, after = (pl.concat([t[i] for t in tables]) for i in range(3))
    # zone 0 is UTC (null or unlisted zones); zone k is names[k - 1]
    code = tz.cast(pl.String).cast(pl.Enum(names), strict=False).to_physical().cast(pl.Int64)
    zone = code.fill_null(-1) + 1
    us = ts.dt.epoch("us")
    at = zone * n + (us // BUCKET_US - first)
    naive = ts.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    if (before == after).all():  # no transition inside a bucket
        return naive + pl.duration(microseconds=pl.lit(before).gather(at))
    offset = (
        pl.when(us < pl.lit(switch).gather(at))
        .then(pl.lit(before).gather(at))
        .otherwise(pl.lit(after).gather(at))
    )
    return naive + pl.duration(microseconds=offset)
