"""The statistics of experiment results, in pure Python (no SciPy).

Distribution functions come from the regularized incomplete beta and gamma
functions (continued fractions, as in Numerical Recipes' ``betacf``/``gcf``):

>>> round(two_proportion_ztest(100, 1000, 130, 1000).p_value, 4)
0.0355
>>> round(chi2_sf(3.84, 1), 3)
0.05
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

_EPS = 3e-16
_TINY = 1e-300
_MAX_ITERATIONS = 500
Z_95 = 1.959963984540054  # normal_ppf(0.975)


# -- distributions --------------------------------------------------------------


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_sf(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def normal_ppf(p: float) -> float:
    """The quantile of the standard normal (bisection on ``erfc``, then Newton polish)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be strictly between 0 and 1")
    return _invert(normal_cdf, p, -40.0, 40.0, lambda x: math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    # Modified Lentz's method for the continued fraction of I_x(a, b).
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_ITERATIONS + 1):
        m2 = 2 * m
        even = m * (b - m) * x / ((qam + m2) * (a + m2))
        odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        for numerator in (even, odd):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if a <= 0 or b <= 0:
        raise ValueError("a and b must be positive")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    # The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def gammaincc(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(a, x)."""
    if a <= 0:
        raise ValueError("a must be positive")
    if x <= 0.0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:  # the series of P(a, x) converges here
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_ITERATIONS):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    # Continued fraction of Q(a, x) (modified Lentz).
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITERATIONS + 1):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return math.exp(log_front) * h


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def t_cdf(t: float, df: float) -> float:
    return t_sf(-t, df)


def t_ppf(p: float, df: float) -> float:
    """The quantile of Student's t (bisection on :func:`t_cdf`)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be strictly between 0 and 1")
    return _invert(lambda x: t_cdf(x, df), p, -1e6, 1e6)


def chi2_sf(x: float, k: float) -> float:
    """P(X > x) for chi-square with ``k`` degrees of freedom."""
    return gammaincc(k / 2.0, x / 2.0) if x > 0 else 1.0


def _invert(cdf, p: float, low: float, high: float, density=None) -> float:
    for _ in range(200):
        middle = (low + high) / 2.0
        if cdf(middle) < p:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * max(1.0, abs(middle)):
            break
    x = (low + high) / 2.0
    if density is not None:  # one Newton step removes the bisection's last error
        x -= (cdf(x) - p) / density(x)
    return x


# -- tests ----------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A treatment against the control: the difference, relative uplift, its 95 % interval and the p-value."""

    control: float
    treatment: float
    difference: float
    uplift: float | None  # relative: treatment / control - 1; None when the control is 0
    low: float | None  # the 95 % interval of the relative uplift
    high: float | None
    statistic: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def _relative(control: float, difference: float, half_width: float) -> tuple[float | None, float | None, float | None]:
    # The interval of the difference, scaled by the control (the control's own noise is not propagated).
    if control == 0:
        return None, None, None
    return difference / control, (difference - half_width) / control, (difference + half_width) / control


def two_proportion_ztest(c1: int, n1: int, c2: int, n2: int) -> Comparison:
    """Rates ``c1/n1`` (control) vs ``c2/n2``: pooled z-test, unpooled 95 % interval.

    >>> round(two_proportion_ztest(100, 1000, 130, 1000).uplift, 2)
    0.3
    """
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both groups need at least one unit")
    p1, p2 = c1 / n1, c2 / n2
    pooled = (c1 + c2) / (n1 + n2)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (p2 - p1) / se_pooled if se_pooled > 0 else 0.0
    p_value = 2.0 * normal_sf(abs(z)) if se_pooled > 0 else 1.0
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    uplift, low, high = _relative(p1, p2 - p1, Z_95 * se)
    return Comparison(p1, p2, p2 - p1, uplift, low, high, z, p_value)


def welch_ttest(n1: int, sum1: float, sumsq1: float, n2: int, sum2: float, sumsq2: float) -> Comparison:
    """Means from counts, sums and sums of squares: Welch's t-test and the 95 % interval.

    >>> round(welch_ttest(3, 6.0, 14.0, 3, 9.0, 29.0).p_value, 4)
    0.2879
    """
    if n1 < 2 or n2 < 2:
        raise ValueError("Welch's t-test needs at least two units in each group")
    mean1, mean2 = sum1 / n1, sum2 / n2
    var1 = max(0.0, (sumsq1 - n1 * mean1 * mean1) / (n1 - 1))
    var2 = max(0.0, (sumsq2 - n2 * mean2 * mean2) / (n2 - 1))
    a, b = var1 / n1, var2 / n2
    se = math.sqrt(a + b)
    difference = mean2 - mean1
    if se == 0:
        return Comparison(mean1, mean2, difference, *_relative(mean1, difference, 0.0), 0.0, 1.0)
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    t = difference / se
    p_value = min(1.0, 2.0 * t_sf(abs(t), df))
    uplift, low, high = _relative(mean1, difference, t_ppf(0.975, df) * se)
    return Comparison(mean1, mean2, difference, uplift, low, high, t, p_value)


@dataclass(frozen=True)
class SampleRatio:
    """Chi-square goodness of fit of the observed counts against the variants' weights."""

    statistic: float
    p_value: float
    expected: tuple[float, ...]

    @property
    def mismatch(self) -> bool:
        # A strict threshold, as is usual for SRM: real mismatches give tiny p-values.
        return self.p_value < 0.001


def sample_ratio(observed: Sequence[int], weights: Sequence[float]) -> SampleRatio:
    """The chi-square test of ``observed`` counts against the variants' ``weights``.

    >>> sample_ratio([5000, 5000], [1, 1]).p_value
    1.0
    """
    if len(observed) != len(weights) or len(observed) < 2:
        raise ValueError("one weight per observed count, at least two")
    total, weight_total = sum(observed), float(sum(weights))
    if total == 0 or weight_total <= 0:
        return SampleRatio(0.0, 1.0, tuple(0.0 for _ in observed))
    expected = tuple(total * w / weight_total for w in weights)
    statistic = sum((o - e) ** 2 / e for o, e in zip(observed, expected) if e > 0)
    return SampleRatio(statistic, chi2_sf(statistic, len(observed) - 1), expected)


def sample_size(p1: float, p2: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Units per group for a two-sided two-proportion z-test to detect ``p1`` vs ``p2`` with ``power``.

    >>> sample_size(0.10, 0.12)
    3841
    """
    if not (0 < p1 < 1 and 0 < p2 < 1) or p1 == p2:
        return None
    pooled = (p1 + p2) / 2
    root = normal_ppf(1 - alpha / 2) * math.sqrt(2 * pooled * (1 - pooled)) + normal_ppf(power) * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    return math.ceil(root * root / (p1 - p2) ** 2)
