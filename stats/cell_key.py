"""Consistent cell-key perturbation of published counts (ABS TableBuilder method).

Definitions (docs/privacy.md argues the choice and its cost):

* **Record key.** Every unit a metric counts (an episode, a patient-year, a score ...) gets a
  pseudo-random integer: the low 64 bits of ``md5(salt | unit id)``, where ``salt`` is a secret
  drawn once per warehouse (``meta.cell_key``) so that users cannot recompute keys. The unit id is
  the metric's declared unique key (``tests.unique`` in its header); a ``distinct <column>``
  count keys each distinct value of that column.
* **Cell key.** The sum of the record keys of the units in a cell, modulo ``KEY_BASE`` (256).
  It depends only on *which* units are in the cell, so the same set of units gets the same key
  in every view (any filters, any grouping), and the key of a difference of two nested cells
  is the difference of their keys (``dropped = previous - step``).
* **Perturbation table.** ``noise(count, key)``: 0 for an empty cell (count 0 stays 0); for any
  other count the 256 keys map to noise -2, -1, 0, +1, +2 on 38, 51, 78, 51 and 38 keys. The
  noise is symmetric, so zero-mean, with variance 406/256 = 1.59 (sd 1.26), bounded by 2.
  A count of 1 or 2 is never published (it is below every threshold), so it is only floored
  at 1 to keep it a count.

The same cell always shows the same value wherever it appears. A difference between published
cells is the true difference plus the sum of several independent noises, so it is right only
by chance (``chance_exact``) and the user cannot tell when it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import accumulate

#: Cell keys are sums of record keys modulo this.
KEY_BASE = 256
#: Noise value -> how many of the KEY_BASE cell keys give it (symmetric, so zero-mean).
NOISE_KEYS: dict[int, int] = {-2: 38, -1: 51, 0: 78, 1: 51, 2: 38}
MAX_NOISE = max(abs(v) for v in NOISE_KEYS)
assert sum(NOISE_KEYS.values()) == KEY_BASE

#: The perturbation table as a lookup: cell key -> noise (keys 0-37 give -2, 38-88 give -1 ...).
_BOUNDS = list(accumulate(NOISE_KEYS.values()))
_NOISE_BY_KEY: tuple[int, ...] = tuple(
    next(v for v, bound in zip(NOISE_KEYS, _BOUNDS, strict=True) if key < bound)
    for key in range(KEY_BASE)
)

METHOD = "cell-key perturbation (ABS TableBuilder)"


def noise(count: int, key: int) -> int:
    """The perturbation table: noise added to a cell of ``count`` units with cell key ``key``."""
    if count <= 0:
        return 0  # an empty cell has no records and stays 0
    return _NOISE_BY_KEY[key % KEY_BASE]


def perturb(count: int | None, key: int | None) -> int | None:
    """The published value of a cell: count + noise, never below 1 for a non-empty cell."""
    if count is None:
        return None
    if count <= 0:
        return count
    return max(1, count + noise(count, 0 if key is None else key))


def perturb_all(counts: Sequence[int | None], keys: Sequence[int | None]) -> list[int | None]:
    return [perturb(c, k) for c, k in zip(counts, keys, strict=True)]


def content_key(salt: str, *parts: object) -> int:
    """A cell key for a fixed-grain table, where no unit rows are available: a salted hash of
    the cell's label (metric, column, the row's label values) and its true count. The same cell
    with the same count always gets the same key; see docs/privacy.md for why this is weaker
    than record keys."""
    text = "\x1f".join([salt, *(str(p) for p in parts)])
    return int.from_bytes(hashlib.md5(text.encode()).digest()[:8], "little") % KEY_BASE


def noise_distribution() -> dict[int, float]:
    """P(noise = v) for a non-empty cell."""
    return {v: n / KEY_BASE for v, n in NOISE_KEYS.items()}


def chance_exact(terms: int) -> float:
    """Probability that a sum (or difference) of ``terms`` independent non-empty cells' noises is
    exactly 0, i.e. that a differencing route using that many published cells hits the true
    value by chance. ``terms`` = 0 gives 1 (nothing perturbed)."""
    dist = {0: 1.0}
    step = noise_distribution()
    for _ in range(terms):
        out: dict[int, float] = {}
        for a, pa in dist.items():
            for b, pb in step.items():
                out[a + b] = out.get(a + b, 0.0) + pa * pb  # symmetric, so a - b has the same law
        dist = out
    return dist.get(0, 0.0)


def describe() -> dict[str, object]:
    """The method and its parameters, recorded with every result."""
    return {
        "method": METHOD,
        "key_base": KEY_BASE,
        "noise_keys": {str(k): v for k, v in NOISE_KEYS.items()},
        "max_noise": MAX_NOISE,
        "noise_variance": round(sum(v * v * n for v, n in NOISE_KEYS.items()) / KEY_BASE, 4),
        "zero_stays_zero": True,
    }
