"""Tune/report harness for issue 4's quality bar: generate seeds, scan, evaluate, print tables.

    python bench/tune_eval.py --seeds 1-5                # tuning seeds
    python bench/tune_eval.py --seeds 100-104            # report seeds (no changes after this)
    python bench/tune_eval.py --seeds 1-5 --set cash.structuring.min_count=4 --misses

Each seed is generated once (``txflags synth --customers N --days D --seed S``) into
``--data/sS`` and reused; every run scans into a fresh store. Tables:

- per family, ``flagged``: precision and recall pooled over the seeds, their mean over seeds and
  the worst seed (the issue-4 bar: recall >= 0.9 and precision >= 0.8 per family);
- per typology, account level: TP/FP/FN pooled, precision, recall, alerts per 1,000 accounts.

``--misses`` lists the positive accounts that were not flagged (family, typologies, their score
and the typologies that did fire), and the flagged accounts that are not positives.
``--json FILE`` writes every table for the record.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

BIN = Path(sys.executable).parent / "txflags"


def parse_seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            out.extend(range(int(lo), int(hi) + 1))
        else:
            out.append(int(part))
    return out


def run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")


def one_seed(seed: int, args: argparse.Namespace) -> dict:
    data = Path(args.data) / f"s{seed}"
    if not (data / "truth_accounts.parquet").is_file():
        run([str(BIN), "synth", "--customers", str(args.customers), "--days", str(args.days),
             "--seed", str(seed), "--out", str(data)])
    work = Path(args.work) / f"s{seed}"
    shutil.rmtree(work, ignore_errors=True)
    cmd = [str(BIN), "scan", str(data / "transactions.parquet"),
           "--accounts", str(data / "accounts.parquet"),
           "--store", str(work / "store"), "--out", str(work / "out")]
    for s in args.set or []:
        cmd += ["--set", s]
    if args.profile:
        cmd += ["--profile", args.profile]
    run(cmd)
    proc = subprocess.run([str(BIN), "eval", "--truth", str(data), "--alerts",
                           str(work / "out"), "--json"], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    res = json.loads(proc.stdout)
    res["seed"] = seed
    res["data"] = str(data)
    res["out"] = str(work / "out")
    return res


def ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:5.2f}"


def family_table(results: list[dict]) -> list[dict]:
    rows: dict[str, dict] = {}
    for res in results + [{"flagged_by_family": [dict(res["flagged"], key="ALL")]}
                          for res in results]:
        for r in res["flagged_by_family"]:
            row = rows.setdefault(r["key"], {"key": r["key"], "n_pos": 0, "tp": 0, "n_pred": 0,
                                             "fp": 0, "p": [], "r": []})
            row["n_pos"] += r["n_pos"]
            row["tp"] += r["tp"]
            row["n_pred"] += r["n_pred"]
            row["fp"] += r["fp"]
            if r["precision"] is not None:
                row["p"].append(r["precision"])
            if r["recall"] is not None:
                row["r"].append(r["recall"])
    out = []
    for key in sorted(rows, key=lambda k: (k == "ALL", k)):
        row = rows[key]
        out.append({
            "family": key, "n_pos": row["n_pos"], "tp": row["tp"], "fn": row["n_pos"] - row["tp"],
            "n_flagged": row["n_pred"], "fp": row["fp"],
            "precision": ratio(row["n_pred"] - row["fp"], row["n_pred"]),
            "recall": ratio(row["tp"], row["n_pos"]),
            "precision_mean": sum(row["p"]) / len(row["p"]) if row["p"] else None,
            "precision_worst": min(row["p"]) if row["p"] else None,
            "recall_mean": sum(row["r"]) / len(row["r"]) if row["r"] else None,
            "recall_worst": min(row["r"]) if row["r"] else None,
        })
    return out


def typology_table(results: list[dict]) -> list[dict]:
    rows: dict[str, dict] = {}
    n_acc = sum(res["accounts"] for res in results)
    for res in results:
        for r in res["by_typology"]:
            row = rows.setdefault(r["key"], {"typology": r["key"], "tp": 0, "fp": 0, "fn": 0,
                                             "n_pred": 0})
            for k in ("tp", "fp", "fn", "n_pred"):
                row[k] += r[k]
    out = []
    for key in sorted(rows):
        row = rows[key]
        row["precision"] = ratio(row["tp"], row["tp"] + row["fp"])
        row["recall"] = ratio(row["tp"], row["tp"] + row["fn"])
        row["alerts_per_1k"] = row["n_pred"] * 1000 / max(n_acc, 1)
        out.append(row)
    return out


def misses(res: dict) -> None:
    truth = pl.read_parquet(Path(res["data"]) / "truth_accounts.parquet")
    risk = pl.read_parquet(Path(res["out"]) / "risk.parquet")
    alerts = pl.read_parquet(Path(res["out"]) / "alerts.parquet")
    fired = alerts.group_by("account_id").agg(pl.col("typology_id").unique().sort().alias("fired"))
    t = (truth.join(risk.select("account_id", "risk_score", "flagged"), on="account_id",
                    how="left")
         .join(fired, on="account_id", how="left")
         .with_columns(pl.col("flagged").fill_null(False)))
    fn = t.filter((pl.col("label") == 1) & ~pl.col("flagged"))
    fp = t.filter((pl.col("label") != 1) & pl.col("flagged"))
    with pl.Config(tbl_rows=200, fmt_str_lengths=200, tbl_width_chars=250,
                   fmt_table_cell_list_len=12):
        cols = [c for c in ["account_id", "family", "typology_ids", "role", "lookalike",
                            "risk_score", "fired"] if c in t.columns]
        print(f"--- seed {res['seed']}: missed positives ({fn.height})")
        print(fn.select(cols))
        print(f"--- seed {res['seed']}: flagged non-positives ({fp.height})")
        print(fp.select(cols))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1-5")
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--data", default="/tmp/txflags-tune/data")
    ap.add_argument("--work", default="/tmp/txflags-tune/work")
    ap.add_argument("--set", action="append", help="TYPOLOGY.param=value (repeatable)")
    ap.add_argument("--profile")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--json", help="write all tables to this file")
    args = ap.parse_args()
    seeds = parse_seeds(args.seeds)
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda s: one_seed(s, args), seeds))

    fam = family_table(results)
    typ = typology_table(results)
    print(f"seeds {args.seeds}: flagged, per family (pooled; mean and worst seed)")
    print(f"{'family':<12} {'pos':>4} {'TP':>4} {'FN':>4} {'flag':>5} {'FP':>4}  "
          f"{'prec':>5} {'rec':>5} | {'p_mean':>6} {'p_min':>5} {'r_mean':>6} {'r_min':>5}")
    for r in fam:
        print(f"{r['family']:<12} {r['n_pos']:>4} {r['tp']:>4} {r['fn']:>4} {r['n_flagged']:>5} "
              f"{r['fp']:>4}  {fmt(r['precision'])} {fmt(r['recall'])} | "
              f"{fmt(r['precision_mean']):>6} {fmt(r['precision_worst'])} "
              f"{fmt(r['recall_mean']):>6} {fmt(r['recall_worst'])}")
    print()
    print("per typology, account level (pooled)")
    print(f"{'typology':<42} {'TP':>4} {'FP':>5} {'FN':>4}  {'prec':>5} {'rec':>5} {'/1k':>6}")
    for r in typ:
        print(f"{r['typology']:<42} {r['tp']:>4} {r['fp']:>5} {r['fn']:>4}  "
              f"{fmt(r['precision'])} {fmt(r['recall'])} {r['alerts_per_1k']:6.2f}")
    if args.misses:
        for res in results:
            misses(res)
    if args.json:
        Path(args.json).write_text(json.dumps({"seeds": seeds, "set": args.set,
                                               "families": fam, "typologies": typ,
                                               "per_seed": results}, indent=1, default=str))


if __name__ == "__main__":
    main()
