"""Deterministic seeds derived from several integers (a run's seed, a step, a round, ...)."""

from __future__ import annotations

import numpy as np


def derive_seed(*parts: int) -> int:
    """One 31-bit seed from integer parts, mixed by numpy's ``SeedSequence`` so that nearby parts give unrelated
    seeds; small enough for the trainers to multiply further without overflowing torch's 64-bit seeds."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, dtype=np.uint32)[0] >> 1)
