"""The pure-Python statistics against SciPy's reference values (SciPy is a test dependency only)."""

import math

import pytest

scipy_stats = pytest.importorskip("scipy.stats")
scipy_special = pytest.importorskip("scipy.special")

from featureflags.experiments import stats  # noqa: E402


@pytest.mark.parametrize("x", [-8.0, -3.2, -1.96, -0.5, 0.0, 0.7, 1.64, 2.5, 6.0])
def test_normal_cdf_and_ppf(x):
    assert stats.normal_cdf(x) == pytest.approx(scipy_stats.norm.cdf(x), rel=1e-12, abs=1e-300)
    p = scipy_stats.norm.cdf(x)
    assert stats.normal_ppf(p) == pytest.approx(x, abs=1e-9)


def test_z95():
    assert stats.normal_ppf(0.975) == pytest.approx(scipy_stats.norm.ppf(0.975), rel=1e-12)
    assert stats.normal_ppf(0.975) == pytest.approx(stats.Z_95, rel=1e-10)


@pytest.mark.parametrize(
    ("a", "b", "x"),
    [(0.5, 0.5, 0.3), (2, 3, 0.4), (10, 0.5, 0.95), (0.5, 10, 0.02), (50, 50, 0.5), (1500, 0.5, 0.999), (3, 7, 0.9)],
)
def test_betainc(a, b, x):
    assert stats.betainc(a, b, x) == pytest.approx(scipy_special.betainc(a, b, x), rel=1e-10, abs=1e-15)


@pytest.mark.parametrize(("a", "x"), [(0.5, 0.1), (0.5, 3.0), (1, 1), (2.5, 10), (10, 3), (50, 60), (200, 150)])
def test_gammaincc(a, x):
    assert stats.gammaincc(a, x) == pytest.approx(scipy_special.gammaincc(a, x), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("df", [1, 2.5, 7, 30, 480.3, 10_000])
@pytest.mark.parametrize("t", [-4.0, -1.0, 0.0, 0.3, 2.1, 5.5])
def test_t_distribution(t, df):
    assert stats.t_sf(t, df) == pytest.approx(scipy_stats.t.sf(t, df), rel=1e-9, abs=1e-15)
    assert stats.t_cdf(t, df) == pytest.approx(scipy_stats.t.cdf(t, df), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("df", [1, 3, 12.4, 100, 5000])
def test_t_ppf(df):
    assert stats.t_ppf(0.975, df) == pytest.approx(scipy_stats.t.ppf(0.975, df), rel=1e-8)
    assert stats.t_ppf(0.1, df) == pytest.approx(scipy_stats.t.ppf(0.1, df), rel=1e-8)


@pytest.mark.parametrize(("x", "k"), [(0.0, 1), (0.5, 1), (3.84, 1), (10.0, 2), (7.8, 3), (30.0, 9), (250.0, 200)])
def test_chi2_sf(x, k):
    assert stats.chi2_sf(x, k) == pytest.approx(scipy_stats.chi2.sf(x, k), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(
    ("c1", "n1", "c2", "n2"), [(100, 1000, 130, 1000), (500, 5000, 600, 5000), (3, 40, 9, 38), (0, 10, 0, 10)]
)
def test_two_proportion_ztest(c1, n1, c2, n2):
    result = stats.two_proportion_ztest(c1, n1, c2, n2)
    if c1 + c2 == 0:
        assert result.p_value == 1.0
        return
    # The pooled z-test is the 2x2 chi-square test without continuity correction.
    table = [[c1, n1 - c1], [c2, n2 - c2]]
    chi2, p, _dof, _expected = scipy_stats.chi2_contingency(table, correction=False)
    assert result.p_value == pytest.approx(p, rel=1e-9)
    assert result.statistic**2 == pytest.approx(chi2, rel=1e-9)
    p1, p2 = c1 / n1, c2 / n2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    half = scipy_stats.norm.ppf(0.975) * se
    assert result.uplift == pytest.approx(p2 / p1 - 1)
    assert result.low == pytest.approx((p2 - p1 - half) / p1, rel=1e-9)
    assert result.high == pytest.approx((p2 - p1 + half) / p1, rel=1e-9)


def test_welch_ttest_against_scipy():
    import numpy as np

    rng = np.random.default_rng(7)
    a = rng.exponential(10.0, 400)
    b = rng.exponential(11.5, 380)
    result = stats.welch_ttest(len(a), a.sum(), (a * a).sum(), len(b), b.sum(), (b * b).sum())
    reference = scipy_stats.ttest_ind(b, a, equal_var=False)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-8)
    interval = reference.confidence_interval(0.95)
    assert result.low * a.mean() == pytest.approx(interval.low, rel=1e-7)
    assert result.high * a.mean() == pytest.approx(interval.high, rel=1e-7)


def test_welch_needs_two_units():
    with pytest.raises(ValueError, match="two units"):
        stats.welch_ttest(1, 1.0, 1.0, 5, 5.0, 6.0)


@pytest.mark.parametrize(
    ("observed", "weights"),
    [([5000, 5000], [1, 1]), ([5120, 4880], [50, 50]), ([3100, 6900], [3, 7]), ([10, 30, 20], [1, 1, 1])],
)
def test_sample_ratio(observed, weights):
    total = sum(observed)
    expected = [total * w / sum(weights) for w in weights]
    reference = scipy_stats.chisquare(observed, expected)
    result = stats.sample_ratio(observed, weights)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-9, abs=1e-12)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_sample_ratio_mismatch_flag():
    assert stats.sample_ratio([5400, 4600], [1, 1]).mismatch
    assert not stats.sample_ratio([5040, 4960], [1, 1]).mismatch


@pytest.mark.parametrize(("p1", "p2"), [(0.10, 0.12), (0.05, 0.04), (0.3, 0.5)])
def test_sample_size(p1, p2):
    z_alpha, z_beta = scipy_stats.norm.ppf(0.975), scipy_stats.norm.ppf(0.8)
    pooled = (p1 + p2) / 2
    root = z_alpha * math.sqrt(2 * pooled * (1 - pooled)) + z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    assert stats.sample_size(p1, p2) == math.ceil(root**2 / (p1 - p2) ** 2)
    assert stats.sample_size(p1, p1) is None and stats.sample_size(0.0, p2) is None
