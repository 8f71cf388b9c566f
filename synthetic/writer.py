"""Writing datasets: chunked, deterministic, atomic (temp file in the same dir, then replace)."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from txflags.schema import Transactions

PARQUET_OPTS = {"compression": "zstd", "compression_level": 3, "write_statistics": True}
#: Columns (near) unique per row: plain-encoded, since a dictionary attempt on them only burns
#: CPU before falling back (``txn_id`` alone cost ~40% of the writer's time).
NO_DICTIONARY = frozenset({"txn_id", "ts", "amount", "amount_usd"})
ROW_GROUP = 256 * 1024
FORMATS = ("parquet", "csv")

Frame = pl.DataFrame | pa.Table


def _empty(df: Frame) -> Frame:
    return df.slice(0, 0) if isinstance(df, pa.Table) else df.clear()


class _Sink:
    """One output file written chunk by chunk into a temp file."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        self.tmp = Path(tmp)
        self._pq: pq.ParquetWriter | None = None
        self._fh = open(self.tmp, "wb") if fmt == "csv" else None  # noqa: SIM115
        self._header = True

    def write(self, df: Frame) -> None:
        """Append ``df`` (a polars frame, or the Arrow table of one: written as is)."""
        if self.fmt == "csv":
            assert self._fh is not None
            if isinstance(df, pa.Table):
                df = pl.DataFrame(pl.from_arrow(df))
            flat = df.with_columns(
                pl.col(c).list.join(";") for c, t in df.schema.items() if isinstance(t, pl.List)
            )
            flat.write_csv(self._fh, include_header=self._header)
            self._header = False
            return
        table = df if isinstance(df, pa.Table) else df.to_arrow()
        if self._pq is None:
            names = table.column_names
            dictionary: bool | list[str] = True
            if NO_DICTIONARY.intersection(names):  # (a list would miss nested columns' leaves)
                dictionary = [c for c in names if c not in NO_DICTIONARY]
            self._pq = pq.ParquetWriter(
                self.tmp, table.schema, use_dictionary=dictionary, **PARQUET_OPTS
            )
        self._pq.write_table(table, row_group_size=ROW_GROUP)

    def close(self, empty: Frame) -> None:
        if self.fmt == "parquet" and self._pq is None:
            self.write(empty)
        if self._pq is not None:
            self._pq.close()
        if self._fh is not None:
            if self._header:
                if isinstance(empty, pa.Table):
                    empty = pl.DataFrame(pl.from_arrow(empty))
                empty.write_csv(self._fh, include_header=True)
            self._fh.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self._pq is not None:
            self._pq.close()
        if self._fh is not None:
            self._fh.close()
        self.tmp.unlink(missing_ok=True)


class DatasetWriter:
    """Transactions (or days/transactions-DATE), accounts and both truth files."""

    def __init__(self, out: Path, fmt: str, per_day: bool) -> None:
        self.out = Path(out)
        self.fmt = fmt
        self.ext = "parquet" if fmt == "parquet" else "csv"
        self.per_day = per_day
        self.out.mkdir(parents=True, exist_ok=True)
        self._sinks: dict[str, _Sink] = {}
        self._empties: dict[str, Frame] = {}
        self._days: dict[date, _Sink] = {}
        if per_day:
            (self.out / "days").mkdir(exist_ok=True)

    def _sink(self, name: str, df: Frame) -> _Sink:
        if name not in self._sinks:
            self._sinks[name] = _Sink(self.out / f"{name}.{self.ext}", self.fmt)
            self._empties[name] = _empty(df)
        return self._sinks[name]

    def write(self, name: str, df: Frame) -> None:
        """Append a chunk of ``name`` (a polars frame or the Arrow table of one)."""
        if name == "transactions" and self.per_day:
            self._write_days(
                df if isinstance(df, pl.DataFrame) else pl.DataFrame(pl.from_arrow(df))
            )
            return
        self._sink(name, df).write(df)

    def _write_days(self, df: pl.DataFrame) -> None:
        day = df["ts"].dt.date()
        for d in sorted(day.unique().to_list()):
            if d not in self._days:
                p = self.out / "days" / f"transactions-{d.isoformat()}.parquet"
                self._days[d] = _Sink(p, "parquet")
            self._days[d].write(df.filter(day == d))

    def close(self) -> list[Path]:
        """Finish every file (per-day files re-sorted by ts, txn_id) and move them in place."""
        paths = []
        for name in sorted(self._sinks):
            self._sinks[name].close(self._empties[name])
            paths.append(self._sinks[name].path)
        for d in sorted(self._days):
            staged = self._days[d]
            staged.close(Transactions.empty())
            df = pl.read_parquet(staged.path).sort(["ts", "txn_id"])
            final = _Sink(staged.path.with_suffix(f".{self.ext}"), self.fmt)
            final.write(df)
            final.close(df.clear())
            if final.path != staged.path:
                staged.path.unlink()
            paths.append(final.path)
        return paths

    def abort(self) -> None:
        for s in [*self._sinks.values(), *self._days.values()]:
            s.abort()
