"""The configured models together: score each night, explain, learn, save and load.

>>> import polars as pl
>>> from datetime import date
>>> from txflags.models import ModelSuite, EWBaseline
>>> suite = ModelSuite([EWBaseline(features=("usd_in_cash",), min_days=1)], explain_min=0.5)
>>> day = lambda d, v: pl.DataFrame({"account_id": ["A"], "day": [date(2026, 1, d)],
...                                  "usd_in_cash": [v]})
>>> _ = suite.update_and_score(day(1, 100.0))
>>> suite.update_and_score(day(2, 900.0))["reasons"].to_list()
[["cash deposits today $900, 9.0× this account's usual (EW mean $100)"]]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from txflags.atomic import commit_all, json_writer
from txflags.errors import InputError
from txflags.models.base import DailyModel
from txflags.models.baseline import EWBaseline
from txflags.models.daily import FEATURE_VERSION
from txflags.models.hst import HSTDetector
from txflags.models.iforest import IForestDetector
from txflags.models.state import load_state, read_stamp, state_writers

SCORES_SCHEMA = pl.Schema(
    {
        "account_id": pl.String,
        "day": pl.Date,
        "model": pl.String,
        "score": pl.Float64,
        "top_features": pl.List(pl.String),
        "reasons": pl.List(pl.String),
    }
)
SUITE_FILE = "suite.json"
MODEL_CLASSES: dict[str, type[DailyModel]] = {
    c.name: c for c in (EWBaseline, HSTDetector, IForestDetector)
}


def default_models() -> list[DailyModel]:
    """The models a scan runs unless configured otherwise: baseline, half-space trees, iforest."""
    return [EWBaseline(), HSTDetector(), IForestDetector()]


@dataclass(frozen=True)
class Cascade:
    """Which models score every row, and how the others pick the rows they score.

    ``screen`` models (cheap, vectorised) score every (account, day). The other models (river's
    half-space trees: a Python loop per vector) score only the *shortlist*: the rows of ``focus``
    accounts (the scan passes the accounts with a rule signal) and, per day, the ``top_n`` rows
    with the highest screen score (``weights``-weighted mean of the screen models). Rows are
    explained when they are on the shortlist or their screen score reaches ``report_min``.
    Not part of any model's stamp: changing it never invalidates saved state.
    """

    screen: tuple[str, ...] = ("baseline", "iforest")
    top_n: int = 5000
    weights: Mapping[str, float] = field(
        default_factory=lambda: {"baseline": 0.5, "hst": 1.0, "iforest": 1.0}
    )
    report_min: float = 0.9

    def screen_score(self, scores: Mapping[str, np.ndarray]) -> np.ndarray:
        """Weighted mean of the screen models' scores (zeros when there are none)."""
        parts = [(self.weights.get(n, 1.0), s) for n, s in scores.items() if n in self.screen]
        total = sum(w for w, _ in parts)
        if not parts or total <= 0:
            n = len(next(iter(scores.values()))) if scores else 0
            return np.zeros(n)
        return sum(w * s for w, s in parts) / total


class ModelSuite:
    """Models scored and learned together, one day at a time (score first, then learn)."""

    def __init__(
        self,
        models: Sequence[DailyModel] | None = None,
        top_k: int = 3,
        explain_min: float = 0.9,
        cascade: Cascade | None = None,
    ) -> None:
        self.models = list(models) if models is not None else default_models()
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise InputError(f"model names must be unique, got {names}")
        self.top_k = top_k
        self.explain_min = explain_min
        self.cascade = cascade
        self.nights_ = 0
        self.days_learned_: list[str] = []
        self.rows_learned_ = 0
        self.covered_until_: str | None = None
        self.batches_: list[str] = []
        self.last_night_: dict[str, Any] = {}

    @property
    def last_day(self) -> date | None:
        return date.fromisoformat(self.days_learned_[-1]) if self.days_learned_ else None

    def update_and_score(
        self,
        daily: pl.DataFrame,
        learn: bool = True,
        *,
        learn_mask: pl.Series | np.ndarray | None = None,
        focus: pl.Series | Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """Score every (account, day) of ``daily`` with every model, then learn that day.

        Days are taken in order; each is scored against what was learned before it. Without
        ``learn_mask``, days on or before the last learned day are scored but not learned again
        (re-running a night is harmless). With ``learn_mask`` (one bool per row of ``daily``),
        exactly the marked rows are learned, after their day is scored: the caller decides
        (a scan marks the account-days that end within the batch and not before; see
        ``nightly.learnable``). With a ``cascade``, non-screen models score only the shortlist
        (``focus`` accounts plus each day's ``top_n`` by screen score) and rows off it have no
        score row for those models. Returns ``SCORES_SCHEMA`` rows; reasons only where
        score >= explain_min (and, with a cascade, on the shortlist or above its report_min).
        """
        self.last_night_ = {"rows_scored": daily.height, "rows_shortlisted": 0,
                            "rows_explained": 0, "rows_learned": 0}
        if daily.height == 0:
            return pl.DataFrame(schema=SCORES_SCHEMA)
        if learn_mask is not None:
            daily = daily.with_columns(pl.Series("_learn", np.asarray(learn_mask, dtype=bool)))
        focus_ids = (pl.Series("account_id", list(focus), pl.String) if focus is not None
                     and not isinstance(focus, pl.Series) else focus)
        out: list[pl.DataFrame] = []
        learned_any = False
        for frame in sorted(daily.partition_by("day", maintain_order=True),
                            key=lambda f: f["day"][0]):
            day = frame["day"][0]
            if learn_mask is not None:
                learn_rows = frame.filter(pl.col("_learn")).drop("_learn")
                frame = frame.drop("_learn")
            elif learn and (self.last_day is None or day > self.last_day):
                learn_rows = frame
            else:
                learn_rows = frame.clear()
            out.extend(self._score_day(frame, focus_ids))
            if learn and learn_rows.height:
                for model in self.models:
                    model.learn_many(learn_rows)
                if day.isoformat() not in self.days_learned_:
                    self.days_learned_ = sorted({*self.days_learned_, day.isoformat()})
                self.rows_learned_ += learn_rows.height
                self.last_night_["rows_learned"] += learn_rows.height
                learned_any = True
        if learned_any:
            self.nights_ += 1
        return pl.concat(out).sort("account_id", "day", "model")

    def _score_day(self, frame: pl.DataFrame, focus: pl.Series | None) -> list[pl.DataFrame]:
        """Score one day's rows (cascade-aware) and explain the rows that need it."""
        c = self.cascade
        scores: dict[str, np.ndarray] = {}
        rows: dict[str, np.ndarray] = {}
        every = np.arange(frame.height)
        screen = [m for m in self.models if c is None or m.name in c.screen]
        for m in screen:
            scores[m.name], rows[m.name] = np.asarray(m.score_many(frame)), every
        if c is not None and len(screen) < len(self.models):
            cheap = c.screen_score(scores)
            short = self._shortlist(frame, cheap, focus, c.top_n)
            self.last_night_["rows_shortlisted"] += len(short)
            sub = frame[short]
            for m in self.models:
                if m.name not in scores:
                    scores[m.name], rows[m.name] = np.asarray(m.score_many(sub)), short
            explain = np.zeros(frame.height, dtype=bool)
            explain[short] = True
            explain |= cheap >= c.report_min
        else:
            explain = np.ones(frame.height, dtype=bool)
        out = []
        for m in self.models:  # the suite's model order
            idx, score = rows[m.name], scores[m.name]
            pick = idx[(score >= self.explain_min) & explain[idx]]
            out.append(self._frame(m, frame, idx, score, pick))
        return out

    @staticmethod
    def _shortlist(
        frame: pl.DataFrame, cheap: np.ndarray, focus: pl.Series | None, top_n: int
    ) -> np.ndarray:
        """Sorted row indices: rows of ``focus`` accounts plus the ``top_n`` highest ``cheap``."""
        keep = np.zeros(frame.height, dtype=bool)
        if focus is not None and len(focus):
            keep |= frame["account_id"].is_in(focus.implode()).to_numpy()
        if top_n > 0:
            n = min(top_n, frame.height)
            keep[np.argpartition(-cheap, n - 1)[:n]] = True
        return np.flatnonzero(keep)

    def _frame(
        self, model: DailyModel, frame: pl.DataFrame, idx: np.ndarray, score: np.ndarray,
        pick: np.ndarray,
    ) -> pl.DataFrame:
        """Score rows of ``model`` (rows ``idx`` of ``frame``), reasons for rows ``pick``."""
        base = pl.DataFrame(
            {
                "_i": idx,
                "account_id": frame["account_id"].gather(idx),
                "day": frame["day"].gather(idx),
                "score": np.asarray(score, dtype=np.float64),
            }
        )
        feats: list[list[str]] = []
        reasons: list[list[str]] = []
        if len(pick):
            for contribs in model.explain_many(frame[pick], self.top_k):
                feats.append([c.feature for c in contribs if c.feature])
                reasons.append([c.sentence for c in contribs])
            self.last_night_["rows_explained"] = self.last_night_.get("rows_explained", 0) + len(
                pick
            )
        why = pl.DataFrame(
            {"_i": pick, "top_features": feats, "reasons": reasons},
            schema={"_i": base["_i"].dtype, "top_features": pl.List(pl.String),
                    "reasons": pl.List(pl.String)},
        )
        return (
            base.join(why, on="_i", how="left")
            .with_columns(pl.lit(model.name).alias("model"),
                          pl.col("top_features", "reasons").fill_null([]))
            .select(SCORES_SCHEMA.names())
            .cast(dict(SCORES_SCHEMA))  # type: ignore[arg-type]
        )

    # -- state ----------------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """Nights and days learned, accounts tracked, and each model's stamp summary."""
        tracked = max((getattr(m, "n_accounts", 0) for m in self.models), default=0)
        return {
            "models": [m.name for m in self.models],
            "nights_learned": self.nights_,
            "days_learned": len(self.days_learned_),
            "first_day": self.days_learned_[0] if self.days_learned_ else None,
            "last_day": self.days_learned_[-1] if self.days_learned_ else None,
            "accounts_tracked": tracked,
            "rows_learned": self.rows_learned_,
            "covered_until": self.covered_until_,
            "feature_version": FEATURE_VERSION,
        }

    def state_writers(
        self, directory: str | Path, extra: Mapping[str, Any] | None = None
    ) -> dict[Path, Callable[[Path], None]]:
        """Target path -> writer of every state file (``suite.json`` last), for a caller that
        stages and commits them itself (the scan does, inside the store's commit)."""
        d = Path(directory)
        files: dict[Path, Callable[[Path], None]] = {}
        for m in self.models:
            files.update(state_writers(m, d / f"{m.name}.pkl", dict(extra or {})))
        meta = {**self.info(), **dict(extra or {}), "top_k": self.top_k,
                "explain_min": self.explain_min, "days": self.days_learned_,
                "batches": self.batches_[-1000:]}
        files[d / SUITE_FILE] = json_writer(meta)
        return files

    def save(self, directory: str | Path, extra: Mapping[str, Any] | None = None) -> Path:
        """Write every model's state (with its stamp), then ``suite.json`` last."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        commit_all(self.state_writers(d, extra))  # type: ignore[arg-type]
        return d

    @classmethod
    def load(
        cls, directory: str | Path, models: Sequence[DailyModel] | None = None, **kwargs: Any
    ) -> ModelSuite:
        """The suite saved in ``directory``, checked against ``models`` (default models if None).

        An absent directory (or one without ``suite.json``) gives a fresh suite: the first night.
        Saved state for other models, or stamps that differ, raise ``InputError``.
        """
        d = Path(directory)
        suite = cls(models, **kwargs)
        meta_path = d / SUITE_FILE
        if not meta_path.is_file():
            if d.is_dir() and any(d.glob("*.pkl")):
                raise InputError(f"{d} holds model state but no {SUITE_FILE}; run "
                                 "`txflags models reset --store DIR` to start over")
            return suite
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        saved = list(meta.get("models", []))
        wanted = [m.name for m in suite.models]
        if saved != wanted:
            raise InputError(f"model state in {d} is for models {saved}, configured {wanted}; "
                             "configure the same models or run `txflags models reset`")
        suite.models = [load_state(d / f"{m.name}.pkl", expected=m) for m in suite.models]
        suite.nights_ = int(meta.get("nights_learned", 0))
        suite.days_learned_ = list(meta.get("days", []))
        suite.rows_learned_ = int(meta.get("rows_learned", 0))
        suite.covered_until_ = meta.get("covered_until")
        suite.batches_ = list(meta.get("batches", []))
        run = meta.get("run_id")
        torn = [m.name for m in suite.models
                if read_stamp(d / f"{m.name}.pkl").get("run_id") != run]
        if torn:
            raise InputError(f"model state in {d} is torn: {', '.join(torn)} not saved by run "
                             f"{run} like {SUITE_FILE}; run `txflags models reset --store DIR`")
        return suite


def read_info(directory: str | Path) -> dict[str, Any] | None:
    """What ``txflags models show`` prints: suite.json plus each model's stamp (None if empty)."""
    d = Path(directory)
    meta_path = d / SUITE_FILE
    if not meta_path.is_file():
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.pop("days", None)
    meta.pop("batches", None)
    meta["stamps"] = {name: read_stamp(d / f"{name}.pkl") for name in meta.get("models", [])}
    return meta
