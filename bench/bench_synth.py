"""Benchmark `txflags synth`: rows/s writing Parquet and peak memory, against a baseline.

Each measurement runs in its own subprocess. Peak memory is sampled every 20 ms: the RSS of that
process and all its children (the generator's worker processes) plus the chunks spooled in
shared memory between them. The baseline generates the same number of random rows of the same
column types with numpy and writes them with pyarrow to Parquet (one process). The timer starts
before the imports, as for a command-line run. Usage:
``python bench/bench_synth.py --sizes 1e6,1e7 [--workers N]`` (0: the default, one per core).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

ROWS_PER_CUSTOMER_DAY = 1.24  # measured at default settings; used to size the runs
DAYS = 90

CHILD = r"""
import glob, json, os, resource, sys, threading, time
t = time.perf_counter()
import psutil
kind, rows, out, workers = sys.argv[1], int(float(sys.argv[2])), sys.argv[3], int(sys.argv[4])
peak = [0]
def sample():
    me = psutil.Process()
    while True:
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        for f in glob.glob("/dev/shm/txflags-synth-*/*"):
            try:
                total += os.path.getsize(f)
            except OSError:
                pass
        peak[0] = max(peak[0], total)
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
if kind == "synth":
    from txflags.synthetic import SynthConfig, generate
    customers = max(100, int(rows / ({rpcd} * {days})))
    s = generate(SynthConfig(customers=customers, days={days}, seed=1, workers=workers), out)
    n = s.rows
else:
    import numpy as np, polars as pl
    from txflags.schema import MONEY, Transactions
    rng = np.random.default_rng(1)
    n, chunk, parts = rows, 500_000, []
    import pyarrow.parquet as pq
    w = None
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        cols = {{}}
        for c in Transactions.columns:
            dt = c.dtype
            if dt == pl.String:
                cols[c.name] = pl.Series(rng.integers(0, 50_000, m)).cast(pl.String)
            elif dt == pl.Float64:
                cols[c.name] = rng.random(m) * 100
            elif dt == MONEY:
                cols[c.name] = pl.Series(rng.integers(1, 10**6, m)).cast(MONEY) / 100
            elif dt == pl.Int16 or dt == pl.Int64:
                cols[c.name] = pl.Series(rng.integers(0, 9999, m)).cast(dt)
            elif isinstance(dt, pl.Datetime):
                cols[c.name] = pl.Series(rng.integers(0, 10**15, m)).cast(dt)
            else:
                cols[c.name] = pl.Series(rng.integers(0, 2, m)).cast(pl.String).replace(
                    {{"0": dt.categories[0], "1": dt.categories[1]}}).cast(dt)
        t_ = pl.DataFrame(cols).to_arrow()
        if w is None:
            w = pq.ParquetWriter(out + "/baseline.parquet", t_.schema, compression="zstd")
        w.write_table(t_)
    w.close()
secs = time.perf_counter() - t
time.sleep(0.05)
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
print(json.dumps({{"rows": n, "seconds": secs, "cpu": cpu,
                  "peak_mb": max(peak[0], me.ru_maxrss * 1024) / 2**20}}))
"""


def run(kind: str, rows: float, workers: int = 0) -> dict[str, float]:
    code = CHILD.format(rpcd=ROWS_PER_CUSTOMER_DAY, days=DAYS)
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([sys.executable, "-c", code, kind, str(rows), d, str(workers)],
                           check=True, capture_output=True, text=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1e6,1e7", help="comma-separated target row counts")
    ap.add_argument("--workers", type=int, default=0, help="SynthConfig.workers (0: per core)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size (the best is shown)")
    args = ap.parse_args()
    # CPU columns: rows per CPU-second (all processes), steadier than rows/s on a busy machine
    print(f"{'rows':>12} {'synth rows/s':>14} {'base rows/s':>13} {'ratio':>6} "
          f"{'synth MB':>9} {'base MB':>8} {'synth rows/cpu-s':>17} {'base rows/cpu-s':>16}")
    for size in (float(x) for x in args.sizes.split(",")):
        s = min((run("synth", size, args.workers) for _ in range(args.repeat)),
                key=lambda r: r["seconds"])
        b = min((run("baseline", size) for _ in range(args.repeat)), key=lambda r: r["seconds"])
        rs, rb = s["rows"] / s["seconds"], b["rows"] / b["seconds"]
        print(f"{s['rows']:>12,} {rs:>14,.0f} {rb:>13,.0f} {rs / rb:>6.2f} "
              f"{s['peak_mb']:>9.0f} {b['peak_mb']:>8.0f} {s['rows'] / s['cpu']:>17,.0f} "
              f"{b['rows'] / b['cpu']:>16,.0f}", flush=True)


if __name__ == "__main__":
    main()
