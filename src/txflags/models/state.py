"""Model state across nights: a pickle plus a JSON version stamp beside it, written atomically.

The stamp records the txflags version, the model's name and class, its hyperparameters, the
daily feature version and the state format. ``load_state(path, expected=model)`` refuses state
whose stamp differs from what the caller is configured for (``InputError`` naming each
difference) — a changed model is never silently reset. State files are pickles: load only
state your own store wrote.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from txflags import __version__
from txflags.atomic import commit_all, json_writer
from txflags.errors import InputError
from txflags.models.base import DailyModel
from txflags.models.daily import FEATURE_VERSION

STATE_FORMAT = "1"
STAMP_KEYS = ("state_format", "txflags_version", "model", "class", "params", "feature_version")


def stamp(model: DailyModel) -> dict[str, Any]:
    """The version stamp of ``model``'s state."""
    return {
        "state_format": STATE_FORMAT,
        "txflags_version": __version__,
        "model": model.name,
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
        "params": json.loads(json.dumps(model.get_params(), default=str)),
        "feature_version": FEATURE_VERSION,
    }


def stamp_path(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(p.stem + ".stamp.json")


def state_writers(
    model: DailyModel, path: str | Path, extra: dict[str, Any] | None = None
) -> dict[Path, Callable[[Path], None]]:
    """Writers of ``model``'s pickle at ``path`` and of its stamp beside it (not yet run)."""
    p = Path(path)
    blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    info = {**stamp(model), **(extra or {})}
    return {p: lambda t: t.write_bytes(blob), stamp_path(p): json_writer(info)}


def save_state(model: DailyModel, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write ``model`` to ``path`` (pickle) and its stamp beside it, both or neither."""
    commit_all(state_writers(model, path, extra))  # type: ignore[arg-type]
    return Path(path)


def read_stamp(path: str | Path) -> dict[str, Any]:
    sp = stamp_path(path)
    if not sp.is_file():
        raise InputError(f"model state {path} has no version stamp ({sp.name}); it cannot be "
                         "trusted: run `txflags models reset --store DIR` to start over")
    return json.loads(sp.read_text(encoding="utf-8"))


def mismatches(found: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Each stamp key whose value differs, in words."""
    return [
        f"{k}: saved {found.get(k)!r}, configured {expected.get(k)!r}"
        for k in STAMP_KEYS
        if found.get(k) != expected.get(k)
    ]


def load_state(path: str | Path, expected: DailyModel | dict[str, Any] | None = None) -> Any:
    """The model saved at ``path``; with ``expected`` (a model or a stamp), the stamps must match.

    Raises ``InputError`` on a missing file or stamp, a mismatch, or an unreadable pickle.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no model state at {p}")
    found = read_stamp(p)
    if expected is not None:
        want = stamp(expected) if isinstance(expected, DailyModel) else expected
        diff = mismatches(found, want)
        if diff:
            raise InputError(
                f"model state {p.name} was saved for a different configuration ("
                + "; ".join(diff)
                + "). Keep the old settings, or run `txflags models reset --store DIR` to "
                "start the baselines again (what they learned is lost)."
            )
    try:
        model = pickle.loads(p.read_bytes())
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad state file
        raise InputError(f"model state {p} cannot be read: {exc}") from None
    if not isinstance(model, DailyModel):
        raise InputError(f"model state {p} does not hold a txflags model")
    return model
