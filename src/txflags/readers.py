"""Read export files (CSV, gzip CSV, Parquet, NDJSON) lazily into one raw frame.

The raw frame holds the source columns as they are (text for CSV and NDJSON; the file's own types
for Parquet) plus ``__file``, ``__fidx`` (its position in the input list), ``__row`` (1-based
data row within its file) and ``__extra``: for CSV, the fields beyond the header (a ragged row);
for NDJSON, a line that is not valid JSON. Normalisation quarantines such rows. A file that
cannot be read at all raises :class:`~txflags.errors.InputError` with what to fix.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from txflags.errors import InputError
from txflags.mapping import SourceOptions

FILE_COL, ROW_COL, EXTRA_COL, INDEX_COL = "__file", "__row", "__extra", "__fidx"
_EXTRA_FIELDS = 4  # spare columns that catch the fields of ragged CSV rows
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "ndjson",
    ".xml": "camt053",
}


@dataclass(frozen=True)
class SourceFile:
    """One input file and the columns it has."""

    path: str
    format: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class RawBatch:
    """The raw frame over all input files, and what was found in each."""

    frame: pl.LazyFrame
    files: tuple[SourceFile, ...]


def expand_paths(inputs: list[str | Path]) -> list[Path]:
    """Expand globs and directories into a sorted, de-duplicated list of files."""
    out: dict[Path, None] = {}
    for item in inputs:
        text = str(item)
        if any(ch in text for ch in "*?["):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise InputError(f"no file matches {text!r}")
            for m in matches:
                out.setdefault(Path(m), None)
            continue
        p = Path(text)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and _guess_format(f))
            if not found:
                raise InputError(f"directory {p} holds no CSV, Parquet or NDJSON file")
            for f in found:
                out.setdefault(f, None)
        elif p.exists():
            out.setdefault(p, None)
        else:
            raise InputError(f"input file {p} does not exist")
    if not out:
        raise InputError("no input files given")
    return list(out)


def _guess_format(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes[-2:-1] and suffixes[-1] == ".gz":
        return _EXTENSIONS.get(suffixes[-2], "csv")
    return _EXTENSIONS.get(suffixes[-1]) if suffixes else None


def read_source(inputs: list[str | Path], options: SourceOptions | None = None) -> RawBatch:
    """Open every input lazily and stack them (columns aligned by name)."""
    options = options or SourceOptions()
    frames, files = [], []
    for index, path in enumerate(expand_paths(inputs)):
        fmt = options.format or _guess_format(path)
        if fmt is None:
            raise InputError(
                f"{path}: cannot tell the format from the extension; set `source.format` in the "
                "mapping to csv, parquet or ndjson"
            )
        if path.stat().st_size == 0:
            raise InputError(f"{path} is empty (0 bytes): export it again or leave it out")
        reader = {
            "csv": _read_csv,
            "parquet": _read_parquet,
            "ndjson": _read_ndjson,
            "camt053": _read_camt053,
        }[fmt]
        frame, columns = reader(path, options)
        frames.append(
            frame.with_columns(
                pl.lit(str(path), pl.String).alias(FILE_COL),
                pl.lit(index, pl.Int32).alias(INDEX_COL),
                pl.col(ROW_COL).cast(pl.Int64),
            )
        )
        files.append(SourceFile(str(path), fmt, tuple(columns)))
    stacked = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    return RawBatch(stacked, tuple(files))


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix.lower() == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace", newline="")


def _header(path: Path, options: SourceOptions) -> list[str]:
    """The header row (or generated names), read with the csv module."""
    try:
        with _open_text(path) as fh:
            for _ in range(options.skip_rows):
                fh.readline()
            row = next(csv.reader(fh, delimiter=options.delimiter, quotechar=options.quote), None)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path} cannot be read: {exc}") from None
    if not row:
        raise InputError(f"{path} has no header row (is the file empty or `skip_rows` too big?)")
    if not options.has_header:
        return [f"column_{i + 1}" for i in range(len(row))]
    names, seen = [], {}
    for raw in row:
        name = raw.strip().lstrip("\ufeff") or f"column_{len(names) + 1}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    if len(names) == 1:
        for other in [",", ";", "\t", "|"]:
            if other != options.delimiter and other in row[0]:
                shown = "\\t" if other == "\t" else other
                raise InputError(
                    f"{path}: the header has a single column {row[0][:60]!r}; the file looks "
                    f"{shown!r}-delimited. Set `source.delimiter: {shown!r}` in the mapping."
                )
    return names


def _read_csv(path: Path, options: SourceOptions) -> tuple[pl.LazyFrame, list[str]]:
    names = _header(path, options)
    extras = [f"{EXTRA_COL}{i}" for i in range(_EXTRA_FIELDS)]
    schema = {n: pl.String for n in [*names, *extras]}
    frame = pl.scan_csv(
        path,
        has_header=False,
        skip_rows=options.skip_rows + (1 if options.has_header else 0),
        separator=options.delimiter,
        quote_char=options.quote or None,
        schema=schema,
        missing_columns="insert",
        truncate_ragged_lines=True,
        encoding=options.encoding,
        null_values=list(options.null_values),
        row_index_name=ROW_COL,
        row_index_offset=1,
    )
    extra = pl.concat_str(
        [pl.col(e) for e in extras], separator=options.delimiter, ignore_nulls=True
    )
    frame = frame.with_columns(
        pl.when(pl.any_horizontal([pl.col(e).is_not_null() for e in extras]))
        .then(extra)
        .otherwise(None)
        .alias(EXTRA_COL)
    ).drop(extras)
    return frame, names


def _read_parquet(path: Path, options: SourceOptions) -> tuple[pl.LazyFrame, list[str]]:
    try:
        frame = pl.scan_parquet(path)
        names = frame.collect_schema().names()
    except Exception as exc:  # corrupt footer, not Parquet at all, ...
        raise InputError(f"{path} is not a readable Parquet file: {exc}") from None
    frame = frame.with_row_index(ROW_COL, offset=1).with_columns(
        pl.lit(None, pl.String).alias(EXTRA_COL)
    )
    return frame, names


def _read_camt053(path: Path, options: SourceOptions) -> tuple[pl.LazyFrame, list[str]]:
    from txflags.camt053 import COLUMNS, read_camt053

    frame = read_camt053(path).lazy().with_row_index(ROW_COL, offset=1)
    return frame.with_columns(pl.lit(None, pl.String).alias(EXTRA_COL)), list(COLUMNS)


def _ndjson_keys(path: Path, sample: int = 1000) -> list[str]:
    keys: dict[str, None] = {}
    with _open_text(path) as fh:
        for i, line in enumerate(fh):
            if i >= sample:
                break
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                for k in obj:
                    keys.setdefault(str(k), None)
    if not keys:
        raise InputError(f"{path}: no JSON object found in the first {sample} lines; is it NDJSON?")
    return list(keys)


def _read_ndjson(path: Path, options: SourceOptions) -> tuple[pl.LazyFrame, list[str]]:
    names = _ndjson_keys(path)
    schema = {n: pl.String for n in names}
    try:  # fast path: a single broken line fails the whole read, hence the slow path below
        frame = pl.read_ndjson(path, schema=schema).with_row_index(ROW_COL, offset=1)
        return frame.lazy().with_columns(pl.lit(None, pl.String).alias(EXTRA_COL)), names
    except pl.exceptions.PolarsError:
        pass
    # Slow path for files with broken lines: parse line by line, keep broken lines as bad rows.
    with _open_text(path) as fh:
        lines = fh.read().splitlines()
    records, bad = [], []
    for line in lines:
        try:
            obj = json.loads(line)
            ok = isinstance(obj, dict)
        except ValueError:
            obj, ok = None, False
        records.append({n: _as_text(obj.get(n)) for n in names} if ok else dict.fromkeys(names))
        bad.append(None if ok else line[:200])
    frame = pl.DataFrame(records, schema=schema).with_columns(
        pl.Series(EXTRA_COL, bad, dtype=pl.String)
    )
    return frame.lazy().with_row_index(ROW_COL, offset=1), names


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
