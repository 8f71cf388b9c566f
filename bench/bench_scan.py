"""Benchmark `txflags scan` (issue 4, performance). Not a test.

(a) Full-catalogue scan of N generated transactions against the floor (read the same Parquet and
    one group-by over it; two floors: the two columns the group-by needs, as Polars reads them
    lazily, and every column, as a scan must) and against plain pandas code for five
    representative typologies; and txflags on those same five typologies only (a catalogue
    folder with their files) against the same pandas code: the whole scan (ingest with its
    checks, history append, detect, atomic writes) and the engine alone (read the Parquet and
    detect, as the pandas code reads it and computes).
(a) and (b) run the rules only (``models=False``).
(b) Nightly cost: night 1 (empty store) against night D+1 (D days of history, appended as one
    batch, which also stores the daily aggregates) at the same daily volume.
(c) Anomaly models (issue 5): one nightly scan of ~1M transactions with and without models, same
    run: a store warmed with the earlier nights (history and model state), copied twice, then the
    same night scanned into each copy, once with ``--no-models``. ``--models-only`` runs (c)
    alone; ``--data DIR`` reuses a ``txflags synth --per-day`` folder.

Each measurement runs in its own subprocess so its peak RSS (``resource.getrusage``) is its own;
its imports are timed apart (``startup_s``), so every time is the work alone. The floors are the
fastest of three runs; the nights run as three pairs (median reported, every ratio listed).
Usage: ``python bench/bench_scan.py --customers 9000 --days 90`` (about 1M rows). pandas is
needed only here (``pip install pandas``); it is not a txflags dependency.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
kind, d = sys.argv[1], Path(sys.argv[2])
tx, acc = d / "transactions.parquet", d / "accounts.parquet"
# imports are timed apart (startup_s): the measured seconds are the work alone
t = time.perf_counter()
import polars as pl
if kind == "pandas":
    import numpy as np, pandas as pd
elif kind != "floor" and kind != "floor_all":
    from txflags.catalogue import load_catalogue
    from txflags.engine import detect
    from txflags.scan import scan
startup = time.perf_counter() - t
ru0 = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = ru0.ru_utime + ru0.ru_stime
t = time.perf_counter()
extra = {"startup_s": round(startup, 2)}
if kind == "floor":
    pl.scan_parquet(tx).group_by("account_id").agg(pl.len(), pl.col("amount_usd").sum()).collect()
elif kind == "floor_all":  # every column read, as a scan must (it validates each of them)
    pl.read_parquet(tx).group_by("account_id").agg(pl.len(), pl.col("amount_usd").sum())
elif kind == "scan":  # argv[4], optional: a catalogue folder (the pandas code's five)
    r = scan([tx], acc, store=d / sys.argv[3], out=d / (sys.argv[3] + "-out"), models=False,
             catalogue_root=sys.argv[4] if len(sys.argv) > 4 else None)
    extra |= {"alerts": r.alerts.height, "stages": r.summary["seconds"]}
elif kind == "detect":  # the engine alone: read the Parquet, run the catalogue of argv[3]
    r = detect(pl.scan_parquet(tx), pl.scan_parquet(acc), load_catalogue(root=sys.argv[3]))
    extra |= {"hits": r.hits.height}
elif kind == "night":
    files = sorted(Path(sys.argv[3]).glob("*.parquet"))
    r = scan(files, acc, store=d / sys.argv[4], out=d / (sys.argv[4] + "-out"), models=False)
    extra |= {"rows": r.summary["counts"]["rows_kept"], "stages": r.summary["seconds"],
              "daily_aggregates": r.summary["daily_aggregates"]}
elif kind == "models":
    files = sorted(Path(sys.argv[3]).glob("*.parquet"))
    r = scan(files, acc, store=Path(sys.argv[4]), out=Path(sys.argv[4] + "-out"),
             models=sys.argv[5] == "on")
    extra |= {"rows": r.summary["counts"]["rows_kept"], "stages": r.summary["seconds"],
              "models": {k: v for k, v in r.summary["models"].items() if k != "config"},
              "accounts_with_signal": r.summary["counts"]["accounts_with_signal"]}
elif kind == "pandas":
    df = pd.read_parquet(tx, columns=["txn_id", "ts", "account_id", "direction", "amount_usd",
                                      "channel", "mcc", "merchant", "counterparty_id"])
    df["channel"] = df["channel"].astype(str)
    df["direction"] = df["direction"].astype(str)
    df = df.sort_values(["account_id", "ts"])
    def n_hit(counts, k):
        return counts.loc[counts >= k].index.get_level_values(0).nunique()
    def rolling_count(sub, days):
        s = pd.Series(1, index=sub["ts"])
        return s.groupby(sub["account_id"].values).rolling(f"{days}D").sum()
    hits = {}
    # cash.structuring: >= 2 cash deposits in [8000, 10000) within 10 days
    s = df[(df.direction == "in") & df.channel.isin(["cash", "atm"])
           & (df.amount_usd >= 8000) & (df.amount_usd < 10000)]
    hits["structuring"] = n_hit(rolling_count(s, 10), 2)
    # cash.night_atm_deposits: >= 5 ATM deposits in 30 days, >= 50% between 22:00 and 06:00 UTC
    s = df[(df.direction == "in") & (df.channel == "atm")].copy()
    s["night"] = ((s.ts.dt.hour >= 22) | (s.ts.dt.hour < 6)).astype(float)
    g = s.set_index("ts").groupby("account_id")["night"].rolling("30D")
    r = pd.DataFrame({"n": g.count(), "share": g.mean()})
    hits["night_atm"] = r[(r.n >= 5) & (r.share >= 0.5)].index.get_level_values(0).nunique()
    # crypto.small_frequent_buys: >= 5 crypto buys <= $50 within 30 days
    s = df[(df.direction == "out") & (df.channel == "crypto") & (df.amount_usd <= 50)]
    hits["crypto_buys"] = n_hit(rolling_count(s, 30), 5)
    # remittance.many_senders_small: >= 10 small inbound transfers from >= 6 senders in 14 days
    s = df[(df.direction == "in") & df.channel.isin(["p2p", "money_transfer"])
           & (df.amount_usd < 500)].copy()
    s["code"] = s["counterparty_id"].astype("category").cat.codes
    def senders(x):
        out = np.empty(len(x))
        ts = x["ts"].values
        codes = x["code"].values
        lo = np.searchsorted(ts, ts - np.timedelta64(14, "D"), side="right")
        for i in range(len(x)):
            out[i] = len(set(codes[lo[i]:i + 1]))
        return pd.Series(out, index=x.index)
    s["senders"] = s.groupby("account_id", group_keys=False)[["ts", "code"]].apply(senders)
    s["n"] = rolling_count(s, 14).values
    hits["many_senders"] = s[(s.n >= 10) & (s.senders >= 6)].account_id.nunique()
    # lodging.motel_stacking: >= 6 lodging charges at >= 3 properties within 30 days
    lodging = [7011, 7033] + list(range(3501, 4000))
    s = df[(df.direction == "out") & df.mcc.isin(lodging)].copy()
    s["code"] = s["merchant"].astype("category").cat.codes
    s["n"] = rolling_count(s, 30).values
    s["props"] = s.groupby("account_id", group_keys=False)[["ts", "code"]].apply(senders)
    hits["motel"] = s[(s.n >= 6) & (s.props >= 3)].account_id.nunique()
    extra |= {"accounts_hit": hits}
sec = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
peak = ru.ru_maxrss / 1024
cpu = ru.ru_utime + ru.ru_stime - cpu0
print(json.dumps({"seconds": sec, "cpu_s": cpu, "peak_mb": peak, **extra}))
"""


def _run(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fastest(*args: str, runs: int = 3) -> dict:
    return min((_run(*args) for _ in range(runs)), key=lambda r: r["seconds"])


def _synth(d: Path, customers: int, days: int, seed: int, per_day: bool) -> None:
    cmd = [sys.executable, "-c", "from txflags.cli.app import main; main()", "synth",
           "--customers", str(customers), "--days", str(days), "--seed", str(seed), "--out",
           str(d)]
    subprocess.run(cmd + (["--per-day"] if per_day else []), check=True, capture_output=True)


def _link(folder: Path, files: list[Path]) -> Path:
    folder.mkdir()
    for f in files:
        (folder / f.name).symlink_to(f)
    return folder


#: the typologies the pandas code implements (its comments give their rules)
PANDAS_FIVE = ("cash.structuring", "cash.night_atm_deposits", "crypto.small_frequent_buys",
               "remittance.many_senders_small", "lodging.motel_stacking")


def _five_typologies(folder: Path) -> Path:
    """A catalogue folder holding the shipped files (and fixtures) of PANDAS_FIVE only, with the
    MCC groups:
    txflags' full scan (ingest, history, detect, write) of the same rules as the pandas code."""
    from txflags.catalogue import default_root

    root = default_root()
    for tid in PANDAS_FIVE:
        family, name = tid.split(".")
        (folder / family).mkdir(parents=True, exist_ok=True)
        for f in (f"{name}.yaml", f"{name}.fixture.yaml"):
            shutil.copy(root / family / f, folder / family / f)
    shutil.copy(root / "mcc_groups.yaml", folder / "mcc_groups.yaml")
    return folder


def bench_models(tmp: Path, a: argparse.Namespace) -> dict:
    """(c): the same night with and without models, on copies of one warmed store."""
    import polars as pl

    d = Path(a.data) if a.data else tmp / "models-data"
    if not a.data:
        _synth(d, a.models_customers, a.models_days, a.seed, per_day=True)
    days = sorted((d / "days").glob("*.parquet"))
    rows = [pl.scan_parquet(f).select(pl.len()).collect().item() for f in days]
    # tonight: the full UTC day with the most rows among the last full ones (~1M at 850k customers)
    last = max(range(len(days) - 2, len(days) - 4, -1), key=lambda i: rows[i])
    warm = _link(tmp / "warm", days[:last])
    tonight = _link(tmp / "tonight", [days[last]])
    t_warm = _run("models", str(d), str(warm), str(tmp / "store-warm"), "on")
    for name in ("store-on", "store-off"):
        shutil.copytree(tmp / "store-warm", tmp / name, symlinks=True)
    off = _run("models", str(d), str(tonight), str(tmp / "store-off"), "off")
    on = _run("models", str(d), str(tonight), str(tmp / "store-on"), "on")
    return {
        "warmup_nights_in_one_batch": last, "warmup_rows": t_warm["rows"],
        "warmup_s": round(t_warm["seconds"], 1),
        "night": days[last].name, "night_rows": on["rows"],
        "without_models_s": round(off["seconds"], 2),
        "with_models_s": round(on["seconds"], 2),
        "time_ratio": round(on["seconds"] / off["seconds"], 3),
        "without_models_peak_mb": round(off["peak_mb"]),
        "with_models_peak_mb": round(on["peak_mb"]),
        "peak_ratio": round(on["peak_mb"] / off["peak_mb"], 3),
        "stages_without_s": off["stages"], "stages_with_s": on["stages"],
        "models": on["models"], "accounts_with_signal_without": off["accounts_with_signal"],
        "accounts_with_signal_with": on["accounts_with_signal"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=9000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-pandas", action="store_true")
    ap.add_argument("--skip-nightly", action="store_true")
    ap.add_argument("--skip-models", action="store_true")
    ap.add_argument("--models-only", action="store_true", help="Run (c) only.")
    ap.add_argument("--models-customers", type=int, default=850_000)
    ap.add_argument("--models-days", type=int, default=9)
    ap.add_argument("--data", help="(c): reuse this `txflags synth --per-day` folder.")
    a = ap.parse_args()
    report: dict = {"customers": a.customers, "days": a.days}
    if a.models_only:
        with tempfile.TemporaryDirectory() as tmp:
            report = {"models_customers": a.models_customers, **bench_models(Path(tmp), a)}
        print(json.dumps(report, indent=2))
        return
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "full"
        _synth(d, a.customers, a.days, a.seed, per_day=False)
        import polars as pl

        rows = pl.scan_parquet(d / "transactions.parquet").select(pl.len()).collect().item()
        report["rows"] = rows
        # the floors are the fastest of three runs (a ratio to them is never flattered by a
        # slow read); they varied 2.8-5.0 s at 10M between single runs
        floor = _fastest("floor", str(d))
        floor_all = _fastest("floor_all", str(d))
        full = _run("scan", str(d), "store")
        report["floor_s"] = round(floor["seconds"], 2)
        report["floor_all_columns_s"] = round(floor_all["seconds"], 2)
        report["floor_all_columns_peak_mb"] = round(floor_all["peak_mb"])
        report["scan_s"] = round(full["seconds"], 2)
        report["scan_stages_s"] = full["stages"]
        report["scan_peak_mb"] = round(full["peak_mb"])
        report["scan_over_floor"] = round(full["seconds"] / floor["seconds"], 1)
        report["scan_over_floor_all_columns"] = round(full["seconds"] / floor_all["seconds"], 1)
        report["detect_over_floor"] = round(full["stages"]["detect"] / floor["seconds"], 1)
        # CPU seconds (user + system, all threads): steadier than wall time on a shared machine
        report["floor_cpu_s"] = round(floor["cpu_s"], 2)
        report["scan_cpu_s"] = round(full["cpu_s"], 2)
        report["scan_over_floor_cpu"] = round(full["cpu_s"] / floor["cpu_s"], 1)
        if not a.skip_pandas:
            pdr = _run("pandas", str(d))
            five = _run("scan", str(d), "store5", str(_five_typologies(Path(tmp) / "five")))
            report["scan5_s"] = round(five["seconds"], 2)
            report["scan5_stages_s"] = five["stages"]
            report["pandas5_over_scan5"] = round(pdr["seconds"] / five["seconds"], 2)
            report["pandas5_over_scan5_cpu"] = round(pdr["cpu_s"] / five["cpu_s"], 2)
            detect5 = _run("detect", str(d), str(Path(tmp) / "five"))
            report["detect5_s"] = round(detect5["seconds"], 2)
            report["pandas5_over_detect5"] = round(pdr["seconds"] / detect5["seconds"], 2)
            report["pandas5_s"] = round(pdr["seconds"], 2)
            report["pandas5_peak_mb"] = round(pdr["peak_mb"])
            report["pandas5_over_scan"] = round(pdr["seconds"] / full["seconds"], 2)
            report["pandas5_cpu_s"] = round(pdr["cpu_s"], 2)
            report["pandas5_over_scan_cpu"] = round(pdr["cpu_s"] / full["cpu_s"], 2)
            report["pandas5_accounts_hit"] = pdr["accounts_hit"]
        if not a.skip_nightly:
            n = Path(tmp) / "nightly"
            _synth(n, a.customers, a.days + 1, a.seed, per_day=True)
            days = sorted((n / "days").glob("*.parquet"))
            # the first and last UTC files are partial days (time zones); use full ones
            hist, one, tonight = Path(tmp) / "hist", Path(tmp) / "one", Path(tmp) / "tonight"
            for folder, files in ((hist, days[:-2]), (one, days[1:2]), (tonight, days[-2:-1])):
                folder.mkdir()
                for f in files:
                    (folder / f.name).symlink_to(f)
            _run("night", str(n), str(hist), "store91")  # D days of history in one batch
            # three pairs, each on a fresh store (night 1) and a fresh copy of the history
            # store (night D+1); the median pair is reported, every ratio listed
            pairs = []
            for i in range(3):
                shutil.copytree(n / "store91", n / f"store91-{i}", symlinks=True)
                one_night = _run("night", str(n), str(one), f"store1-{i}")
                last_night = _run("night", str(n), str(tonight), f"store91-{i}")
                pairs.append((last_night["seconds"] / one_night["seconds"], one_night,
                              last_night))
            pairs.sort(key=lambda p: p[0])
            _, night1, night_last = pairs[1]
            report["night_ratios"] = [round(p[0], 2) for p in pairs]
            report["night1_s"] = round(night1["seconds"], 2)
            report["night1_rows"] = night1["rows"]
            report["night1_peak_mb"] = round(night1["peak_mb"])
            report["history_days"] = len(days) - 2
            report[f"night{a.days + 1}_s"] = round(night_last["seconds"], 2)
            report[f"night{a.days + 1}_rows"] = night_last["rows"]
            report[f"night{a.days + 1}_stages_s"] = night_last["stages"]
            report[f"night{a.days + 1}_peak_mb"] = round(night_last["peak_mb"])
            report[f"night{a.days + 1}_daily_aggregates"] = night_last["daily_aggregates"]
            report["night_ratio"] = round(night_last["seconds"] / night1["seconds"], 2)
            report["night_startup_s"] = night1["startup_s"]  # imports, apart from both nights
            report["night1_cpu_s"] = round(night1["cpu_s"], 2)
            report[f"night{a.days + 1}_cpu_s"] = round(night_last["cpu_s"], 2)
            report["night_ratio_cpu"] = round(night_last["cpu_s"] / night1["cpu_s"], 1)
        if not a.skip_models:
            m = Path(tmp) / "models"
            m.mkdir()
            report["models"] = bench_models(m, a)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
