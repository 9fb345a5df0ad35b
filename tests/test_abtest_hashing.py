"""Bucketing matches the GrowthBook SDK (issue 15).

The cases below are transcribed from GrowthBook's language-independent SDK test
cases: repository growthbook/growthbook, path packages/sdk-js/test/cases.json,
commit 0cf0a65f719576bd4772a8986a9934266a0cb76d (specVersion 0.5.0), sections
"hash", "getBucketRange" and "chooseVariation", plus the bucket values and
variations of a few "feature"/"run" cases that go through the whole SDK.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from expgraph.domains.abtest.hashing import (
    assign_variant,
    bucket_hash,
    bucket_ranges,
    choose_variation,
    equal_weights,
    fnv1a32,
    growthbook_parameters,
)

# cases.json "hash": [seed, value, version, expected]
HASH_CASES = [
    ("", "a", 1, 0.22),
    ("", "b", 1, 0.077),
    ("b", "a", 1, 0.946),
    ("ef", "d", 1, 0.652),
    ("asdf", "8952klfjas09ujk", 1, 0.549),
    ("", "123", 1, 0.011),
    ("", '___)((*":&', 1, 0.563),
    ("seed", "a", 2, 0.0505),
    ("seed", "b", 2, 0.2696),
    ("foo", "ab", 2, 0.2575),
    ("foo", "def", 2, 0.2019),
    ("89123klj", "8952klfjas09ujkasdf", 2, 0.124),
    ("90850943850283058242805", "123", 2, 0.7516),
    ("()**(%$##$%#$#", '___)((*":&', 2, 0.0128),
    ("abc", "def", 99, None),
]


@pytest.mark.parametrize(("seed", "value", "version", "expected"), HASH_CASES)
def test_hash_matches_growthbook_cases(
    seed: str, value: str, version: int, expected: float | None
) -> None:
    assert bucket_hash(seed, value, version) == expected


def test_fnv1a32_reference_values() -> None:
    # The FNV-1a 32-bit reference values (offset basis for "", and "a" / "foobar"
    # from the FNV test suite by Fowler, Noll and Vo).
    assert fnv1a32("") == 0x811C9DC5
    assert fnv1a32("a") == 0xE40C292C
    assert fnv1a32("foobar") == 0xBF9CF968


def test_version_2_is_the_hash_of_the_decimal_string_of_the_first_hash() -> None:
    first = fnv1a32("seed" + "a")
    assert bucket_hash("seed", "a", 2) == (fnv1a32(str(first)) % 10000) / 10000


# cases.json "getBucketRange": [name, [numVariations, coverage, weights], expected]
BUCKET_RANGE_CASES = [
    ("normal 50/50", 2, 1, None, [(0, 0.5), (0.5, 1)]),
    ("reduced coverage", 2, 0.5, None, [(0, 0.25), (0.5, 0.75)]),
    ("zero coverage", 2, 0, None, [(0, 0), (0.5, 0.5)]),
    ("4 variations", 4, 1, None, [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)]),
    ("uneven weights", 2, 1, [0.4, 0.6], [(0, 0.4), (0.4, 1)]),
    ("uneven weights, 3 variations", 3, 1, [0.2, 0.3, 0.5], [(0, 0.2), (0.2, 0.5), (0.5, 1)]),
    (
        "uneven weights, reduced coverage, 3 variations",
        3,
        0.2,
        [0.2, 0.3, 0.5],
        [(0, 0.04), (0.2, 0.26), (0.5, 0.6)],
    ),
    ("negative coverage", 2, -0.2, None, [(0, 0), (0.5, 0.5)]),
    ("coverage above 1", 2, 1.5, None, [(0, 0.5), (0.5, 1)]),
    ("weights sum below 1", 2, 1, [0.4, 0.1], [(0, 0.5), (0.5, 1)]),
    ("weights sum above 1", 2, 1, [0.7, 0.6], [(0, 0.5), (0.5, 1)]),
    (
        "weights.length not equal to num variations",
        4,
        1,
        [0.4, 0.4, 0.2],
        [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)],
    ),
    ("weights sum almost equals 1", 2, 1, [0.4, 0.5999], [(0, 0.4), (0.4, 0.9999)]),
]


@pytest.mark.parametrize(
    ("name", "n", "coverage", "weights", "expected"),
    BUCKET_RANGE_CASES,
    ids=[case[0] for case in BUCKET_RANGE_CASES],
)
def test_bucket_ranges_match_growthbook_cases(
    name: str,
    n: int,
    coverage: float,
    weights: list[float] | None,
    expected: list[tuple[float, float]],
) -> None:
    ranges = bucket_ranges(n, coverage, weights)
    assert len(ranges) == len(expected)
    for (start, end), (want_start, want_end) in zip(ranges, expected, strict=True):
        assert start == pytest.approx(want_start, abs=1e-12)
        assert end == pytest.approx(want_end, abs=1e-12)


def test_bucket_ranges_default_coverage_and_equal_weights() -> None:
    assert bucket_ranges(2) == [(0.0, 0.5), (0.5, 1.0)]
    # cases.json "getEqualWeights"
    assert equal_weights(-1) == []
    assert equal_weights(0) == []
    assert equal_weights(1) == [1]
    assert equal_weights(2) == [0.5, 0.5]
    assert equal_weights(3) == pytest.approx([0.33333333] * 3, abs=1e-8)
    assert equal_weights(4) == [0.25] * 4


# cases.json "chooseVariation": [name, n, ranges, expected]
EVEN = [(0.0, 0.5), (0.5, 1.0)]
REDUCED = [(0.0, 0.25), (0.5, 0.75)]
CHOOSE_CASES = [
    ("even range, 0.2", 0.2, EVEN, 0),
    ("even range, 0.4", 0.4, EVEN, 0),
    ("even range, 0.6", 0.6, EVEN, 1),
    ("even range, 0.8", 0.8, EVEN, 1),
    ("even range, 0", 0, EVEN, 0),
    ("even range, 0.5", 0.5, EVEN, 1),
    ("reduced range, 0.2", 0.2, REDUCED, 0),
    ("reduced range, 0.4", 0.4, REDUCED, -1),
    ("reduced range, 0.6", 0.6, REDUCED, 1),
    ("reduced range, 0.8", 0.8, REDUCED, -1),
    ("reduced range, 0.25", 0.25, REDUCED, -1),
    ("reduced range, 0.5", 0.5, REDUCED, 1),
    ("zero range", 0.5, [(0.0, 0.5), (0.5, 0.5), (0.5, 1.0)], 2),
]


@pytest.mark.parametrize(
    ("name", "n", "ranges", "expected"), CHOOSE_CASES, ids=[case[0] for case in CHOOSE_CASES]
)
def test_choose_variation_matches_growthbook_cases(
    name: str, n: float, ranges: list[tuple[float, float]], expected: int
) -> None:
    assert choose_variation(n, ranges) == expected


# Whole-SDK cases of cases.json: (seed, hash value, version, weights, coverage,
# expected bucket, expected variation).
SDK_CASES = [
    # "feature": "empty experiment rule - c" / "- a" / "- b" (seed = the feature key, version 1)
    ("feature", "123", 1, None, None, 0.863, 2),
    ("feature", "456", 1, None, None, 0.178, 0),
    ("feature", "fds", 1, None, None, 0.514, 1),
    # "feature": "creates experiments properly" (seed "feature", version 2, weights 0.1/0.9,
    # coverage 0.99; the rule's explicit ranges [0, 0.1], [0.1, 1] give the same variation)
    ("feature", "123", 2, [0.1, 0.9], 0.99, 0.5231, 1),
    # "run": "Uses seed with weights/coverage" (id "1", seed "foo", version 2)
    ("foo", "1", 2, [0.5, 0.5], 0.99, None, 1),
]


@pytest.mark.parametrize(
    ("seed", "value", "version", "weights", "coverage", "bucket", "variation"), SDK_CASES
)
def test_whole_sdk_cases(
    seed: str,
    value: str,
    version: int,
    weights: list[float] | None,
    coverage: float | None,
    bucket: float | None,
    variation: int,
) -> None:
    n = bucket_hash(seed, value, version)
    assert n is not None
    if bucket is not None:
        assert n == bucket
    count = 3 if weights is None else len(weights)
    assert choose_variation(n, bucket_ranges(count, coverage, weights)) == variation


def test_assign_variant_is_growthbook_with_coverage_total_and_normalised_weights() -> None:
    allocations = [Decimal("0.3"), Decimal("0.2"), Decimal("0.1")]
    coverage, weights = growthbook_parameters(allocations)
    assert coverage == 0.6
    assert weights == pytest.approx([0.5, 1 / 3, 1 / 6])
    for i in range(2000):
        unit = f"user-{i}"
        n = bucket_hash("checkout-test", unit, 2)
        assert n is not None
        expected = choose_variation(n, bucket_ranges(3, coverage, weights))
        assert assign_variant("checkout-test", unit, allocations) == (
            None if expected < 0 else expected
        )


def test_assign_variant_edge_cases() -> None:
    assert assign_variant("seed", "unit", []) is None
    assert assign_variant("seed", "unit", [Decimal("0"), Decimal("0")]) is None
    # Full coverage: every unit is in some variant.
    assert all(
        assign_variant("seed", str(i), [Decimal("0.5"), Decimal("0.5")]) in (0, 1)
        for i in range(1000)
    )


@pytest.mark.parametrize(
    "allocations",
    [
        [Decimal("0.5"), Decimal("0.5")],
        [Decimal("0.2"), Decimal("0.3"), Decimal("0.1")],
        [Decimal("0.1"), Decimal("0.05")],
    ],
    ids=["50/50", "20/30/10 of 60%", "10/5 of 15%"],
)
def test_distribution_over_100000_units_is_within_one_point_of_allocations(
    allocations: list[Decimal],
) -> None:
    units = 100_000
    counts = Counter(assign_variant("exp-seed", f"unit-{i}", allocations) for i in range(units))
    for index, allocation in enumerate(allocations):
        assert abs(counts[index] / units - float(allocation)) < 0.01, (index, counts)
    outside = 1 - float(sum(allocations))
    assert abs(counts[None] / units - outside) < 0.01, counts
    if outside == 0:
        assert counts[None] == 0


def test_units_outside_the_coverage_are_not_assigned() -> None:
    allocations = [Decimal("0.1"), Decimal("0.1")]
    coverage, weights = growthbook_parameters(allocations)
    ranges = bucket_ranges(2, coverage, weights)
    outside = 0
    for i in range(5000):
        n = bucket_hash("seed", f"u{i}", 2)
        assert n is not None
        in_range = any(start <= n < end for start, end in ranges)
        variant = assign_variant("seed", f"u{i}", allocations)
        assert (variant is not None) == in_range
        outside += variant is None
    assert outside > 3500  # 80 % of units are outside the experiment


def test_non_ascii_units_hash_utf16_code_units() -> None:
    # JavaScript hashes charCodeAt: an astral character is two surrogate code units.
    assert fnv1a32("é") == fnv1a32("\u00e9")
    smile = "\U0001f600"
    expected = 0x811C9DC5
    for unit in (0xD83D, 0xDE00):
        expected = ((expected ^ unit) * 0x01000193) & 0xFFFFFFFF
    assert fnv1a32(smile) == expected
