"""Compare a scan's alerts and risk with generated ground truth (``txflags eval``).

Account level (the unit an investigator sees):

- typology T: positives = label-1 accounts whose ``typology_ids`` hold T; predicted = accounts
  with an alert of T.
- family F: positives = label-1 accounts whose ``family`` is F or whose ``typology_ids`` hold a
  typology of F; predicted = accounts with an alert of family F.
- ``flagged`` overall: positives = label-1 accounts; predicted = ``flagged`` in risk.parquet.
- ``flagged`` by family F: recall over F's positives; precision = share of flagged accounts with
  an F alert that are label 1 (a real case, whatever its family).

Transaction level (where truth has it): per typology, the union of alerts' ``evidence_txn_ids``
against truth_transactions. Evidence covers only the strongest window, so recall there is a lower
bound. ``alerts_per_1k`` = predicted accounts per 1,000 accounts in the truth population.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from txflags.errors import InputError

COUNT_COLS = ["key", "n_pos", "n_pred", "tp", "fp", "fn", "precision", "recall", "alerts_per_1k"]


def _resolve(path: str | Path, name: str, what: str) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / name
    if not p.is_file():
        raise InputError(f"{what}: {p} does not exist (give a folder holding {name} or the file)")
    return p


def _read(path: Path, need: list[str]) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise InputError(f"{path} lacks column(s) {', '.join(missing)}")
    return frame


def family_of(tid: pl.Expr) -> pl.Expr:
    return tid.str.split(".").list.first()


def counts(pred: pl.DataFrame, pos: pl.DataFrame, keys: list[str], n_accounts: int) -> pl.DataFrame:
    """TP/FP/FN, precision, recall per key; ``pred`` and ``pos`` are (key, item) pairs."""
    pred, pos = pred.unique(), pos.unique()
    tp = pred.join(pos, on=["key", "item"]).group_by("key").len("tp")
    frame = (
        pl.DataFrame({"key": sorted(set(keys))}, schema={"key": pl.String})
        .join(pos.group_by("key").len("n_pos"), on="key", how="left")
        .join(pred.group_by("key").len("n_pred"), on="key", how="left")
        .join(tp, on="key", how="left")
        .with_columns(pl.col("n_pos", "n_pred", "tp").fill_null(0).cast(pl.Int64))
    )
    return frame.with_columns(
        (pl.col("n_pred") - pl.col("tp")).alias("fp"),
        (pl.col("n_pos") - pl.col("tp")).alias("fn"),
        pl.when(pl.col("n_pred") > 0).then(pl.col("tp") / pl.col("n_pred")).alias("precision"),
        pl.when(pl.col("n_pos") > 0).then(pl.col("tp") / pl.col("n_pos")).alias("recall"),
        (pl.col("n_pred") * 1000 / max(n_accounts, 1)).alias("alerts_per_1k"),
    ).select(COUNT_COLS)


def evaluate(truth: str | Path, alerts: str | Path) -> dict[str, Any]:
    """Every table of the module docstring, as plain lists of dicts (JSON-ready)."""
    tpath = _resolve(truth, "truth_accounts.parquet", "--truth")
    apath = _resolve(alerts, "alerts.parquet", "--alerts")
    t = _read(tpath, ["account_id", "label", "family", "typology_ids"])
    a = _read(apath, ["typology_id", "family", "account_id", "evidence_txn_ids"])
    rpath = apath.with_name("risk.parquet")
    risk = _read(rpath, ["account_id", "flagged"]) if rpath.is_file() else None
    n = t.height

    positives = t.filter(pl.col("label") == 1)
    pos_typ = positives.select(
        pl.col("typology_ids").alias("key"), pl.col("account_id").alias("item")
    ).explode("key").drop_nulls()
    pos_fam = pl.concat(
        [
            positives.select(pl.col("family").alias("key"), pl.col("account_id").alias("item")),
            pos_typ.select(family_of(pl.col("key")).alias("key"), "item"),
        ]
    ).drop_nulls()
    pred_typ = a.select(pl.col("typology_id").alias("key"), pl.col("account_id").alias("item"))
    pred_fam = a.select(pl.col("family").alias("key"), pl.col("account_id").alias("item"))
    typ_keys = pos_typ["key"].to_list() + pred_typ["key"].to_list() + _catalogue_ids()
    fam_keys = pos_fam["key"].to_list() + pred_fam["key"].to_list()

    out: dict[str, Any] = {
        "truth": str(tpath),
        "alerts": str(apath),
        "accounts": n,
        "positives": positives.height,
        "by_typology": counts(pred_typ, pos_typ, typ_keys, n).to_dicts(),
        "by_family": counts(pred_fam, pos_fam, fam_keys, n).to_dicts(),
    }
    if risk is not None:
        flagged = risk.filter(pl.col("flagged")).select(pl.col("account_id").alias("item"))
        any_pos = positives.select(pl.lit("all").alias("key"), pl.col("account_id").alias("item"))
        out["flagged"] = counts(flagged.with_columns(pl.lit("all").alias("key")), any_pos,
                                ["all"], n).to_dicts()[0]
        out["flagged_by_family"] = _flagged_by_family(flagged, pred_fam, pos_fam, positives, n)
    ttx = tpath.with_name("truth_transactions.parquet")
    if ttx.is_file():
        tt = _read(ttx, ["txn_id", "typology_id"])
        pos = tt.select(pl.col("typology_id").alias("key"), pl.col("txn_id").alias("item"))
        pred = a.select(
            pl.col("typology_id").alias("key"), pl.col("evidence_txn_ids").alias("item")
        ).explode("item").drop_nulls()
        keys = pos["key"].to_list() + pred["key"].to_list()
        rows = counts(pred, pos, keys, n).drop("alerts_per_1k")
        out["transactions_by_typology"] = rows.filter(
            (pl.col("n_pos") > 0) | (pl.col("n_pred") > 0)
        ).to_dicts()
    return out


def _flagged_by_family(
    flagged: pl.DataFrame,
    pred_fam: pl.DataFrame,
    pos_fam: pl.DataFrame,
    positives: pl.DataFrame,
    n: int,
) -> list[dict[str, Any]]:
    fam_flagged = pred_fam.unique().join(flagged, on="item")  # flagged accounts with an F alert
    is_pos = positives.select(pl.col("account_id").alias("item"), pl.lit(True).alias("_p"))
    prec = (
        fam_flagged.join(is_pos, on="item", how="left")
        .group_by("key")
        .agg(pl.len().alias("n_pred"), pl.col("_p").fill_null(False).sum().alias("tp_any"))
    )
    rec = (
        pos_fam.unique()
        .join(flagged.with_columns(pl.lit(True).alias("_f")), on="item", how="left")
        .group_by("key")
        .agg(pl.len().alias("n_pos"), pl.col("_f").fill_null(False).sum().alias("tp"))
    )
    frame = rec.join(prec, on="key", how="full", coalesce=True).with_columns(
        pl.col("n_pos", "tp", "n_pred", "tp_any").fill_null(0).cast(pl.Int64)
    )
    return (
        frame.with_columns(
            (pl.col("n_pos") - pl.col("tp")).alias("fn"),
            (pl.col("n_pred") - pl.col("tp_any")).alias("fp"),
            pl.when(pl.col("n_pred") > 0)
            .then(pl.col("tp_any") / pl.col("n_pred"))
            .alias("precision"),
            pl.when(pl.col("n_pos") > 0).then(pl.col("tp") / pl.col("n_pos")).alias("recall"),
            (pl.col("n_pred") * 1000 / max(n, 1)).alias("alerts_per_1k"),
        )
        .select(COUNT_COLS)
        .sort("key")
        .to_dicts()
    )


def _catalogue_ids() -> list[str]:
    try:
        from txflags.catalogue import load_catalogue

        return [t.id for t in load_catalogue()]
    except InputError:
        return []
