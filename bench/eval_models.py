"""Account-level ROC-AUC / PR-AUC of anomaly models, rules and the combined score.

    python bench/eval_models.py --customers 5000 --days 60 --warmup 21

Generates data with ``txflags.synthetic`` (or reads ``--data DIR``), replays it night by night
(``txflags.models.evaluation.evaluate``) and prints the overall and per-family tables.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from txflags.models.evaluation import evaluate
from txflags.synthetic import SynthConfig, generate


def _row(name: str, table: dict) -> str:
    cells = [f"{k} {v['roc_auc']:.3f}/{v['pr_auc']:.3f}" for k, v in table.items()
             if k != "positives" and v["roc_auc"] is not None]
    return f"{name:<12} " + "  ".join(cells)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=21)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--data", type=Path, default=None, help="An existing synth folder.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "data"
            generate(SynthConfig(customers=args.customers, days=args.days, seed=args.seed), data)
        r = evaluate(data, warmup_days=args.warmup)
    if args.json:
        print(json.dumps(r, indent=2))
        return
    print(f"{r['accounts']:,} accounts, {r['positives']} positives, {r['days']} days "
          f"({r['warmup_days']} warm-up, {r['scored_days']} scored); models {r['seconds_models']}s")
    print("ROC-AUC/PR-AUC")
    print(_row("overall", r["overall"]))
    for fam, t in r["by_family"].items():
        print(_row(f"{fam} ({t['positives']})", t))


if __name__ == "__main__":
    main()
