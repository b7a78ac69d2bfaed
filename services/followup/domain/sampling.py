"""Reproducible random samples: the same candidates and seed always give the same sample."""

from __future__ import annotations

import random
from collections.abc import Iterable


def draw(candidates: Iterable[str], size: int, seed: int) -> list[str]:
    """`size` distinct candidates (all of them when fewer), in the order drawn.

    Candidates are de-duplicated and sorted first, so the order the database returned them in
    does not matter; then `random.Random(seed)` picks.
    """
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    pool = sorted(set(candidates))
    return random.Random(seed).sample(pool, min(size, len(pool)))
