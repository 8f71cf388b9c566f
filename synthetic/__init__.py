"""Synthetic bank transactions with human-trafficking schemes, hard lookalikes and ground truth.

>>> from txflags.synthetic import SynthConfig, generate
>>> summary = generate(SynthConfig(customers=500, days=30, seed=1), "out")  # doctest: +SKIP
"""

from txflags.synthetic.config import LOOKALIKE_PREVALENCE, SCHEME_PREVALENCE, SynthConfig
from txflags.synthetic.generate import Summary, generate, generate_chunk
from txflags.synthetic.truth import FAMILIES, TYPOLOGIES

__all__ = [
    "SynthConfig",
    "generate",
    "generate_chunk",
    "Summary",
    "SCHEME_PREVALENCE",
    "LOOKALIKE_PREVALENCE",
    "FAMILIES",
    "TYPOLOGIES",
]
