"""Poisson and negative-binomial tails, exact for the small means buffers live at.

The normal approximation fails below a mean of about 10 (oversell-model.md §3), so the
tails are summed from the probability mass function instead. Usage::

    poisson_sf(2, 0.833)          # P[Poisson(0.833) > 2] = 0.052
    negbin_sf(2, 0.833, 0.5)      # same mean, variance mean + 0.5 * mean**2
"""

from __future__ import annotations

import math


def poisson_pmf(n: int, mean: float) -> float:
    """P[Poisson(mean) = n]."""
    if mean < 0 or n < 0:
        raise ValueError("mean and n must be non-negative")
    if mean == 0:
        return 1.0 if n == 0 else 0.0
    return math.exp(n * math.log(mean) - mean - math.lgamma(n + 1))


def poisson_sf(b: int, mean: float) -> float:
    """P[Poisson(mean) > b]: the chance of more than `b` orders in a stale window."""
    if mean < 0:
        raise ValueError("mean must be non-negative")
    if b < 0:
        return 1.0
    if mean == 0:
        return 0.0
    # Summing the head is exact enough while it is not close to 1; for a far tail sum the
    # tail itself so that tiny risks (1e-12) keep their digits.
    if b >= mean:
        total, term, n = 0.0, poisson_pmf(b + 1, mean), b + 1
        while term > 0 and term > total * 1e-17:
            total += term
            n += 1
            term *= mean / n
        return min(1.0, total)
    head, term = 0.0, math.exp(-mean)
    for n in range(b + 1):
        if n:
            term *= mean / n
        head += term
    return max(0.0, 1.0 - head)


def poisson_quantile(p: float, mean: float) -> int:
    """The smallest b with P[Poisson(mean) > b] <= 1 - p."""
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    b = 0
    while poisson_sf(b, mean) > 1 - p:
        b += 1
    return b


def negbin_pmf(n: int, mean: float, dispersion: float) -> float:
    """P[N = n] for a negative binomial with this mean and variance mean + dispersion*mean^2.

    dispersion 0 is the Poisson; retail demand fits dispersion > 0 better (Agrawal & Smith).
    """
    if dispersion < 0:
        raise ValueError("dispersion must be non-negative")
    if dispersion == 0:
        return poisson_pmf(n, mean)
    if mean == 0:
        return 1.0 if n == 0 else 0.0
    r = 1.0 / dispersion
    p = r / (r + mean)  # success probability
    return math.exp(math.lgamma(n + r) - math.lgamma(r) - math.lgamma(n + 1)
                    + r * math.log(p) + n * math.log1p(-p))


def negbin_sf(b: int, mean: float, dispersion: float) -> float:
    """P[N > b] for the negative binomial of `negbin_pmf`."""
    if dispersion == 0:
        return poisson_sf(b, mean)
    if b < 0:
        return 1.0
    if mean == 0:
        return 0.0
    if b < mean:
        head = sum(negbin_pmf(n, mean, dispersion) for n in range(b + 1))
        return min(1.0, max(0.0, 1.0 - head))
    # far tail: sum it (pmf(n+1) = pmf(n)·(n+r)/(n+1)·(1−p)) so tiny risks keep their digits
    r = 1.0 / dispersion
    q = mean / (r + mean)
    n, term, total = b + 1, negbin_pmf(b + 1, mean, dispersion), 0.0
    while term > 0 and (term > total * 1e-17 or n < mean):
        total += term
        term *= (n + r) / (n + 1) * q
        n += 1
    return min(1.0, total)


def count_sf(b: int, mean: float, dispersion: float = 0.0) -> float:
    """P[orders > b] for Poisson (dispersion 0) or over-dispersed (negative binomial) orders."""
    return poisson_sf(b, mean) if dispersion == 0 else negbin_sf(b, mean, dispersion)
