"""The clustered bootstrap primitives: count matrix, resampling weights, W @ C."""

import numpy as np
import pytest

from evalhub.stats.bootstrap import (
    Interval,
    bootstrap_totals,
    cluster_codes,
    cluster_count_matrix,
    cluster_resample_weights,
    coded_values,
    percentile_bounds,
    percentile_intervals,
)


def test_it_counts_categories_per_cluster():
    clusters, n_clusters = cluster_codes(["p2", "p1", "p2", "p2"], 4)
    counts = cluster_count_matrix(clusters, np.array([0, 2, 2, 2]), n_clusters, 3)
    np.testing.assert_array_equal(counts, [[0, 0, 1], [1, 0, 2]])  # p1 then p2 (sorted)


def test_it_makes_each_observation_its_own_cluster_without_ids():
    clusters, n_clusters = cluster_codes(None, 5)
    assert n_clusters == 5
    np.testing.assert_array_equal(clusters, np.arange(5))


def test_it_rejects_misaligned_cluster_ids():
    with pytest.raises(ValueError):
        cluster_codes([1, 2], 3)


def test_it_draws_rows_that_resample_every_cluster_count():
    weights = cluster_resample_weights(7, 500, np.random.default_rng(0))
    assert weights.shape == (500, 7)
    np.testing.assert_array_equal(weights.sum(axis=1), np.full(500, 7))
    # each prompt is drawn once per round on average
    assert abs(weights.mean() - 1.0) < 0.05


def test_it_is_reproducible_with_a_seed():
    a = cluster_resample_weights(10, 20, np.random.default_rng(42))
    b = cluster_resample_weights(10, 20, np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)


def test_it_matches_a_loop_over_rounds():
    counts = np.array([[1.0, 0, 2], [0, 3, 0], [1, 1, 1]])
    totals = bootstrap_totals(counts, 50, np.random.default_rng(3))
    weights = cluster_resample_weights(3, 50, np.random.default_rng(3))
    for b in range(50):
        expected = sum(weights[b, p] * counts[p] for p in range(3))
        np.testing.assert_allclose(totals[b], expected)


def test_it_gives_percentile_bounds_like_numpy():
    samples = np.random.default_rng(1).normal(size=(1000, 2))
    low, high = percentile_bounds(samples, 0.9)
    np.testing.assert_allclose(low, np.percentile(samples, 5, axis=0))
    np.testing.assert_allclose(high, np.percentile(samples, 95, axis=0))
    intervals = percentile_intervals(samples, 0.9)
    assert intervals[0] == Interval(low[0], high[0], 0.9, "cluster-bootstrap-percentile")


def test_it_maps_codes_and_rejects_others():
    np.testing.assert_array_equal(coded_values([-1, 0, 1, 1.0], (-1, 0, 1), "v"), [0, 1, 2, 2])
    for bad in ([2], [0.5], [np.nan], ["a"]):
        with pytest.raises(ValueError):
            coded_values(bad, (-1, 0, 1), "v")


def test_interval_contains_its_ends():
    interval = Interval(0.2, 0.4, 0.95, "wilson")
    assert interval.contains(0.2) and interval.contains(0.4) and not interval.contains(0.41)
