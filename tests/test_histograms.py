"""Tests for histogram bucketing, pre-binned histograms and their JSON form."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest

from tb_runhistory_plugin._histograms import (
    DEFAULT_BINS,
    Histogram,
    compute_histogram,
    histogram_from_buckets,
)
from tb_runhistory_plugin.errors import InvalidArgumentError

_RNG = np.random.default_rng(7)


def _assert_edges_describe_counts(hist: Histogram, values: np.ndarray) -> None:
    """Check, without numpy.histogram, that each finite value lies in its bucket."""
    finite = values[np.isfinite(values)]
    edges = np.asarray(hist.edges)
    # Buckets are [left, right) except the last, which also holds its right edge.
    index = np.minimum(np.searchsorted(edges, finite, side="right") - 1, len(hist.counts) - 1)
    assert index.min() >= 0
    np.testing.assert_array_equal(np.bincount(index, minlength=len(hist.counts)), hist.counts)


# --- compute_histogram: counts match numpy.histogram exactly --------------------------


@pytest.mark.parametrize("bins", [1, 2, 7, 30, 101, 1000])
@pytest.mark.parametrize("shape", [(1000,), (40, 25), (5, 6, 7)])
def test_counts_and_edges_match_numpy(bins, shape):
    values = _RNG.normal(3.0, 2.5, size=shape)
    hist = compute_histogram(values, bins=bins)
    counts, edges = np.histogram(values, bins=bins)
    assert hist.counts == tuple(counts.tolist())
    assert hist.edges == tuple(edges.tolist())
    assert len(hist.edges) == len(hist.counts) + 1
    _assert_edges_describe_counts(hist, values.ravel())


@pytest.mark.parametrize(
    "values",
    [
        _RNG.integers(-50, 50, size=500),
        _RNG.integers(0, 2**40, size=300, dtype=np.uint64),
        _RNG.random(777).astype(np.float32),
        _RNG.random(100).astype(np.float16),
        _RNG.exponential(1e-200, size=400),  # tiny magnitudes
        _RNG.exponential(1e200, size=400),  # huge magnitudes
        np.array([0, 1, 1, 1, 2, 3, 3, 30]),  # values on bucket edges
    ],
    ids=["int", "uint64", "float32", "float16", "tiny", "huge", "on-edges"],
)
def test_dtypes_match_numpy_in_float64(values):
    hist = compute_histogram(values, bins=10)
    counts, edges = np.histogram(values.astype(np.float64), bins=10)
    assert hist.counts == tuple(counts.tolist())
    assert hist.edges == tuple(edges.tolist())
    _assert_edges_describe_counts(hist, values.astype(np.float64))


def test_default_bins_is_30():
    assert DEFAULT_BINS == 30
    assert len(compute_histogram(_RNG.random(100)).counts) == 30


def test_statistics():
    values = _RNG.normal(size=(30, 30))
    hist = compute_histogram(values)
    assert hist.min == values.min() and hist.max == values.max()
    assert hist.count == values.size == sum(hist.counts)
    assert hist.sum == pytest.approx(math.fsum(values.ravel()), rel=1e-12)
    assert hist.sum_squares == pytest.approx(math.fsum(values.ravel() ** 2), rel=1e-12)
    assert (hist.nan_count, hist.pos_inf_count, hist.neg_inf_count) == (0, 0, 0)
    assert hist.edges[0] == hist.min and hist.edges[-1] == hist.max
    assert all(type(c) is int for c in hist.counts) and all(type(e) is float for e in hist.edges)


def test_accepts_lists_scalars_bools_and_numpy_integer_bins():
    assert compute_histogram([[1, 2], [3, 4]], bins=2).counts == (2, 2)
    assert compute_histogram(2.5).counts == (1,)
    assert compute_histogram([True, False, True], bins=np.int64(2)).counts == (1, 2)


# --- compute_histogram: edge cases -----------------------------------------------------


def test_non_finite_values_are_tallied_not_bucketed():
    finite = _RNG.normal(size=200)
    values = np.concatenate([finite, [np.nan] * 3, [np.inf] * 2, [-np.inf]])
    _RNG.shuffle(values)
    hist = compute_histogram(values, bins=12)
    counts, edges = np.histogram(finite, bins=12)
    assert hist.counts == tuple(counts.tolist()) and hist.edges == tuple(edges.tolist())
    assert (hist.nan_count, hist.pos_inf_count, hist.neg_inf_count) == (3, 2, 1)
    assert hist.count == 200
    assert (hist.min, hist.max) == (finite.min(), finite.max())
    assert math.isfinite(hist.sum) and math.isfinite(hist.sum_squares)


@pytest.mark.parametrize("value", [0.0, -3.5, 1e300, 7])
def test_constant_input_gives_one_zero_width_bucket(value):
    hist = compute_histogram(np.full((4, 5), value), bins=30)
    assert hist.counts == (20,)
    assert hist.edges == (value, value)
    assert hist.buckets() == [(value, value, 20)]
    assert hist.min == hist.max == value


def test_constant_input_with_non_finite_values():
    hist = compute_histogram([2.0, np.nan, 2.0, -np.inf])
    assert (hist.counts, hist.edges, hist.nan_count, hist.neg_inf_count) == ((2,), (2.0, 2.0), 1, 1)


def test_only_non_finite_values_give_no_buckets():
    hist = compute_histogram([np.nan, np.inf, np.nan, -np.inf, np.inf])
    assert (hist.counts, hist.edges, hist.buckets()) == ((), (), [])
    assert (hist.min, hist.max, hist.count, hist.sum, hist.sum_squares) == (None, None, 0, 0.0, 0.0)
    assert (hist.nan_count, hist.pos_inf_count, hist.neg_inf_count) == (2, 2, 1)


def test_range_too_narrow_for_bins_uses_fewer_buckets():
    one_step = np.nextafter(1.0, 2.0)
    hist = compute_histogram([1.0, one_step, 1.0], bins=30)
    assert hist.counts == (3,) and hist.edges == (1.0, one_step)
    # Eight float steps wide: 30 and 15 buckets would repeat edges, 7 do not.
    narrow = 1.0 + np.arange(9) * np.spacing(1.0)
    hist = compute_histogram(narrow, bins=30)
    assert len(hist.counts) == 7
    counts, edges = np.histogram(narrow, bins=7)
    assert hist.counts == tuple(counts.tolist()) and hist.edges == tuple(edges.tolist())


def test_range_wider_than_float64_still_buckets():
    values = np.array([-1.7e308, -1e308, 0.0, 5e307, 1.7e308, 1.7e308])
    hist = compute_histogram(values, bins=4)
    assert hist.edges[0] == -1.7e308 and hist.edges[-1] == 1.7e308
    assert all(math.isfinite(e) for e in hist.edges)
    assert hist.counts == (2, 0, 2, 2)  # edges at -0.85e308, 0 and 0.85e308
    _assert_edges_describe_counts(hist, values)


def test_sums_overflow_to_inf_but_cancel_when_they_should():
    assert compute_histogram([1e308, 1e308]).sum == math.inf
    assert compute_histogram([-1e308, -1e308]).sum == -math.inf
    hist = compute_histogram([1e308, 1e308, -1e308, -1e308])
    assert hist.sum == 0.0 and hist.sum_squares == math.inf


@pytest.mark.parametrize("values", [[], np.array([]), np.zeros((3, 0)), [[]]])
def test_empty_input_is_rejected(values):
    with pytest.raises(InvalidArgumentError, match="empty"):
        compute_histogram(values)


@pytest.mark.parametrize(
    "values",
    [
        ["a", "b"],
        [1, None],
        np.array([1 + 2j]),
        np.array(["2024-01-01"], dtype="datetime64[D]"),
        np.array([1], dtype="timedelta64[s]"),
        [b"x"],
    ],
)
def test_non_numeric_input_names_the_dtype(values):
    dtype = np.asarray(values).dtype
    with pytest.raises(InvalidArgumentError, match=re.escape(f"dtype {dtype}")):
        compute_histogram(values)


def test_ragged_input_is_rejected():
    with pytest.raises(InvalidArgumentError, match="rectangular"):
        compute_histogram([[1, 2], [3]])


@pytest.mark.parametrize("bins", [0, -1, 10_001, 2.0, True, "30", None])
def test_bad_bins_are_named(bins):
    with pytest.raises(InvalidArgumentError, match=re.escape(repr(bins))):
        compute_histogram([1, 2, 3], bins=bins)


# --- Histogram: value semantics and JSON -----------------------------------------------


def _examples() -> list[Histogram]:
    """One histogram of each shape the store will see."""
    return [
        compute_histogram(_RNG.normal(size=1000) * 1e-3 + 1 / 3),
        compute_histogram([5, 5, 5]),
        compute_histogram([np.nan, np.inf]),
        compute_histogram([1e308, 1e308, 0.1 + 0.2, np.nan, -np.inf], bins=3),  # inf sums
        histogram_from_buckets([0.0, 0.1, 0.30000000000000004, 1e-300 + 1], [1, 0, 4]),
    ]


@pytest.mark.parametrize("hist", _examples())
def test_json_round_trip_is_exact(hist):
    data = hist.to_dict()
    text = json.dumps(data)
    assert Histogram.from_dict(json.loads(text)) == hist
    assert Histogram.from_dict(data) == hist
    assert json.loads(text) == data  # to_dict holds only plain JSON types


def test_to_dict_fields():
    hist = compute_histogram([1.0, 2.0, 4.0, np.nan], bins=3)
    assert hist.to_dict() == {
        "counts": [1, 1, 1],
        "edges": [1.0, 2.0, 3.0, 4.0],
        "min": 1.0,
        "max": 4.0,
        "count": 3,
        "sum": 7.0,
        "sum_squares": 21.0,
        "nan_count": 1,
        "pos_inf_count": 0,
        "neg_inf_count": 0,
    }


def test_from_dict_defaults_non_finite_tallies_to_zero():
    data = compute_histogram([1, 2]).to_dict()
    for key in ("nan_count", "pos_inf_count", "neg_inf_count"):
        del data[key]
    assert Histogram.from_dict(data) == compute_histogram([1, 2])


def test_buckets_are_left_right_count_triples():
    hist = compute_histogram([0, 1, 1, 2, 3, 4], bins=4)
    assert hist.buckets() == [(0.0, 1.0, 1), (1.0, 2.0, 2), (2.0, 3.0, 1), (3.0, 4.0, 2)]


def test_histogram_is_frozen_and_hashable():
    hist = compute_histogram([1, 2, 3])
    with pytest.raises(dataclasses.FrozenInstanceError):
        hist.count = 4  # type: ignore[misc]
    assert hash(hist) == hash(compute_histogram([1.0, 2.0, 3.0]))


def test_constructor_normalises_numpy_values():
    hist = Histogram(np.array([1, 2]), np.array([0, 1, 2]), np.float32(0.5), 2, np.int64(3), 3, 5)
    assert hist.counts == (1, 2) and hist.edges == (0.0, 1.0, 2.0)
    assert type(hist.count) is int and type(hist.min) is float and type(hist.max) is float
    json.dumps(hist.to_dict())


def _valid() -> dict:
    return compute_histogram([0.0, 1.0, 2.0], bins=2).to_dict()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"counts": [1, 1]}, "count 3 is not the sum of bucket counts 2"),
        ({"edges": [0.0, 2.0]}, "2 bucket counts need 3 edges, got 2"),
        ({"edges": [0.0, 0.0, 2.0]}, "0.0 is followed by 0.0"),
        ({"edges": [0.0, math.nan, 2.0]}, "edge must be finite, not nan"),
        ({"counts": [-1, 4]}, "not -1"),
        ({"counts": [1.5, 1.5]}, "not 1.5"),
        ({"count": True}, "not True"),
        ({"min": -1.0}, "min -1.0"),
        ({"max": 2.5}, "max 2.5"),
        ({"min": None, "max": 1.0}, "None"),  # min and max are both known or both unknown
        ({"min": 1.5, "max": 0.5}, "min 1.5"),
        ({"sum": math.nan}, "sum must be finite, not nan"),
        ({"sum": "3"}, "'3'"),
        ({"nan_count": -2}, "nan_count must be a non-negative whole number, not -2"),
        ({"counts": "12"}, "'12'"),
        ({"edges": np.zeros((2, 2))}, "shape (2, 2)"),
        ({"extra": 1}, "'extra'"),
    ],
)
def test_inconsistent_histograms_are_rejected(change, named):
    data = {**_valid(), **change}
    with pytest.raises(InvalidArgumentError, match=re.escape(named)):
        Histogram.from_dict(data)


def test_min_and_max_must_be_none_without_values():
    data = compute_histogram([np.nan]).to_dict()
    with pytest.raises(InvalidArgumentError, match="given for no values"):
        Histogram.from_dict({**data, "min": 0.0, "max": 0.0})


def test_from_dict_names_missing_keys_and_rejects_non_mappings():
    data = _valid()
    del data["sum"], data["edges"]
    with pytest.raises(InvalidArgumentError, match=re.escape("['edges', 'sum']")):
        Histogram.from_dict(data)
    with pytest.raises(InvalidArgumentError, match="list"):
        Histogram.from_dict([1, 2])  # type: ignore[arg-type]


# --- histogram_from_buckets ------------------------------------------------------------


def test_from_buckets_keeps_what_it_is_given():
    hist = histogram_from_buckets([-1, 0, 0.5, 3], [2, 0, 5])
    assert hist.counts == (2, 0, 5) and hist.edges == (-1.0, 0.0, 0.5, 3.0)
    assert hist.count == 7
    assert (hist.min, hist.max, hist.sum, hist.sum_squares) == (None, None, None, None)
    assert hist.buckets() == [(-1.0, 0.0, 2), (0.0, 0.5, 0), (0.5, 3.0, 5)]


def test_from_buckets_accepts_numpy_and_tensorboard_float_counts():
    counts, edges = np.histogram(_RNG.normal(size=100), bins=5)
    hist = histogram_from_buckets(edges, counts.astype(np.float64))
    assert hist.counts == tuple(counts.tolist()) and hist.edges == tuple(edges.tolist())
    assert histogram_from_buckets([2.0, 2.0], [4]).buckets() == [(2.0, 2.0, 4)]
    assert histogram_from_buckets([0, 1], [0]).count == 0


@pytest.mark.parametrize(
    ("edges", "counts", "named"),
    [
        ([0, 1, 2], [1], "1 bucket counts need 2 edges, got 3"),
        ([0, 1], [1, 2], "2 bucket counts need 3 edges, got 2"),
        ([0, 2, 1], [1, 1], "2.0 is followed by 1.0"),
        ([0, 1, 1], [1, 1], "1.0 is followed by 1.0"),
        ([1, 0], [3], "1.0 is followed by 0.0"),
        ([0, math.inf], [1], "not inf"),
        ([0, math.nan], [1], "not nan"),
        ([0, 1], [-3], "not -3"),
        ([0, 1], [0.5], "not 0.5"),
        ([0, 1], [math.inf], "not inf"),
        ([0, 1], [None], "not None"),
        ([0, "1"], [1], "not '1'"),
        ([0, 10**400], [1], "too large"),
        ([0], [], "at least one bucket"),
        ("01", [1], "not '01'"),
        ([0, 1], 5, "not 5"),
    ],
)
def test_from_buckets_rejects_bad_input(edges, counts, named):
    with pytest.raises(InvalidArgumentError, match=re.escape(named)):
        histogram_from_buckets(edges, counts)
