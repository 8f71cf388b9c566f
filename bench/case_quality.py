"""How well cases match the generator's scheme instances, and roles its truth roles.

    python bench/case_quality.py --seeds 100-104 [--customers 2000 --days 60] [--no-models]

For each seed: ``txflags synth`` then ``txflags scan`` into a fresh store, then compares the
store's cases with ``truth_accounts.parquet``:

- purity: cases whose labelled members all come from one scheme instance;
- fragmentation: scheme instances whose flagged members sit in one case;
- roles: labelled parties whose case role matches the truth role (controller → likely
  controller, victim → likely victim, buyer, facilitator); ``unknown`` counts as a miss;
- victims named as subjects: labelled victims a case lists as a SAR subject (must be 0).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl

BIN = Path(sys.executable).parent / "txflags"
ROLE = {"controller": "likely_controller", "victim": "likely_victim", "buyer": "buyer",
        "facilitator": "facilitator"}


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def _run(*cmd: str) -> None:
    proc = subprocess.run([str(BIN), *cmd], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr[-2000:])


def one_seed(seed: int, a: argparse.Namespace) -> dict:
    data, work = Path(a.data) / f"s{seed}", Path(a.work) / f"s{seed}"
    if not (data / "truth_accounts.parquet").is_file():
        _run("synth", "--customers", str(a.customers), "--days", str(a.days), "--seed",
             str(seed), "--out", str(data))
    shutil.rmtree(work, ignore_errors=True)
    _run("scan", str(data / "transactions.parquet"), "--accounts", str(data / "accounts.parquet"),
         "--store", str(work / "store"), "--out", str(work / "out"),
         *(["--no-models"] if a.no_models else []))
    db = sqlite3.connect(work / "store" / "txflags.sqlite")
    parties = pl.read_database("SELECT case_id, account_id, role, is_subject FROM case_parties",
                               db)
    truth = pl.read_parquet(data / "truth_accounts.parquet").filter(pl.col("label") == 1)
    j = parties.join(truth.select("account_id", "instance_id", pl.col("role").alias("truth")),
                     on="account_id", how="inner")
    per_case = j.group_by("case_id").agg(pl.col("instance_id").n_unique().alias("k"))
    per_inst = j.group_by("instance_id").agg(pl.col("case_id").n_unique().alias("k"))
    expected = j["truth"].replace_strict(ROLE, default="?")
    return {
        "seed": seed, "cases": parties["case_id"].n_unique(),
        "cases_with_truth": per_case.height, "pure": int((per_case["k"] == 1).sum()),
        "instances": per_inst.height, "unfragmented": int((per_inst["k"] == 1).sum()),
        "labelled_parties": j.height, "roles_right": int((expected == j["role"]).sum()),
        "victims_as_subjects": j.filter((pl.col("truth") == "victim")
                                        & (pl.col("is_subject") == 1)).height,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="100-104")
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--data", default="/tmp/txflags-cases/data")
    p.add_argument("--work", default="/tmp/txflags-cases/work")
    p.add_argument("--no-models", action="store_true")
    p.add_argument("--json", help="write the rows as JSON here")
    a = p.parse_args()
    rows = [one_seed(s, a) for s in _seeds(a.seeds)]
    frame = pl.DataFrame(rows)
    total = frame.drop("seed").sum()
    print(frame)
    t = total.row(0, named=True)
    print(f"pure cases {t['pure']}/{t['cases_with_truth']}, instances in one case "
          f"{t['unfragmented']}/{t['instances']}, roles {t['roles_right']}/"
          f"{t['labelled_parties']}, victims named as subjects {t['victims_as_subjects']}")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
