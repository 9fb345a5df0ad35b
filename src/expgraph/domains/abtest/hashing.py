"""Deterministic bucketing, the same as the GrowthBook SDK's.

An app may bucket a unit offline with a GrowthBook SDK (hash version 2, the
experiment's ``hashSeed`` as the seed, ``coverage`` = the total allocation and
``weights`` = each allocation over the total, variants in position order) and
get the variant the server stores. Written from GrowthBook's SDK specification
(the language-independent test cases in the ``growthbook/growthbook``
repository, ``packages/sdk-js/test/cases.json``, which tests/test_abtest_hashing.py
replays) and checked against it.

The pieces, each as GrowthBook defines it:

- ``fnv1a32``: FNV-1a, 32 bits, over the string's UTF-16 code units (the
  JavaScript SDK hashes ``charCodeAt``; for ASCII this is the usual byte-wise
  FNV-1a).
- ``bucket_hash(seed, value, version)``: version 2 (unbiased) is
  ``fnv1a32(str(fnv1a32(seed + value))) % 10000 / 10000``; version 1 (the
  original, kept by GrowthBook for old experiments) is
  ``fnv1a32(value + seed) % 1000 / 1000``; any other version gives None.
- ``bucket_ranges(n, coverage, weights)``: coverage is clamped to [0, 1];
  weights missing, of the wrong length, or not summing to 1 (within 0.01) are
  replaced by equal weights, as the SDK does; variant i's range starts at the
  sum of the weights before it and is ``coverage * weight`` wide, so lowering
  the coverage shrinks every range from its end and never moves a unit from one
  variant to another.
- ``choose_variation(n, ranges)``: the first range with ``start <= n < end``,
  or -1.

Pure functions: no database or GraphQL imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

__all__ = [
    "HASH_VERSION",
    "assign_variant",
    "bucket_hash",
    "bucket_ranges",
    "choose_variation",
    "equal_weights",
    "fnv1a32",
    "growthbook_parameters",
]

#: The hash version expgraph buckets with (GrowthBook's ``hashVersion: 2``).
HASH_VERSION = 2

_FNV_OFFSET_BASIS = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MASK = 0xFFFFFFFF

Range = tuple[float, float]


def fnv1a32(text: str) -> int:
    """FNV-1a 32-bit hash of ``text``'s UTF-16 code units (as JavaScript's charCodeAt)."""
    value = _FNV_OFFSET_BASIS
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        value ^= data[i] | (data[i + 1] << 8)
        value = (value * _FNV_PRIME) & _MASK
    return value


def bucket_hash(seed: str, value: str, version: int = HASH_VERSION) -> float | None:
    """GrowthBook's ``hash(seed, value, version)``: in [0, 1), None for an unknown version."""
    if version == 2:
        return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    return None


def equal_weights(n: int) -> list[float]:
    """``n`` equal weights summing to 1 (none when ``n`` is not positive)."""
    if n <= 0:
        return []
    return [1 / n] * n


def bucket_ranges(
    n: int, coverage: float | None = None, weights: Sequence[float] | None = None
) -> list[Range]:
    """GrowthBook's ``getBucketRanges``: one ``(start, end)`` range per variation."""
    cover = 1.0 if coverage is None else min(max(float(coverage), 0.0), 1.0)
    chosen: list[float] = equal_weights(n)
    if weights is not None and len(weights) == n:
        total = sum(float(w) for w in weights)
        if 0.99 <= total <= 1.01:
            chosen = [float(w) for w in weights]
    ranges: list[Range] = []
    cumulative = 0.0
    for weight in chosen:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + cover * weight))
    return ranges


def choose_variation(n: float, ranges: Sequence[Range]) -> int:
    """GrowthBook's ``chooseVariation``: the index of the range holding ``n``, or -1."""
    for index, (start, end) in enumerate(ranges):
        if start <= n < end:
            return index
    return -1


def growthbook_parameters(allocations: Sequence[Decimal]) -> tuple[float, list[float]]:
    """The ``(coverage, weights)`` a GrowthBook SDK client uses to bucket like the server.

    ``coverage`` is the total allocation and each weight is the variant's
    allocation over that total (computed in decimal, then rounded once to a
    float). With a total of 0 the coverage is 0 and the weights are equal:
    nobody is in the experiment.
    """
    total = sum(allocations, Decimal(0))
    if total <= 0:
        return 0.0, equal_weights(len(allocations))
    return float(total), [float(a / total) for a in allocations]


def assign_variant(hash_seed: str, unit_id: str, allocations: Sequence[Decimal]) -> int | None:
    """The index (in position order) of the variant a unit falls in, or None when it is outside.

    ``allocations`` are the variants' allocations (0..1, in position order).
    The unit is hashed with GrowthBook's hash version 2 on ``hash_seed`` and the
    ranges come from ``growthbook_parameters``; a unit outside every range (the
    uncovered share ``1 - total``) is not in the experiment.
    """
    if not allocations:
        return None
    coverage, weights = growthbook_parameters(allocations)
    if coverage <= 0:
        return None
    n = bucket_hash(hash_seed, unit_id, HASH_VERSION)
    assert n is not None  # version 2 is known
    index = choose_variation(n, bucket_ranges(len(allocations), coverage, weights))
    return None if index < 0 else index
