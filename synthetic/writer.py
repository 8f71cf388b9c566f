"""Writing datasets: chunked, deterministic, atomic (temp file in the same dir, then replace)."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from txflags.schema import Transactions

PARQUET_OPTS = {"compression": "zstd", "compression_level": 3, "write_statistics": True}
ROW_GROUP = 256 * 1024
FORMATS = ("parquet", "csv")


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

    def write(self, df: pl.DataFrame) -> None:
        if self.fmt == "csv":
            assert self._fh is not None
            flat = df.with_columns(
                pl.col(c).list.join(";") for c, t in df.schema.items() if isinstance(t, pl.List)
            )
            flat.write_csv(self._fh, include_header=self._header)
            self._header = False
            return
        table = df.to_arrow()
        if self._pq is None:
            self._pq = pq.ParquetWriter(self.tmp, table.schema, **PARQUET_OPTS)
        self._pq.write_table(table, row_group_size=ROW_GROUP)

    def close(self, empty: pl.DataFrame) -> None:
        if self.fmt == "parquet" and self._pq is None:
            self.write(empty)
        if self._pq is not None:
            self._pq.close()
        if self._fh is not None:
            if self._header:
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
        self._empties: dict[str, pl.DataFrame] = {}
        self._days: dict[date, _Sink] = {}
        if per_day:
            (self.out / "days").mkdir(exist_ok=True)

    def _sink(self, name: str, df: pl.DataFrame) -> _Sink:
        if name not in self._sinks:
            self._sinks[name] = _Sink(self.out / f"{name}.{self.ext}", self.fmt)
            self._empties[name] = df.clear()
        return self._sinks[name]

    def write(self, name: str, df: pl.DataFrame) -> None:
        if name == "transactions" and self.per_day:
            self._write_days(df)
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
