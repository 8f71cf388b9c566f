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
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from txflags.atomic import json_writer, write_atomic
from txflags.errors import InputError
from txflags.models.base import DailyModel
from txflags.models.baseline import EWBaseline
from txflags.models.daily import FEATURE_VERSION
from txflags.models.hst import HSTDetector
from txflags.models.iforest import IForestDetector
from txflags.models.state import load_state, read_stamp, save_state

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


class ModelSuite:
    """Models scored and learned together, one day at a time (score first, then learn)."""

    def __init__(
        self,
        models: Sequence[DailyModel] | None = None,
        top_k: int = 3,
        explain_min: float = 0.9,
    ) -> None:
        self.models = list(models) if models is not None else default_models()
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise InputError(f"model names must be unique, got {names}")
        self.top_k = top_k
        self.explain_min = explain_min
        self.nights_ = 0
        self.days_learned_: list[str] = []

    @property
    def last_day(self) -> date | None:
        return date.fromisoformat(self.days_learned_[-1]) if self.days_learned_ else None

    def update_and_score(self, daily: pl.DataFrame, learn: bool = True) -> pl.DataFrame:
        """Score every (account, day) of ``daily`` with every model, then learn that day.

        Days are taken in order; each is scored against what was learned before it. Days on or
        before the last learned day are scored but not learned again (re-running a night is
        harmless). Returns ``SCORES_SCHEMA`` rows; reasons only where score >= explain_min.
        """
        if daily.height == 0:
            return pl.DataFrame(schema=SCORES_SCHEMA)
        out: list[pl.DataFrame] = []
        learned_any = False
        for frame in sorted(daily.partition_by("day", maintain_order=True),
                            key=lambda f: f["day"][0]):
            day = frame["day"][0]
            for model in self.models:
                out.append(self._score(model, frame))
            if learn and (self.last_day is None or day > self.last_day):
                for model in self.models:
                    model.learn_many(frame)
                self.days_learned_.append(day.isoformat())
                learned_any = True
        if learned_any:
            self.nights_ += 1
        return pl.concat(out).sort("account_id", "day", "model")

    def _score(self, model: DailyModel, frame: pl.DataFrame) -> pl.DataFrame:
        score = model.score_many(frame)
        feats: list[list[str]] = [[] for _ in range(frame.height)]
        reasons: list[list[str]] = [[] for _ in range(frame.height)]
        pick = [i for i, s in enumerate(score) if s >= self.explain_min]
        if pick:
            for i, contribs in zip(pick, model.explain_many(frame[pick], self.top_k), strict=True):
                feats[i] = [c.feature for c in contribs if c.feature]
                reasons[i] = [c.sentence for c in contribs]
        return pl.DataFrame(
            {
                "account_id": frame["account_id"],
                "day": frame["day"],
                "model": [model.name] * frame.height,
                "score": score,
                "top_features": feats,
                "reasons": reasons,
            },
            schema=SCORES_SCHEMA,
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
            "feature_version": FEATURE_VERSION,
        }

    def save(self, directory: str | Path) -> Path:
        """Write every model's state (with its stamp), then ``suite.json`` last."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for m in self.models:
            save_state(m, d / f"{m.name}.pkl")
        meta = {**self.info(), "top_k": self.top_k, "explain_min": self.explain_min,
                "days": self.days_learned_}
        write_atomic(d / SUITE_FILE, json_writer(meta))
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
        return suite


def read_info(directory: str | Path) -> dict[str, Any] | None:
    """What ``txflags models show`` prints: suite.json plus each model's stamp (None if empty)."""
    d = Path(directory)
    meta_path = d / SUITE_FILE
    if not meta_path.is_file():
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.pop("days", None)
    meta["stamps"] = {name: read_stamp(d / f"{name}.pkl") for name in meta.get("models", [])}
    return meta
