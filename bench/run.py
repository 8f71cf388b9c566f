"""Run every benchmark at a size that finishes in a few minutes (`make bench`).

Each script prints its throughput as ratios against a baseline measured in the same run; pass
bigger sizes to the scripts themselves for the figures in the README (e.g.
``python bench/bench_ingest.py --rows 10000000``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
RUNS = [
    ("ingestion", ["bench_ingest.py", "--rows", "1000000"]),
    ("synthetic generator", ["bench_synth.py", "--sizes", "1000000"]),
    (
        "scan (catalogue vs floor and pandas; night 1 vs a later night)",
        ["bench_scan.py", "--skip-models"],
    ),
    ("anomaly models", ["bench_models.py", "--customers", "100000"]),
]


def main() -> int:
    failed = 0
    for title, args in RUNS:
        print(f"\n=== {title}: python bench/{' '.join(args)}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]]).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
