"""``SynthConfig``: every knob of the generator, validated, with documented defaults."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from txflags.errors import InputError

#: Default prevalence of each scheme: the share of customers who are members of an instance.
SCHEME_PREVALENCE: Mapping[str, float] = MappingProxyType(
    {
        "sex_ring": 0.004,
        "ocse_ring": 0.002,
        "labour_ring": 0.003,
        "imb_network": 0.0015,
        "crypto_cashout": 0.0015,
        "funnel_mule": 0.002,
        "sextortion": 0.001,
    }
)

#: Default prevalence of each hard lookalike (benign, label 0): share of customers.
LOOKALIKE_PREVALENCE: Mapping[str, float] = MappingProxyType(
    {
        "migrant_remitter": 0.006,
        "travelling_sales": 0.004,
        "trucker": 0.003,
        "crypto_dca": 0.005,
        "tipped_night_worker": 0.004,
        "student_supported": 0.004,
        "roommates": 0.004,
        "cash_business": 0.003,
        "dating_app_subscriber": 0.005,
        "disaster_motel_family": 0.002,
        "freelancer_p2p": 0.004,
        "large_family": 0.003,
    }
)


@dataclass(frozen=True)
class SynthConfig:
    """Parameters of one synthetic dataset. Same config and seed give byte-identical files.

    - ``customers``: number of customers (one account each).
    - ``days``: length of the period; ``start`` its first (local) day.
    - ``seed``: master seed; every chunk and component derives its own child seed from it.
    - ``chunk_customers``: customers generated (and held in memory) at a time.
    - ``prevalence``: per scheme/lookalike overrides of the defaults above.
    - ``prevalence_scale``: multiplies every scheme and lookalike prevalence.
    - ``noise``: share of ordinary customers given one random off-pattern event (a night ATM
      deposit, a motel night, a crypto buy, a corridor remittance, a bar tab at 1 a.m.).
    - ``partial``: probability that each optional indicator of a scheme instance is left out.
    - ``evasion``: 0..1; jitters amounts further under thresholds and spreads activity over
      more days.
    - ``business_share``: share of customers that are businesses.
    - ``workers``: processes generating chunks in parallel while this one writes (0: one per
      available CPU core when there are 3 chunks or more; 1: everything in this process). The
      files do not depend on it.
    """

    customers: int = 2000
    days: int = 90
    start: date = date(2026, 1, 1)
    seed: int = 0
    chunk_customers: int = 5000
    prevalence: Mapping[str, float] = field(default_factory=dict)
    prevalence_scale: float = 1.0
    noise: float = 0.1
    partial: float = 0.2
    evasion: float = 0.0
    business_share: float = 0.08
    workers: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "prevalence", MappingProxyType(dict(self.prevalence)))
        self.validate()

    def validate(self) -> None:
        """Raise ``InputError`` naming the first bad parameter."""

        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise InputError(msg)

        need(
            isinstance(self.customers, int) and 1 <= self.customers <= 50_000_000,
            f"customers must be an integer in 1..50,000,000 (got {self.customers!r})",
        )
        need(
            isinstance(self.days, int) and 1 <= self.days <= 3660,
            f"days must be an integer in 1..3660 (got {self.days!r})",
        )
        need(isinstance(self.start, date), f"start must be a date (got {self.start!r})")
        need(
            isinstance(self.seed, int) and 0 <= self.seed < 2**63,
            f"seed must be a non-negative integer (got {self.seed!r})",
        )
        need(
            isinstance(self.chunk_customers, int) and 100 <= self.chunk_customers <= 1_000_000,
            f"chunk_customers must be in 100..1,000,000 (got {self.chunk_customers!r})",
        )
        need(
            0 <= self.prevalence_scale <= 20,
            f"prevalence_scale must be in 0..20 (got {self.prevalence_scale!r})",
        )
        for name in ("noise", "partial", "evasion"):
            v = getattr(self, name)
            need(isinstance(v, int | float) and 0 <= v <= 1, f"{name} must be in 0..1 (got {v!r})")
        need(
            0 <= self.business_share <= 0.5,
            f"business_share must be in 0..0.5 (got {self.business_share!r})",
        )
        need(
            isinstance(self.workers, int) and 0 <= self.workers <= 256,
            f"workers must be an integer in 0..256 (got {self.workers!r}; 0: one per CPU core)",
        )
        known = set(SCHEME_PREVALENCE) | set(LOOKALIKE_PREVALENCE)
        for k, v in self.prevalence.items():
            need(k in known, f"unknown prevalence key {k!r}; known: {', '.join(sorted(known))}")
            need(
                isinstance(v, int | float) and 0 <= v <= 0.2,
                f"prevalence of {k} must be in 0..0.2 (got {v!r})",
            )
        total = sum(self.rates().values())
        need(total <= 0.5, f"scheme and lookalike prevalences add up to {total:.3f}; keep <= 0.5")

    def rates(self) -> dict[str, float]:
        """Effective prevalence of every scheme and lookalike (defaults, overrides, scale)."""
        merged = {**SCHEME_PREVALENCE, **LOOKALIKE_PREVALENCE, **self.prevalence}
        return {k: float(v) * self.prevalence_scale for k, v in sorted(merged.items())}

    def with_settings(self, settings: Mapping[str, Any]) -> SynthConfig:
        """A copy with ``settings`` applied; ``prevalence.NAME`` keys set one prevalence."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        prev = dict(self.prevalence)
        for key, raw in settings.items():
            if (
                key.startswith("prevalence.")
                or key in SCHEME_PREVALENCE
                or key in LOOKALIKE_PREVALENCE
            ):
                name = key.removeprefix("prevalence.")
                prev[name] = _number(key, raw)
            elif key == "prevalence" and isinstance(raw, Mapping):
                prev.update({k: _number(f"prevalence.{k}", v) for k, v in raw.items()})
            elif key in fields:
                changes[key] = _coerce(key, raw, type(getattr(self, key)))
            else:
                raise InputError(
                    f"unknown setting {key!r}; settable: {', '.join(sorted(fields))}"
                    " or prevalence.NAME"
                )
        return dataclasses.replace(self, prevalence=prev, **changes)


def _number(key: str, raw: Any) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise InputError(f"{key} must be a number (got {raw!r})") from None


def _coerce(key: str, raw: Any, kind: type) -> Any:
    if kind is date:
        if isinstance(raw, date):
            return raw
        try:
            return date.fromisoformat(str(raw))
        except ValueError:
            raise InputError(f"{key} must be a date like 2026-01-01 (got {raw!r})") from None
    if kind is int:
        try:
            f = float(raw)
        except (TypeError, ValueError):
            raise InputError(f"{key} must be an integer (got {raw!r})") from None
        if not f.is_integer():
            raise InputError(f"{key} must be an integer (got {raw!r})")
        return int(f)
    if kind is float:
        return _number(key, raw)
    raise InputError(f"{key} cannot be set this way")


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """Parse ``key=value`` strings from ``--set``."""
    out: dict[str, str] = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set expects key=value (got {p!r})")
        out[key.strip()] = value.strip()
    return out


def load_profile(path: Path) -> dict[str, Any]:
    """Read a YAML profile: a mapping of settings (``prevalence:`` may be a nested mapping)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise InputError(f"cannot read profile {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"profile {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"profile {path} must be a mapping of settings")
    return data
