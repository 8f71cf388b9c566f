"""Parallel generation: worker processes generate chunks, the caller writes them in order.

Each worker is ``python -m txflags.synthetic.parallel`` (its own interpreter: no fork of a
process whose polars threads run, and no re-import of the caller's ``__main__``). It reads
requests ``(config fields, chunk, spool dir)`` as pickles on stdin, generates the chunk, writes
its four frames as Arrow IPC files into the spool dir (shared memory when available) and
answers ``(ok, (paths, summary) | traceback)`` on its original stdout. The caller memory-maps
the files and writes them, so the bytes written are the same as in a one-process run.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from txflags.synthetic.config import SynthConfig
from txflags.synthetic.generate import FILES, Summary, generate_chunk
from txflags.synthetic.writer import DatasetWriter


def _fields(cfg: SynthConfig) -> dict[str, Any]:
    """Picklable constructor arguments of ``cfg`` (its prevalence is a read-only proxy)."""
    out = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    out["prevalence"] = dict(out["prevalence"])
    return out


def spool_chunk(cfg: SynthConfig, chunk: int, spool: str) -> tuple[list[str], Summary]:
    """Generate ``chunk`` and write its frames as Arrow IPC files; their paths and summary."""
    data = generate_chunk(cfg, chunk)
    part = Summary()
    part.add(data)
    paths = []
    for name, df in data.frames():
        table = df.to_arrow()
        path = os.path.join(spool, f"{chunk:07d}-{name}.arrow")
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as ipc:
            ipc.write_table(table)
        paths.append(path)
    return paths, part


def unspool(path: str) -> pa.Table:
    """The table of a spooled file, memory-mapped; the file is unlinked (freed when released)."""
    table = pa.ipc.open_file(pa.memory_map(path)).read_all()
    os.unlink(path)
    return table


def _spool_root() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


class _Worker:
    def __init__(self) -> None:
        env = dict(os.environ)
        # the worker must import this very txflags, installed or not
        pkg_root = str(Path(sys.modules["txflags"].__file__ or ".").parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_root, env.get("PYTHONPATH")) if p)
        # parallelism comes from the processes: one polars thread each wastes less CPU spinning
        env.setdefault("POLARS_MAX_THREADS", "1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "txflags.synthetic.parallel"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.pending: list[int] = []

    def submit(self, fields: dict[str, Any], chunk: int, spool: str) -> None:
        assert self.proc.stdin is not None
        pickle.dump((fields, chunk, spool), self.proc.stdin)
        self.proc.stdin.flush()
        self.pending.append(chunk)

    def result(self, chunk: int) -> tuple[list[str], Summary]:
        assert self.proc.stdout is not None and self.pending[0] == chunk
        self.pending.pop(0)
        try:
            ok, value = pickle.load(self.proc.stdout)
        except EOFError:
            code = self.proc.wait()
            raise RuntimeError(f"synth worker died (exit code {code}) on chunk {chunk}") from None
        if not ok:
            raise RuntimeError(f"synth worker failed on chunk {chunk}:\n{value}")
        return value

    def close(self, kill: bool) -> None:
        if kill and self.proc.poll() is None:
            self.proc.kill()
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self.proc.wait()


def generate_parallel(
    cfg: SynthConfig,
    chunks: int,
    workers: int,
    writer: DatasetWriter,
    summary: Summary,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Chunk k goes to worker k mod ``workers``; chunks are written in order as they arrive.

    While chunk k is written, chunks up to k + ``workers`` are requested: each worker has at
    most one chunk running and one waiting, so memory stays flat whatever the dataset size.
    """
    fields = _fields(cfg)
    spool = tempfile.mkdtemp(prefix="txflags-synth-", dir=_spool_root())
    pool: list[_Worker] = []
    failed = True
    try:
        pool = [_Worker() for _ in range(workers)]
        submitted = 0
        for chunk in range(chunks):
            while submitted < min(chunks, chunk + workers + 1):
                pool[submitted % workers].submit(fields, submitted, spool)
                submitted += 1
            paths, part = pool[chunk % workers].result(chunk)
            summary.merge(part)
            for name, path in zip(FILES, paths, strict=True):
                writer.write(name, unspool(path))
            if progress:
                progress(chunk + 1, chunks)
        failed = False
    finally:
        for w in pool:
            w.close(kill=failed)
        shutil.rmtree(spool, ignore_errors=True)


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    while True:
        try:
            fields, chunk, spool = pickle.load(requests)
        except EOFError:
            return
        try:
            answer: tuple[bool, object] = (True, spool_chunk(SynthConfig(**fields), chunk, spool))
        except Exception:
            answer = (False, traceback.format_exc())
        pickle.dump(answer, answers)
        answers.flush()


if __name__ == "__main__":
    # answers go to the original stdout; anything printed by libraries goes to stderr
    _answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _serve(sys.stdin.buffer, _answers)
