"""The models inside a nightly scan: configuration, which rows to read, which to learn, and run.

``txflags scan`` calls, after the rule risk is computed::

    cfg = NightlyConfig.from_dict(profile.get("models"), risk_threshold=risk_cfg.threshold)
    suite = load_suite(STORE / "models", cfg)            # fresh on the first night
    night = run_night(suite, rows, accounts, start=, end=, covered_until=, focus=)
    risk_frame = combine(risk_frame, night.scores, cfg.combine)

and stages ``suite.state_writers(STORE / "models")`` into the store's atomic commit.

**Which account-days are learned.** Daily vectors are per *local* day, but batches are UTC
files, so a local day is split across two batches. A row (account, day) is learned by the first
batch whose coverage (up to the midnight UTC after its last UTC day) includes the end of that
local day in the account's time zone, and by no other batch: the suite keeps ``covered_until``.
So every account-day is learned once, complete, and re-running a batch learns nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from txflags.errors import InputError
from txflags.models.daily import daily_features
from txflags.models.suite import MODEL_CLASSES, Cascade, ModelSuite
from txflags.scoring import CombineConfig

#: Model order in the suite (and in saved state): canonical, whatever order a profile lists.
MODEL_ORDER = ("baseline", "hst", "iforest")
_ROW_COLS = ("txn_id", "account_id", "ts", "direction", "amount_usd", "channel", "mcc",
             "counterparty_id", "counterparty_country", "city")


@dataclass(frozen=True)
class NightlyConfig:
    """The ``models:`` section of a scan profile (every key optional).

    - ``use``: models to run (default all three: baseline, hst, iforest);
    - ``cascade``: ``{screen: [...], top_n: N, report_min: x}`` (see ``suite.Cascade``);
      ``cascade: null`` scores every row with every model;
    - ``explain_min`` (0.9): a model's reasons are written for scores at or above it;
    - any ``CombineConfig`` key (``model_weights``, ``anomaly_weight``, ``threshold``,
      ``report_min``, ``anomaly_flag``, ``top_reasons``, ``how``, ``day_agg``); ``threshold``
      defaults to the profile's ``risk.threshold``, so the combined score flags at the same level.
    """

    use: tuple[str, ...] = MODEL_ORDER
    cascade: Cascade | None = field(default_factory=Cascade)
    explain_min: float = 0.9
    combine: CombineConfig = field(default_factory=CombineConfig)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any] | None, risk_threshold: float | None = None
    ) -> NightlyConfig:
        data = dict(data or {})
        use = data.pop("use", None)
        if use is None:
            use = MODEL_ORDER
        if isinstance(use, str) or not all(isinstance(u, str) for u in use):
            raise InputError("models.use: write a list of model names, e.g. [baseline, iforest]")
        unknown = sorted(set(use) - set(MODEL_CLASSES))
        if unknown or not use:
            raise InputError(f"models.use: unknown or no model(s) {unknown}; "
                             f"choose from {', '.join(MODEL_ORDER)}")
        use_t = tuple(n for n in MODEL_ORDER if n in use)
        explain_min = float(data.pop("explain_min", 0.9))
        cascade_raw = data.pop("cascade", {})
        if risk_threshold is not None and "threshold" not in data:
            data["threshold"] = float(risk_threshold)
        combine = CombineConfig.from_dict(data)
        cascade = None
        if cascade_raw is not None:
            if not isinstance(cascade_raw, Mapping):
                raise InputError("models.cascade: write {screen: [...], top_n: N} or null")
            bad = sorted(set(cascade_raw) - {"screen", "top_n", "report_min"})
            if bad:
                raise InputError(f"models.cascade: unknown key(s) {', '.join(bad)}")
            screen = tuple(cascade_raw.get("screen", Cascade.screen))
            top_n = int(cascade_raw.get("top_n", Cascade.top_n))
            if top_n < 0:
                raise InputError("models.cascade.top_n must be >= 0")
            cascade = Cascade(
                screen=screen, top_n=top_n, weights=dict(combine.model_weights),
                report_min=float(cascade_raw.get("report_min", combine.report_min)),
            )
        return cls(use=use_t, cascade=cascade, explain_min=explain_min, combine=combine)

    def as_dict(self) -> dict[str, Any]:
        """What the run records (summary.json)."""
        c = self.cascade
        return {
            "use": list(self.use),
            "cascade": None if c is None else {"screen": list(c.screen), "top_n": c.top_n,
                                               "report_min": c.report_min},
            "explain_min": self.explain_min,
            "model_weights": dict(self.combine.model_weights),
            "anomaly_weight": self.combine.anomaly_weight,
            "threshold": self.combine.threshold,
            "report_min": self.combine.report_min,
            "anomaly_flag": self.combine.anomaly_flag,
        }


def load_suite(directory: str | Path, cfg: NightlyConfig, store_hint: str = "DIR") -> ModelSuite:
    """The saved suite (or a fresh one) for ``cfg``; a mismatch is an ``InputError`` telling the
    user to run ``txflags models reset --store <store_hint>``."""
    models = [MODEL_CLASSES[n]() for n in cfg.use]
    try:
        return ModelSuite.load(directory, models, explain_min=cfg.explain_min,
                               cascade=cfg.cascade)
    except InputError as exc:
        msg = str(exc).replace("--store DIR", f"--store {store_hint}")
        if "txflags models reset" not in msg:
            msg += f"; run `txflags models reset --store {store_hint}` to start over"
        elif f"--store {store_hint}" not in msg:
            msg = msg.replace("`txflags models reset`",
                              f"`txflags models reset --store {store_hint}`")
        raise InputError(msg) from None


def model_rows(rows: pl.LazyFrame, recent_from: date) -> pl.LazyFrame:
    """What the daily features read: rows from ``recent_from`` (UTC) in full, and older rows
    only as (account_id, counterparty_id, ts) of the pairs seen since, so "new counterparty"
    is judged against the whole lookback without re-reading every column of it."""
    since = datetime.combine(recent_from, datetime.min.time(), tzinfo=UTC)
    recent = rows.filter(pl.col("ts") >= since).select(_ROW_COLS)
    pairs = recent.select("account_id", "counterparty_id").drop_nulls().unique()
    older = (
        rows.filter(pl.col("ts") < since)
        .select("account_id", "counterparty_id", "ts")
        .join(pairs, on=["account_id", "counterparty_id"], how="semi")
    )
    return pl.concat([recent, older], how="diagonal")


def day_end_utc(daily: pl.DataFrame, accounts: pl.DataFrame) -> pl.Series:
    """For each row, the UTC instant its local day ends (next local midnight, account zone)."""
    tz = accounts.select("account_id", "timezone").unique("account_id", keep="first")
    frame = daily.select("account_id", "day").join(tz, on="account_id", how="left",
                                                   maintain_order="left")
    naive = (pl.col("day") + timedelta(days=1)).cast(pl.Datetime("us"))
    expr = naive.dt.replace_time_zone("UTC")
    for zone in sorted(frame["timezone"].drop_nulls().unique().to_list()):
        local = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        expr = (pl.when(pl.col("timezone") == zone)
                .then(local.dt.convert_time_zone("UTC")).otherwise(expr))
    return frame.select(expr.alias("end"))["end"]


def learnable(
    daily: pl.DataFrame, accounts: pl.DataFrame, covered_until: datetime,
    previously: datetime | None,
) -> np.ndarray:
    """Rows whose local day ends within (previously, covered_until]: learned tonight, once."""
    end = day_end_utc(daily, accounts)
    ok = end.le(covered_until).fill_null(False)
    if previously is not None:
        ok = ok & end.gt(previously).fill_null(False)
    return ok.to_numpy()


@dataclass
class Night:
    """What the models did tonight."""

    daily: pl.DataFrame
    scores: pl.DataFrame
    learned: bool
    info: dict[str, Any]


def run_night(
    suite: ModelSuite,
    rows: pl.LazyFrame,
    accounts: pl.DataFrame,
    *,
    start: date,
    end: date,
    covered_until: datetime,
    focus: pl.Series | Sequence[str] | None = None,
    batch: str | None = None,
    learn: bool = True,
) -> Night:
    """Daily vectors of local days [start, end] from ``rows`` (lookback + batch), scored by the
    suite (cascade, ``focus`` = accounts with a rule signal), learning the account-days this
    batch completes (``learnable``). Updates the suite's ``covered_until`` and batches."""
    inp = model_rows(rows, start - timedelta(days=1))
    daily = daily_features(inp, accounts, start=start, end=end).collect()
    prev = datetime.fromisoformat(suite.covered_until_) if suite.covered_until_ else None
    if batch is not None and batch in suite.batches_:
        learn = False  # this batch was learned before (its content hash): never twice
    mask = (learnable(daily, accounts, covered_until, prev) if learn
            else np.zeros(daily.height, dtype=bool))
    nights_before = suite.nights_
    scores = suite.update_and_score(daily, learn=learn, learn_mask=mask, focus=focus)
    learned = suite.nights_ > nights_before
    if learned:
        suite.covered_until_ = max(covered_until, prev or covered_until).isoformat()
        if batch is not None:
            suite.batches_.append(batch)
    info = {
        **suite.last_night_,
        "accounts_scored": daily["account_id"].n_unique(),
        "days_scored": sorted(d.isoformat() for d in daily["day"].unique().to_list()),
        "learned": learned,
    }
    return Night(daily, scores, learned, info)
