"""Downsampling from chunk summaries: every point in one bucket, spikes kept at any `points`."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tb_runhistory_plugin._types import MetricHistory, ScalarBatch
from tb_runhistory_plugin.errors import InvalidArgumentError
from tb_runhistory_plugin.plugin import downsample as ds
from tb_runhistory_plugin.plugin._series import series_impl
from tb_runhistory_plugin.store import _chunks

SPIKE = 1e6
POINTS = [1, 2, 3, 7, 10, 99, 100, 500, 999, 1000, 1001, 1221, 1222, 2442, 4096, 10_000]


class Virtual:
    """A series held in arrays, with the store's chunking and summaries (and a count of points read)."""

    def __init__(self, steps: np.ndarray, walls: np.ndarray, values: np.ndarray) -> None:
        self.steps, self.walls, self.values = steps, walls, values
        rows = []
        for offset in range(0, len(values), _chunks.CHUNK_POINTS):
            end = offset + _chunks.CHUNK_POINTS
            c = _chunks.make_chunk(offset, steps[offset:end], walls[offset:end], values[offset:end])
            rows.append((c.offset, c.count, c.step_min, c.step_max, c.wall_min, c.wall_max, c.summary))
        self.summaries = _chunks.summaries(rows)
        self.read_points = 0

    def read(self, start: int, stop: int) -> MetricHistory:
        self.read_points += stop - start
        return MetricHistory("v", self.steps[start:stop], self.walls[start:stop], self.values[start:stop])

    def downsample(self, points: int, **kwargs) -> ds.Buckets:
        return ds.downsample(self.summaries, self.read, points, **kwargs)


@pytest.fixture(scope="module")
def ten_million():
    """10,000,000 points of a slow sine with one spike at step 7,654,321."""
    n = 10_000_000
    steps = np.arange(n, dtype=np.int64)
    values = np.sin(steps / 1e5)
    values[7_654_321] = SPIKE
    return Virtual(steps, 1.7e9 + steps * 0.01, values)


def check_partition(buckets: ds.Buckets, points: int, expected_count: int) -> None:
    assert 1 <= len(buckets) <= points
    assert int(buckets.count.sum()) == expected_count
    assert (buckets.count > 0).all()


@pytest.mark.parametrize("points", POINTS)
def test_a_spike_among_ten_million_points_survives_any_points(ten_million, points):
    ten_million.read_points = 0
    buckets = ten_million.downsample(points)
    check_partition(buckets, points, 10_000_000)
    hit = int(np.argmax(buckets.max))
    assert buckets.max[hit] == SPIKE
    assert buckets.step[hit] <= 7_654_321 < buckets.step[hit] + buckets.count[hit]
    assert ten_million.read_points == 0  # summaries only: no point is read
    assert np.nanmax(np.delete(buckets.max, hit), initial=-np.inf) <= 1.0


@pytest.mark.parametrize("points", [1, 10, 100, 1000, 5000])
@pytest.mark.parametrize("lo, hi", [(7_654_000, 7_655_000), (7_600_000, 7_700_000), (1_000, 9_000_000), (7_654_321, 7_654_321)])
def test_the_spike_survives_zooming(ten_million, points, lo, hi):
    buckets = ten_million.downsample(points, lo=lo, hi=hi)
    check_partition(buckets, points, hi - lo + 1)
    assert buckets.max.max() == SPIKE
    assert buckets.step.min() == lo


def test_the_coarse_regime_reads_only_edge_chunks(ten_million):
    ten_million.read_points = 0
    buckets = ten_million.downsample(1000, lo=1_000, hi=9_000_000)
    check_partition(buckets, 1000, 9_000_000 - 1_000 + 1)
    assert ten_million.read_points == 2 * _chunks.CHUNK_POINTS


def test_ten_million_points_downsample_fast(ten_million):
    started = time.perf_counter()
    ten_million.downsample(1000)
    assert time.perf_counter() - started < 0.5  # about 5 ms; generous for a busy CI machine


def brute_force(steps, walls, values, buckets, *, most=2_000):
    """Check buckets against numpy on the points each claims (consecutive, in order); a sample past `most`."""
    starts = np.cumsum(buckets.count) - buckets.count
    assert int(buckets.count.sum()) == len(values)
    picked = range(len(buckets)) if len(buckets) <= most else sorted({0, len(buckets) - 1, *np.random.default_rng(1).integers(0, len(buckets), most).tolist()})
    for i in picked:
        start, count = int(starts[i]), int(buckets.count[i])
        s, w, v = steps[start : start + count], walls[start : start + count], values[start : start + count]
        finite = v[np.isfinite(v)]
        assert buckets.step[i] == s.min() and buckets.wall_time[i] == w.min()
        assert buckets.nonfinite[i] == count - len(finite)
        if len(finite):
            assert buckets.min[i] == finite.min() and buckets.max[i] == finite.max()
            assert buckets.mean[i] == pytest.approx(finite.mean(), rel=1e-9)
        else:
            assert np.isnan(buckets.min[i]) and np.isnan(buckets.max[i]) and np.isnan(buckets.mean[i])
        np.testing.assert_equal(buckets.first[i], v[0])
        np.testing.assert_equal(buckets.last[i], v[-1])


@pytest.fixture(scope="module")
def noisy():
    """300,000 points with gaps in steps, and NaN, +inf and -inf sprinkled in."""
    rng = np.random.default_rng(7)
    n = 300_000
    steps = np.cumsum(rng.integers(1, 4, n)).astype(np.int64)
    values = rng.normal(size=n)
    values[rng.integers(0, n, 300)] = np.nan
    values[rng.integers(0, n, 30)] = np.inf
    values[rng.integers(0, n, 30)] = -np.inf
    values[100_000:104_096] = np.nan  # a whole chunk-sized stretch without a finite value
    return Virtual(steps, 1.7e9 + np.arange(n) * 0.5, values)


@pytest.mark.parametrize("points", [1, 5, 36, 73, 74, 146, 147, 1000, 299_999, 300_000])
def test_buckets_are_exact_in_both_regimes(noisy, points):
    buckets = noisy.downsample(points)
    check_partition(buckets, points, 300_000)
    brute_force(noisy.steps, noisy.walls, noisy.values, buckets)


@pytest.mark.parametrize("x", ["step", "wall_time"])
@pytest.mark.parametrize("points", [3, 50, 1000])
def test_ranges_select_exactly_the_points_in_range(noisy, x, points):
    xs = noisy.steps if x == "step" else noisy.walls
    lo, hi = float(xs[12_345]) + 0.25, float(xs[234_567])
    keep = (xs >= lo) & (xs <= hi)
    buckets = noisy.downsample(points, x=x, lo=lo, hi=hi)
    check_partition(buckets, points, int(keep.sum()))
    brute_force(noisy.steps[keep], noisy.walls[keep], noisy.values[keep], buckets)


def test_steps_that_go_back_are_ranged_by_value():
    """A restarted run logs steps 0..9999, then 5000..14999 again: a step range finds both."""
    steps = np.concatenate([np.arange(10_000), np.arange(5_000, 15_000)]).astype(np.int64)
    values = np.concatenate([np.zeros(10_000), np.ones(10_000)])
    series = Virtual(steps, 1.7e9 + np.arange(20_000.0), values)
    buckets = series.downsample(1000, lo=6_000, hi=6_999)
    assert int(buckets.count.sum()) == 2_000
    assert sorted(set(buckets.first.tolist())) == [0.0, 1.0]
    everything = series.downsample(4)
    brute_force(steps, series.walls, values, everything)


def test_each_point_is_a_bucket_when_few():
    series = Virtual(np.array([0, 5, 9]), np.array([1.0, 2.0, 3.0]), np.array([1.0, np.nan, np.inf]))
    buckets = series.downsample(10)
    assert buckets.count.tolist() == [1, 1, 1] and buckets.nonfinite.tolist() == [0, 1, 1]
    assert buckets.step.tolist() == [0, 5, 9]
    np.testing.assert_equal(buckets.first, [1.0, np.nan, np.inf])
    np.testing.assert_equal(buckets.max, [1.0, np.nan, np.nan])


def test_empty_and_invalid():
    empty = Virtual(np.empty(0, np.int64), np.empty(0), np.empty(0))
    assert len(empty.downsample(10)) == 0
    series = Virtual(np.arange(10), np.arange(10.0), np.arange(10.0))
    assert len(series.downsample(10, lo=20)) == 0
    assert len(series.downsample(10, lo=5, hi=4)) == 0
    with pytest.raises(InvalidArgumentError, match="points"):
        series.downsample(0)
    with pytest.raises(InvalidArgumentError, match="'epoch'"):
        series.downsample(10, x="epoch")


def test_a_spike_in_a_real_store_survives_every_points(sqlite_store):
    """Through the store and series_impl: 200,000 points, a high, a low and a NaN spike."""
    exp = sqlite_store.get_or_create_experiment("spikes")
    sqlite_store.create_run(exp.id, run_id="r", display_name="r", start_time=time.time())
    n = 200_000
    steps = np.arange(n, dtype=np.int64)
    values = np.cos(steps / 5000.0)
    values[123_457], values[4_321], values[199_999] = SPIKE, -SPIKE, np.nan
    sqlite_store.write_metrics([ScalarBatch("r", "loss", steps, 1.7e9 + steps * 0.1, values)])
    for points in (1, 2, 10, 24, 25, 48, 49, 100, 1000, 1999, 10_000):
        body = series_impl(sqlite_store, "r", "loss", points=points)
        buckets = body["buckets"]
        assert 1 <= len(buckets["count"]) <= points and int(np.sum(buckets["count"])) == n
        assert float(np.max(buckets["max"])) == SPIKE and float(np.min(buckets["min"])) == -SPIKE
        assert int(np.sum(buckets["nonfinite"])) == 1
        assert np.isnan(buckets["last"][-1])
