"""What every generator of one chunk shares: config, population, buffer, clock, truth, seeds."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from txflags.synthetic.config import SynthConfig
from txflags.synthetic.events import DAY_US, EventBuffer, local_epoch_us
from txflags.synthetic.population import Population
from txflags.synthetic.truth import Truth


def stable_key(name: str) -> int:
    """A process-independent integer for a component name (for seeding)."""
    return zlib.crc32(name.encode())


@dataclass
class Ctx:
    cfg: SynthConfig
    chunk: int
    pop: Population
    buf: EventBuffer
    truth: Truth = field(default_factory=Truth)

    @property
    def start(self) -> date:
        return self.cfg.start

    @property
    def days(self) -> int:
        return self.cfg.days

    @property
    def t0(self) -> int:
        return local_epoch_us(self.cfg.start)

    def rng(self, *names: str | int) -> np.random.Generator:
        """A generator seeded from (seed, chunk, names): independent of every other component."""
        key = tuple(n if isinstance(n, int) else stable_key(n) for n in names)
        return np.random.default_rng(
            np.random.SeedSequence(self.cfg.seed, spawn_key=(self.chunk, *key))
        )

    def at(self, day: np.ndarray | int, tod_us: np.ndarray | int) -> np.ndarray:
        """Local wall-clock µs of a day index and a time of day."""
        return (
            self.t0 + np.asarray(day, dtype=np.int64) * DAY_US + np.asarray(tod_us, dtype=np.int64)
        )
