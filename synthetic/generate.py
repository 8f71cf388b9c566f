"""Generate a whole dataset chunk by chunk: the public entry point ``generate``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from txflags.errors import InputError
from txflags.synthetic.config import SynthConfig
from txflags.synthetic.context import Ctx
from txflags.synthetic.events import EventBuffer
from txflags.synthetic.finalize import finalize
from txflags.synthetic.legit import generate_legit, noise_events
from txflags.synthetic.lookalikes import LOOKALIKES
from txflags.synthetic.population import make_population
from txflags.synthetic.schemes.base import Inst, Pool
from txflags.synthetic.schemes.compose import SCHEMES
from txflags.synthetic.truth import FAMILIES, family_of
from txflags.synthetic.writer import FORMATS, DatasetWriter


@dataclass
class ChunkData:
    transactions: pl.DataFrame
    accounts: pl.DataFrame
    truth_accounts: pl.DataFrame
    truth_transactions: pl.DataFrame

    def frames(self) -> Iterator[tuple[str, pl.DataFrame]]:
        """(file name, frame) in writing order."""
        for name in FILES:
            yield name, getattr(self, name)


#: The files of a dataset (``ChunkData`` fields), in writing order.
FILES = ("transactions", "accounts", "truth_accounts", "truth_transactions")


@dataclass
class Summary:
    """What was written."""

    rows: int = 0
    accounts: int = 0
    positives: int = 0
    lookalikes: int = 0
    positives_by_family: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAMILIES, 0))
    lookalikes_by_name: dict[str, int] = field(default_factory=dict)
    instances_by_scheme: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, chunk: ChunkData) -> None:
        t = chunk.truth_accounts
        self.rows += chunk.transactions.height
        self.accounts += chunk.accounts.height
        pos = t.filter(pl.col("label") == 1)
        self.positives += pos.height
        for typs in pos["typology_ids"].to_list():
            for f in sorted({family_of(x) for x in typs}):
                self.positives_by_family[f] += 1
        look = t.filter(pl.col("lookalike").is_not_null())
        self.lookalikes += look.height
        for name in look["lookalike"].to_list():
            self.lookalikes_by_name[name] = self.lookalikes_by_name.get(name, 0) + 1
        for inst in pos["instance_id"].unique().sort().to_list():
            scheme = inst.rsplit("-", 2)[0]
            self.instances_by_scheme[scheme] = self.instances_by_scheme.get(scheme, 0) + 1

    def merge(self, other: Summary) -> None:
        """Add the counts of ``other`` (a chunk's summary) to these."""
        self.rows += other.rows
        self.accounts += other.accounts
        self.positives += other.positives
        self.lookalikes += other.lookalikes
        for mine, theirs in (
            (self.positives_by_family, other.positives_by_family),
            (self.lookalikes_by_name, other.lookalikes_by_name),
            (self.instances_by_scheme, other.instances_by_scheme),
        ):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "accounts": self.accounts,
            "positives": self.positives,
            "lookalikes": self.lookalikes,
            "positives_by_family": dict(sorted(self.positives_by_family.items())),
            "lookalikes_by_name": dict(sorted(self.lookalikes_by_name.items())),
            "instances_by_scheme": dict(sorted(self.instances_by_scheme.items())),
            "files": self.files,
            "seconds": round(self.seconds, 3),
        }


def _instances(rng: np.random.Generator, rate: float, customers: int, size: float) -> int:
    """Stochastically rounded number of instances so members ≈ rate × customers."""
    expected = rate * customers / size
    base = int(expected)
    return base + int(rng.random() < expected - base)


def generate_chunk(cfg: SynthConfig, chunk: int) -> ChunkData:
    """Everything about customers [chunk × chunk_customers, …) — independent of other chunks."""
    first = chunk * cfg.chunk_customers
    n = min(cfg.chunk_customers, cfg.customers - first)
    seed_rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(chunk, 0)))
    pop = make_population(seed_rng, first, n, cfg.start, cfg.business_share)
    ctx = Ctx(cfg, chunk, pop, EventBuffer(pop.city))
    pool = Pool(ctx)
    rates = cfg.rates()
    count_rng = ctx.rng("counts")
    for name, (template, size) in SCHEMES.items():
        for k in range(_instances(count_rng, rates[name], n, size)):
            template(Inst(ctx, name, k), pool)
    for name, (template, _family, size) in LOOKALIKES.items():
        for k in range(_instances(count_rng, rates[name], n, size)):
            template(Inst(ctx, f"lk-{name}", k), pool)
    noise_events(ctx)
    generate_legit(ctx)
    txns, truth_txn = finalize(ctx, ctx.buf.frame())
    accounts = pop.accounts()
    return ChunkData(txns, accounts, ctx.truth.frame(accounts["account_id"]), truth_txn)


def workers_for(cfg: SynthConfig, chunks: int) -> int:
    """Generating processes to use (1: all in this process).

    ``cfg.workers`` 0 means one per available core, but only from 3 chunks on: starting a worker
    interpreter costs about half a second, more than it saves on one or two chunks.
    """
    n = cfg.workers
    if n == 0:
        if chunks < 3:
            return 1
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            n = os.cpu_count() or 1
    return max(1, min(n, chunks))


def generate(
    cfg: SynthConfig,
    out: Path | str,
    *,
    fmt: str = "parquet",
    per_day: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Write a dataset for ``cfg`` into ``out``; ``progress(done, total)`` after each chunk.

    With more than one worker (``cfg.workers``), chunks are generated in parallel processes
    and written here in chunk order, so the files are byte-identical to a one-process run.
    """
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a directory")
    t0 = time.perf_counter()
    writer = DatasetWriter(out, fmt, per_day)
    summary = Summary()
    chunks = -(-cfg.customers // cfg.chunk_customers)
    workers = workers_for(cfg, chunks)
    try:
        if workers > 1:
            from txflags.synthetic.parallel import generate_parallel

            generate_parallel(cfg, chunks, workers, writer, summary, progress)
        else:
            _generate_serial(cfg, chunks, writer, summary, progress)
        paths = writer.close()
    except BaseException:
        writer.abort()
        raise
    summary.files = [str(p.relative_to(out)) for p in paths]
    summary.seconds = time.perf_counter() - t0
    return summary


def _generate_serial(
    cfg: SynthConfig,
    chunks: int,
    writer: DatasetWriter,
    summary: Summary,
    progress: Callable[[int, int], None] | None,
) -> None:
    def write(data: ChunkData) -> None:
        for name, df in data.frames():
            writer.write(name, df)

    # One writer thread overlaps the writing of chunk k with the generation of chunk k + 1;
    # at most two chunks are in memory, and files are written in chunk order (deterministic).
    pending: Future[None] | None = None
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            for chunk in range(chunks):
                data = generate_chunk(cfg, chunk)
                summary.add(data)
                if pending is not None:
                    pending.result()
                pending = pool.submit(write, data)
                del data
                if progress:
                    progress(chunk + 1, chunks)
            if pending is not None:
                pending.result()
        except BaseException:
            if pending is not None:
                pending.exception()
            raise
