"""Contract tests of pmrisk.distributions: every kind against scipy, closed forms, the batch sampler,
the Beta-PERT table bound, validation messages and property tests."""

from __future__ import annotations

import dataclasses
import json
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from pmrisk.distributions import (
    KINDS,
    BatchSampler,
    Discrete,
    Distribution,
    Fixed,
    Lognormal,
    Normal,
    Pert,
    Triangular,
    Trigen,
    Uniform,
    _numba_kernels,
    parse_distribution,
)
from pmrisk.errors import DistributionError

HAVE_NUMBA = _numba_kernels() is not None     # False without numba or with PMRISK_DISABLE_NUMBA=1

BACKENDS = ["numpy"] + (["numba"] if HAVE_NUMBA else [])

# id -> (spec, expected kind, expected mode)
CASES: dict[str, tuple[object, str, float]] = {
    "fixed-number": (12, "fixed", 12.0),
    "fixed-dict": ({"dist": "fixed", "value": 3.5}, "fixed", 3.5),
    "fixed-zero": (0, "fixed", 0.0),
    "tri-sym": ({"dist": "triangular", "min": 0, "likely": 5, "max": 10}, "triangular", 5.0),
    "tri-skew": ({"dist": "triangular", "min": 10, "likely": 12, "max": 40}, "triangular", 12.0),
    "tri-left": ({"dist": "triangular", "min": 10, "likely": 10, "max": 20}, "triangular", 10.0),
    "tri-right": ({"dist": "triangular", "min": 10, "likely": 20, "max": 20}, "triangular", 20.0),
    "tri-degenerate": ({"dist": "triangular", "min": 7, "likely": 7, "max": 7}, "triangular", 7.0),
    "pert": ({"dist": "pert", "min": 10, "likely": 15, "max": 30}, "pert", 15.0),
    "pert-left": ({"dist": "pert", "min": 10, "likely": 10, "max": 30}, "pert", 10.0),
    "pert-right": ({"dist": "pert", "min": 10, "likely": 30, "max": 30}, "pert", 30.0),
    "pert-lam0.5": ({"dist": "pert", "min": 0, "likely": 1, "max": 9, "lambda": 0.5}, "pert", 1.0),
    "pert-lam20": ({"dist": "pert", "min": 100, "likely": 180, "max": 200, "lambda": 20}, "pert", 180.0),
    "pert-degenerate": ({"dist": "pert", "min": 5, "likely": 5, "max": 5}, "pert", 5.0),
    "uniform": ({"dist": "uniform", "min": 10000, "max": 30000}, "uniform", 20000.0),
    "uniform-degenerate": ({"dist": "uniform", "min": 4, "max": 4}, "uniform", 4.0),
    "normal": ({"dist": "normal", "mean": 20, "sd": 4}, "normal", 20.0),
    "normal-min": ({"dist": "normal", "mean": 20, "sd": 4, "min": 15}, "normal", 20.0),
    "normal-window": ({"dist": "normal", "mean": 20, "sd": 4, "min": 18, "max": 30}, "normal", 20.0),
    "normal-far-tail": ({"dist": "normal", "mean": 0, "sd": 1, "min": 5, "max": 7}, "normal", 5.0),
    "normal-above": ({"dist": "normal", "mean": 10, "sd": 1, "min": 12}, "normal", 12.0),
    "normal-below": ({"dist": "normal", "mean": 10, "sd": 2, "max": 3}, "normal", 3.0),
    "normal-sd0": ({"dist": "normal", "mean": 5, "sd": 0}, "normal", 5.0),
    "lognormal-mean-sd": ({"dist": "lognormal", "mean": 20, "sd": 8}, "lognormal",
                          math.exp(math.log(20) - 1.5 * math.log1p(0.16))),
    "lognormal-p10-p90": ({"dist": "lognormal", "p10": 10, "p90": 30}, "lognormal",
                          math.exp(math.log(300) / 2 - (math.log(3) / (2 * special.ndtri(0.9))) ** 2)),
    "lognormal-levels": ({"dist": "lognormal", "p10": 10, "p90": 30, "low": 0.05, "high": 0.95},
                         "lognormal", math.exp(math.log(300) / 2
                                               - (math.log(3) / (2 * special.ndtri(0.95))) ** 2)),
    "lognormal-mu-sigma": ({"dist": "lognormal", "mu": 1.0, "sigma": 0.5}, "lognormal", math.exp(0.75)),
    "lognormal-sd0": ({"dist": "lognormal", "mean": 7, "sd": 0}, "lognormal", 7.0),
    "trigen": ({"dist": "trigen", "p10": 12, "likely": 15, "p90": 25}, "trigen", 15.0),
    "trigen-at-p10": ({"dist": "trigen", "p10": 12, "likely": 12, "p90": 25}, "trigen", 12.0),
    "trigen-at-p90": ({"dist": "trigen", "p10": 12, "likely": 25, "p90": 25}, "trigen", 25.0),
    "trigen-levels": ({"dist": "trigen", "p10": 12, "likely": 14, "p90": 25, "low": 0.05, "high": 0.95},
                      "trigen", 14.0),
    "trigen-mode-below-p10": ({"dist": "trigen", "p10": 12, "likely": 11.5, "p90": 25}, "trigen", 11.5),
    "discrete": ({"dist": "discrete", "values": [10, 0, 5], "weights": [2, 5, 3]}, "discrete", 0.0),
    "discrete-equal": ({"dist": "discrete", "values": [4, 1, 9, 2]}, "discrete", 1.0),
    "discrete-zero-weight": ({"dist": "discrete", "values": [1, 2, 3, 4], "weights": [0, 1, 0, 3]},
                             "discrete", 4.0),
    "discrete-single": ({"dist": "discrete", "values": [6]}, "discrete", 6.0),
}
IDS = list(CASES)
DISTS = {k: parse_distribution(v[0]) for k, v in CASES.items()}
CONTINUOUS = [k for k in IDS if DISTS[k].kind != "discrete" and not DISTS[k].is_fixed]
U_GRID = (np.arange(2000) + 0.37) / 2000          # avoids the atoms of the discrete cases


def _scale(d: Distribution) -> float:
    return max(1.0, abs(d.mean()), d.sd())


@pytest.fixture(params=IDS)
def case(request):
    return request.param, DISTS[request.param]


# --------------------------------------------------------------------------------------------
# the shared contract, for every kind


def test_every_kind_is_covered():
    assert {DISTS[k].kind for k in IDS} == set(KINDS)


def test_kind_mode_and_types(case):
    cid, d = case
    _, kind, mode = CASES[cid]
    assert d.kind == kind
    assert isinstance(d, Distribution)
    assert d.mode() == pytest.approx(mode, rel=1e-12, abs=1e-12)
    for v in (d.mean(), d.sd(), d.mode(), *d.support()):
        assert type(v) is float


def test_ppf_matches_scipy(case):
    _, d = case
    x = d.ppf(U_GRID)
    ref = d.to_scipy().ppf(U_GRID)
    assert x.shape == U_GRID.shape and x.dtype == np.float64
    np.testing.assert_allclose(x, ref, rtol=1e-10, atol=1e-10 * _scale(d))


def test_ppf_shapes_and_ends(case):
    _, d = case
    u = np.random.default_rng(0).random((3, 4, 5))
    assert d.ppf(u).shape == (3, 4, 5)
    assert np.ndim(d.ppf(0.5)) == 0
    lo, _ = d.support()
    x0 = float(d.ppf(0.0))
    if d.kind == "discrete" or math.isinf(lo):
        assert x0 >= lo
    else:
        assert x0 == pytest.approx(lo, abs=1e-12 * _scale(d))


def test_cdf_matches_scipy(case):
    _, d = case
    lo, hi = d.ppf(0.001), d.ppf(0.999)
    x = np.linspace(lo - 1, hi + 1, 777)
    np.testing.assert_allclose(d.cdf(x), d.to_scipy().cdf(x), rtol=1e-9, atol=1e-12)


def test_moments_match_scipy(case):
    _, d = case
    ref = d.to_scipy()
    assert d.mean() == pytest.approx(float(ref.mean()), rel=1e-9, abs=1e-9)
    assert d.sd() == pytest.approx(float(ref.std()), rel=1e-8, abs=1e-9)


@pytest.mark.parametrize("cid", CONTINUOUS)
def test_cdf_inverts_ppf(cid):
    d = DISTS[cid]
    u = np.linspace(0.0005, 0.9995, 2001)
    np.testing.assert_allclose(d.cdf(d.ppf(u)), u, atol=1e-9)


def test_ppf_monotone(case):
    _, d = case
    u = np.sort(np.concatenate([np.linspace(0, 1, 20001)[:-1],
                                np.random.default_rng(3).random(20000)]))
    x = d.ppf(u)
    assert np.all(x[1:] >= x[:-1])


@pytest.mark.parametrize("cid", CONTINUOUS)
def test_samples_follow_the_law(cid):
    """Seeded Kolmogorov-Smirnov test of inverse-CDF samples against scipy's CDF."""
    d = DISTS[cid]
    x = d.ppf(np.random.default_rng(20240601).random(20000))
    assert stats.kstest(x, d.to_scipy().cdf).pvalue > 1e-3


@pytest.mark.parametrize("cid", [k for k in IDS if DISTS[k].kind == "discrete"])
def test_discrete_frequencies(cid):
    d = DISTS[cid]
    n = 40000
    x = d.ppf(np.random.default_rng(7).random(n))
    p = d._p
    freq = np.array([np.mean(x == v) for v in d.values])
    assert np.all(np.abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12)
    assert np.all(freq[p == 0] == 0)


def test_to_spec_round_trip(case):
    _, d = case
    spec = d.to_spec()
    again = parse_distribution(json.loads(json.dumps(spec)))
    assert again == d and type(again) is type(d)
    assert hash(again) == hash(d)
    np.testing.assert_array_equal(again.ppf(U_GRID), d.ppf(U_GRID))


def test_immutable(case):
    _, d = case
    field = dataclasses.fields(d)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(d, field, 1.0)
    assert parse_distribution(d) is d


# --------------------------------------------------------------------------------------------
# analytic oracles


@pytest.mark.parametrize("a,c,b,lam", [(10, 15, 30, 4), (0, 0, 1, 4), (0, 1, 1, 4), (2, 3, 11, 0.5),
                                       (2, 3, 11, 20), (-5, 1, 2, 4)])
def test_pert_closed_forms(a, c, b, lam):
    d = Pert(a, c, b, lam)
    mean = (a + lam * c + b) / (lam + 2)
    assert d.mean() == pytest.approx(mean, rel=1e-12)
    assert d.sd() == pytest.approx(math.sqrt((mean - a) * (b - mean) / (lam + 3)), rel=1e-12)
    if lam == 4:
        assert d.mean() == pytest.approx((a + 4 * c + b) / 6, rel=1e-12)
    al, be = 1 + lam * (c - a) / (b - a), 1 + lam * (b - c) / (b - a)
    ref = stats.beta(al, be, loc=a, scale=b - a)
    assert d.mean() == pytest.approx(ref.mean(), rel=1e-12)
    assert float(d.ppf(0.5)) == pytest.approx(ref.median(), rel=1e-12)


@pytest.mark.parametrize("a,c,b", [(10, 15, 30), (0, 0, 1), (0, 1, 1), (40, 60, 100)])
def test_triangular_closed_forms(a, c, b):
    d = Triangular(a, c, b)
    assert d.mean() == pytest.approx((a + c + b) / 3, rel=1e-12)
    var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
    assert d.sd() == pytest.approx(math.sqrt(var), rel=1e-12)
    fc = (c - a) / (b - a)
    assert float(d.ppf(fc)) == pytest.approx(c, abs=1e-12)
    assert float(d.cdf(c)) == pytest.approx(fc, abs=1e-12)


def test_uniform_and_normal_closed_forms():
    d = Uniform(10, 30)
    assert (d.mean(), d.sd()) == (20.0, pytest.approx(20 / math.sqrt(12)))
    n = Normal(20, 4, min=18, max=30)
    za, zb = -0.5, 2.5
    z = special.ndtr(zb) - special.ndtr(za)
    pa, pb = stats.norm.pdf(za), stats.norm.pdf(zb)
    assert n.mean() == pytest.approx(20 + 4 * (pa - pb) / z, rel=1e-12)
    var = 16 * (1 + (za * pa - zb * pb) / z - ((pa - pb) / z) ** 2)
    assert n.sd() == pytest.approx(math.sqrt(var), rel=1e-10)


def test_truncated_normal_far_in_the_tail():
    d = Normal(0, 1, min=30, max=31)                      # probability ~5e-198
    x = d.ppf(np.array([0.0, 0.5, 0.999999]))
    assert np.all((x >= 30) & (x <= 31)) and x[0] == 30.0
    np.testing.assert_allclose(x, stats.truncnorm(30, 31).ppf([0.0, 0.5, 0.999999]), rtol=1e-12)
    np.testing.assert_allclose(d.cdf(x[1:2]), [0.5], rtol=1e-9)
    low = Normal(0, 1, max=-30)
    np.testing.assert_allclose(low.ppf([0.5]), stats.truncnorm(-np.inf, -30).ppf([0.5]), rtol=1e-12)


def test_lognormal_parametrisations():
    d = Lognormal.from_mean_sd(20, 8)
    assert d.mean() == pytest.approx(20, rel=1e-12) and d.sd() == pytest.approx(8, rel=1e-12)
    e = Lognormal.from_percentiles(10, 30)
    np.testing.assert_allclose(e.ppf([0.1, 0.9]), [10, 30], rtol=1e-12)
    f = Lognormal.from_percentiles(10, 30, low=0.2, high=0.7)
    np.testing.assert_allclose(f.ppf([0.2, 0.7]), [10, 30], rtol=1e-12)
    assert e.support() == (0.0, math.inf)
    assert float(e.cdf(-1.0)) == 0.0 and float(e.cdf(0.0)) == 0.0


# --------------------------------------------------------------------------------------------
# trigen


@pytest.mark.parametrize("p10,likely,p90,low,high", [
    (12, 15, 25, 0.1, 0.9), (12, 12, 25, 0.1, 0.9), (12, 25, 25, 0.1, 0.9), (12, 14, 25, 0.05, 0.95),
    (12, 11.5, 25, 0.1, 0.9), (12, 25.4, 25, 0.1, 0.9), (1, 1.5, 1000, 0.2, 0.8), (100, 100.5, 101, 0.1, 0.9),
    (-3, 0, 2, 0.3, 0.6)])
def test_trigen_reproduces_its_percentiles(p10, likely, p90, low, high):
    d = Trigen(p10, likely, p90, low, high)
    span = p90 - p10
    np.testing.assert_allclose(d.ppf([low, high]), [p10, p90], rtol=0, atol=1e-11 * span)
    np.testing.assert_allclose(d.cdf(np.array([p10, p90])), [low, high], atol=1e-11)
    assert d.mode() == likely and d.min <= min(likely, p10) and d.max >= max(likely, p90)
    t = d.triangular
    assert t.likely == likely and t.support() == d.support()
    np.testing.assert_allclose(d.to_scipy().ppf([low, high]), [p10, p90], atol=1e-9 * span)


def test_trigen_infeasible_mode_says_where_likely_may_lie():
    with pytest.raises(DistributionError, match=r"likely 5 lies too far below p10 12 and p90 25.*\[10\.9452"):
        Trigen(12, 5, 25)
    with pytest.raises(DistributionError, match=r"too far above"):
        parse_distribution({"dist": "trigen", "p10": 12, "likely": 40, "p90": 25})


# --------------------------------------------------------------------------------------------
# the batch sampler


def _mixed_rows(reps=3):
    ds = [DISTS[k] for k in IDS] * reps
    order = np.random.default_rng(5).permutation(len(ds))
    return [ds[i] for i in order]


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_sampler_equals_per_row_ppf(backend):
    ds = _mixed_rows()
    rng = np.random.default_rng(11)
    u = rng.random((len(ds), 300))
    u[:, 0], u[:, 1], u[:, 2] = 0.0, 0.5, 1 - 2.0 ** -53    # the ends and the middle
    u[:, 3] = 1e-300                                          # outside the PERT table
    sampler = BatchSampler(ds, backend=backend)
    assert sampler.backend == backend and len(sampler) == len(ds)
    out = sampler.ppf(u)
    assert np.all(np.isfinite(out[:, 1:]))
    for i, d in enumerate(ds):
        ref = d.ppf(u[i])
        if d.kind == "pert" and not d.is_fixed:
            np.testing.assert_allclose(out[i], ref, rtol=0, atol=1e-6 * (d.max - d.min))
            assert out[i, 0] == d.min
        else:
            np.testing.assert_allclose(out[i], ref, rtol=1e-13, atol=1e-13 * _scale(d))


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_sampler_out_argument_and_shapes(backend):
    ds = _mixed_rows(1)
    u = np.random.default_rng(2).random((len(ds), 64))
    sampler = BatchSampler(ds, backend=backend)
    ref = sampler.ppf(u)
    out = np.full_like(u, np.nan)
    assert sampler.ppf(u, out=out) is out
    np.testing.assert_array_equal(out, ref)
    inplace = u.copy()
    sampler.ppf(inplace, out=inplace)
    np.testing.assert_array_equal(inplace, ref)
    strided = np.random.default_rng(2).random((len(ds), 128))[:, ::2]
    np.testing.assert_array_equal(sampler.ppf(strided), sampler.ppf(strided.copy()))
    assert sampler.ppf(np.empty((len(ds), 0))).shape == (len(ds), 0)
    assert BatchSampler([], backend=backend).ppf(np.empty((0, 5))).shape == (0, 5)
    with pytest.raises(ValueError, match="shape"):
        sampler.ppf(u[:-1])
    with pytest.raises(ValueError, match="out must be"):
        sampler.ppf(u, out=np.empty((len(ds), 3)))


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba unavailable or disabled (PMRISK_DISABLE_NUMBA)")
def test_numba_and_numpy_backends_agree():
    ds = _mixed_rows(4)
    u = np.random.default_rng(8).random((len(ds), 500))
    a = BatchSampler(ds, backend="numba").ppf(u)
    b = BatchSampler(ds, backend="numpy").ppf(u)
    np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-13)


def test_pickle_round_trip():
    ds = _mixed_rows(1)
    for d in ds:
        assert pickle.loads(pickle.dumps(d)) == d
    u = np.random.default_rng(6).random((len(ds), 50))
    for backend in BACKENDS:
        s = BatchSampler(ds, backend=backend)
        again = pickle.loads(pickle.dumps(s))
        assert again.backend == backend
        np.testing.assert_array_equal(again.ppf(u), s.ppf(u))


def test_batch_sampler_accepts_specs_and_rejects_bad_backend():
    s = BatchSampler([{"dist": "uniform", "min": 0, "max": 2}, 3])
    np.testing.assert_array_equal(s.ppf(np.array([[0.25], [0.9]])), [[0.5], [3.0]])
    with pytest.raises(ValueError, match="backend"):
        BatchSampler([], backend="gpu")


def test_discrete_with_many_values():
    d = Discrete(list(range(100)), [1 + (i % 3) for i in range(100)])
    u = np.random.default_rng(4).random((2, 1000))
    for backend in BACKENDS:
        out = BatchSampler([d, d], backend=backend).ppf(u)
        np.testing.assert_array_equal(out, np.stack([d.ppf(u[0]), d.ppf(u[1])]))


# PERT quantile tables: the error bound on a dense grid, for many shapes
_U_DENSE = np.concatenate([np.linspace(0, 1, 200_001)[:-1],
                           10 ** np.random.default_rng(9).uniform(-15, -1, 20_000),
                           1 - 10 ** np.random.default_rng(10).uniform(-15, -1, 20_000)])
_PERT_SHAPES = [(0.0, 4), (1.0, 4), (0.25, 4), (0.5, 0.5), (0.02, 0.5), (0.0, 20), (1.0, 20), (0.7, 20),
                (0.999, 1.0), (0.3, 100.0), (0.0, 0.01), (0.5, 2.0)]


def _exact_beta_ppf(al, be, u):
    return np.where(u <= 0.5, special.betaincinv(al, be, u), 1 - special.betaincinv(be, al, 1 - u))


@pytest.mark.parametrize("backend", BACKENDS)
def test_pert_table_error_bound(backend):
    ds = [Pert(2.0, 2.0 + 3.0 * r, 5.0, lam) for r, lam in _PERT_SHAPES]
    u = np.broadcast_to(_U_DENSE, (len(ds), _U_DENSE.size))
    out = BatchSampler(ds, backend=backend).ppf(u)
    for i, d in enumerate(ds):
        al, be = d._shape()
        exact = 2.0 + 3.0 * _exact_beta_ppf(al, be, _U_DENSE)
        err = np.abs(out[i] - exact).max() / 3.0
        assert err <= 1e-6, (d, err)
        assert err <= 1e-7, (d, err)                   # measured 3.1e-8: a regression guard
        order = np.argsort(_U_DENSE, kind="stable")
        assert np.all(np.diff(out[i, order]) >= 0)     # monotone in u


def test_pert_table_many_shapes_coarse():
    """Many more shapes (lambda 0.5..20, likely anywhere) on a coarser grid plus the tails."""
    rng = np.random.default_rng(12)
    lam = np.concatenate([[0.5, 20, 4, 4], rng.uniform(0.5, 20, 36)])
    r = np.concatenate([[0.0, 1.0, 0.0, 1.0], rng.random(36)])
    ds = [Pert(-1.0, -1.0 + 2.0 * ri, 1.0, li) for ri, li in zip(r, lam, strict=True)]
    u = np.concatenate([np.linspace(0, 1, 5001)[:-1], 10 ** rng.uniform(-12, -1, 500),
                        1 - 10 ** rng.uniform(-12, -1, 500)])
    out = BatchSampler(ds).ppf(np.broadcast_to(u, (len(ds), u.size)))
    for i, d in enumerate(ds):
        exact = -1.0 + 2.0 * _exact_beta_ppf(*d._shape(), u)
        assert np.abs(out[i] - exact).max() <= 1e-6 * 2.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_pert_in_the_extreme_tails(backend):
    """scipy's betaincinv gives NaN for tiny u with some shapes; the tails must stay exact."""
    u = np.array([0.0, 1e-310, 1e-300, 1e-200, 1e-100, 1e-20, 0.5, 1 - 1e-16, 1.0])
    for d in (Pert(0, 1, 2), Pert(0, 0.2, 2, 10), Pert(0, 2, 2), Pert(0, 0, 2)):
        x = d.ppf(u)
        xb = BatchSampler([d], backend=backend).ppf(u[None, :])[0]
        for y in (x, xb):
            assert np.all(np.isfinite(y)) and np.all(y[1:] >= y[:-1])
            assert y[0] == 0.0 and y[-1] == 2.0
        al, be = d._shape()
        tiny = u[1:5]
        approx = 2 * np.exp((np.log(tiny) + np.log(al) + special.betaln(al, be)) / al)
        np.testing.assert_allclose(x[1:5], approx, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# parsing: aliases, numbers, degenerate specs


@pytest.mark.parametrize("spec,expected", [
    ({"dist": "Triang", "min": 1, "most_likely": 2, "max": 4}, Triangular(1, 2, 4)),
    ({"dist": "tri", "MIN": 1, "mode": 2, "Max": 4}, Triangular(1, 2, 4)),
    ({"dist": "triangle", "min": 1, "ml": 2, "max": 4}, Triangular(1, 2, 4)),
    ({"dist": "BetaPERT", "min": 1, "likely": 2, "max": 4}, Pert(1, 2, 4)),
    ({"dist": "beta-pert", "min": 1, "likely": 2, "max": 4, "lambda_": 3}, Pert(1, 2, 4, 3)),
    ({"dist": "beta_pert", "min": 1, "likely": 2, "max": 4, "lambda": 3}, Pert(1, 2, 4, 3)),
    ({"dist": "normal", "mean": 3, "stdev": 1}, Normal(3, 1)),
    ({"dist": "Gaussian", "mean": 3, "std": 1, "min": 0}, Normal(3, 1, min=0)),
    ({"dist": "lognormal", "mean": 3, "std": 1}, Lognormal.from_mean_sd(3, 1)),
    ({"dist": "constant", "value": 2}, Fixed(2)),
    ({"value": 2}, Fixed(2)),
    ({"dist": "pert", "min": "1e3", "likely": "1_500", "max": " 3000 "}, Pert(1000, 1500, 3000)),
    (np.float64(2.5), Fixed(2.5)),
    (np.int64(4), Fixed(4)),
    ("7", Fixed(7)),
])
def test_aliases_and_number_forms(spec, expected):
    assert parse_distribution(spec) == expected


@pytest.mark.parametrize("spec", [
    {"dist": "triangular", "min": 7, "likely": 7, "max": 7}, {"dist": "pert", "min": 5, "likely": 5, "max": 5},
    {"dist": "uniform", "min": 4, "max": 4}, {"dist": "normal", "mean": 5, "sd": 0},
    {"dist": "normal", "mean": 5, "sd": 2, "min": 6, "max": 6}, {"dist": "lognormal", "mean": 5, "sd": 0},
    {"dist": "discrete", "values": [1, 5, 9], "weights": [0, 1, 0]}, 5])
@pytest.mark.parametrize("backend", BACKENDS)
def test_degenerate_specs_behave_as_fixed(spec, backend):
    d = parse_distribution(spec)
    v = d.mode()
    assert d.is_fixed and d.sd() == 0.0 and d.mean() == v and d.support() == (v, v)
    u = np.array([0.0, 0.3, 0.999999])
    np.testing.assert_array_equal(d.ppf(u), [v, v, v])
    np.testing.assert_array_equal(d.cdf(np.array([v - 1, v, v + 1])), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(BatchSampler([d], backend=backend).ppf(u[None, :]), [[v, v, v]])
    assert float(d.to_scipy().ppf(0.5)) == v
    assert parse_distribution(d.to_spec()) == d


def test_discrete_is_sorted_and_merged():
    d = Discrete([3, 1, 3, 2], [1, 2, 1, 1])
    assert d.values == (1.0, 2.0, 3.0) and d.weights == (2.0, 1.0, 2.0)
    assert d.mode() == 1.0                                # first of the tie 1 / 3
    x = d.ppf(np.linspace(0, 0.999, 1000))
    assert np.all(np.diff(x) >= 0)


# --------------------------------------------------------------------------------------------
# validation: what is wrong, with the numbers, and how to fix it


@pytest.mark.parametrize("spec,needles", [
    ({"dist": "trianglar", "min": 1, "likely": 2, "max": 3},
     ["unknown distribution 'trianglar'", "did you mean 'triangular'", "pert, uniform"]),
    ({"dist": "wibble", "min": 1}, ["unknown distribution 'wibble'", "known distributions are fixed"]),
    ({"dist": 3}, ["dist must be a distribution name", "known"]),
    ({"min": 1, "likely": 2, "max": 3}, ["no 'dist' key", "dist: pert"]),
    ({"dist": "triangular", "min": 1, "likely": 2, "mx": 3},
     ["unknown key 'mx'", "did you mean 'max'", "expected keys: min, likely, max"]),
    ({"dist": "pert", "min": 1, "likely": 2, "max": 3, "lamda": 3},
     ["unknown key 'lamda'", "did you mean 'lambda'"]),
    ({"dist": "triangular", "min": 1, "max": 3}, ["missing key likely", "needs min, likely, max"]),
    ({"dist": "normal", "mean": 1}, ["missing key sd", "needs mean, sd"]),
    ({"dist": "pert", "min": 1, "likely": 2, "mode": 2, "max": 3}, ["likely is given twice", "keep one"]),
    ({"dist": "triangular", "min": "ten", "likely": 2, "max": 3}, ["min must be a number", "'ten'"]),
    ({"dist": "triangular", "min": None, "likely": 2, "max": 3}, ["min must be a number", "None"]),
    ({"dist": "triangular", "min": True, "likely": 2, "max": 3}, ["min must be a number", "boolean"]),
    ({"dist": "triangular", "min": 1, "likely": 2, "max": float("inf")}, ["max must be a finite number", "inf"]),
    ({"dist": "uniform", "min": float("nan"), "max": 3}, ["min must be a finite number", "nan"]),
    ({"dist": "triangular", "min": 10, "likely": 5, "max": 30}, ["min 10 > likely 5", "between min and max"]),
    ({"dist": "pert", "min": 10, "likely": 35, "max": 30}, ["likely 35 > max 30", "raise max"]),
    ({"dist": "triangular", "min": 30, "likely": 20, "max": 10}, ["min 30 > max 10", "swap"]),
    ({"dist": "uniform", "min": 5, "max": 2.5}, ["min 5 > max 2.5", "swap"]),
    ({"dist": "normal", "mean": 5, "sd": -1}, ["sd -1 is negative", ">= 0"]),
    ({"dist": "normal", "mean": 5, "sd": 1, "min": 9, "max": 3}, ["min 9 > max 3"]),
    ({"dist": "normal", "mean": 0, "sd": 1, "min": 50}, ["more than 37.5 sd", "mean 0"]),
    ({"dist": "normal", "mean": 5, "sd": 0, "min": 6}, ["mean 5 lies outside", "sd > 0"]),
    ({"dist": "lognormal", "mean": 5, "sd": -2}, ["sd -2 is negative"]),
    ({"dist": "lognormal", "mean": -5, "sd": 2}, ["mean -5 must be > 0", "lognormal"]),
    ({"dist": "pert", "min": 1, "likely": 2, "max": 3, "lambda": 0}, ["lambda 0 must be > 0", "4 is the classic"]),
    ({"dist": "pert", "min": 1, "likely": 2, "max": 3, "lambda": -2}, ["lambda -2 must be > 0"]),
    ({"dist": "lognormal", "p10": 30, "p90": 10}, ["p10 30 >= p90 10", "swap"]),
    ({"dist": "lognormal", "p10": 10, "p90": 10}, ["p10 10 >= p90 10"]),
    ({"dist": "trigen", "p10": 30, "likely": 20, "p90": 10}, ["p10 30 >= p90 10", "swap"]),
    ({"dist": "lognormal", "p10": 0, "p90": 10}, ["p10 0 must be > 0", "lognormal"]),
    ({"dist": "lognormal", "p10": -1, "p90": 10}, ["p10 -1 must be > 0"]),
    ({"dist": "lognormal", "p10": 1, "p90": 10, "mean": 3}, ["either mean and sd, or p10 and p90"]),
    ({"dist": "lognormal", "p10": 1}, ["missing key p90"]),
    ({"dist": "lognormal"}, ["needs mean and sd, or p10 and p90"]),
    ({"dist": "lognormal", "mean": 5, "sd": 1, "low": 0.2}, ["low and high", "need p10 and p90"]),
    ({"dist": "trigen", "p10": 1, "likely": 2, "p90": 3, "low": 0.9, "high": 0.1},
     ["low 0.9 and high 0.1", "0 < low < high < 1"]),
    ({"dist": "discrete", "values": [1, 2], "weights": [1, -1]},
     ["weights must be >= 0", "-1 at position 2"]),
    ({"dist": "discrete", "values": [1, 2], "weights": [0, 0]}, ["weights sum to 0", "positive weight"]),
    ({"dist": "discrete", "values": [1, 2, 3], "weights": [1, 2]}, ["3 values but 2 weights", "one weight per value"]),
    ({"dist": "discrete", "values": []}, ["values is empty", "at least one value"]),
    ({"dist": "discrete", "values": 5}, ["values must be a list of numbers", "values: [0, 5, 10]"]),
    ({"dist": "discrete", "values": [1, "x"]}, ["values[2] must be a number", "'x'"]),
    ({"dist": "fixed"}, ["missing key value"]),
    ("ten", ["value must be a number", "'ten'"]),
    (None, ["a distribution must be a number or a mapping", "None"]),
    ([1, 2], ["a distribution must be a number or a mapping"]),
    (float("nan"), ["value must be a finite number"]),
])
def test_validation_errors_say_what_and_how(spec, needles):
    with pytest.raises(DistributionError) as info:
        parse_distribution(spec)
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    for needle in needles:
        assert needle in msg, (needle, msg)
    assert "task" not in msg                            # the caller adds the location


def test_constructors_validate_too():
    with pytest.raises(DistributionError, match="min 3 > likely 2"):
        Triangular(3, 2, 5)
    with pytest.raises(DistributionError, match="lambda"):
        Pert(1, 2, 3, lambda_=0)
    with pytest.raises(DistributionError, match="sigma -1"):
        Lognormal(0, -1)


# --------------------------------------------------------------------------------------------
# property tests

_finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
_us = st.lists(st.floats(0, 1, exclude_max=True), min_size=2, max_size=40)


@st.composite
def _distributions(draw):
    kind = draw(st.sampled_from(["triangular", "pert", "uniform", "normal", "truncnormal", "lognormal",
                                 "trigen", "discrete"]))
    a, b, c = sorted(draw(st.tuples(_finite, _finite, _finite)))
    if kind == "triangular":
        return Triangular(a, b, c)
    if kind == "pert":
        return Pert(a, b, c, draw(st.floats(0.05, 50)))
    if kind == "uniform":
        return Uniform(a, c)
    sd = draw(st.floats(1e-3, 1e3))
    if kind == "normal":
        return Normal(b, sd)
    if kind == "truncnormal":
        lo = b + sd * draw(st.floats(-8, 8))
        return Normal(b, sd, min=lo, max=lo + sd * draw(st.floats(0.01, 8)))
    if kind == "lognormal":
        return Lognormal(draw(st.floats(-5, 5)), draw(st.floats(0.01, 2)))
    if kind == "trigen":
        p10 = draw(st.floats(-1e3, 1e3))
        p90 = p10 + draw(st.floats(0.01, 1e3))
        return Trigen(p10, p10 + (p90 - p10) * draw(st.floats(0, 1)), p90)
    vals = draw(st.lists(_finite, min_size=1, max_size=8))
    weights = draw(st.none() | st.lists(st.floats(0, 10), min_size=len(vals), max_size=len(vals))
                   .filter(lambda w: sum(w) > 0))
    return Discrete(vals, weights)


@settings(max_examples=150, deadline=None)
@given(_distributions(), _us)
def test_property_ppf_monotone_and_within_support(d, us):
    u = np.sort(np.asarray(us))
    lo, hi = d.support()
    for x in (d.ppf(u), *(BatchSampler([d], backend=b).ppf(u[None, :])[0] for b in BACKENDS)):
        assert np.all(x[1:] >= x[:-1])                 # non-decreasing (-inf at u = 0 included)
        assert np.all((x >= lo) & (x <= hi))


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1), st.floats(0.05, 50), _us)
def test_property_pert_table_close_to_exact(r, lam, us):
    d = Pert(0.0, r, 1.0, lam)
    u = np.asarray(us)
    for backend in BACKENDS:
        np.testing.assert_allclose(BatchSampler([d], backend=backend).ppf(u[None, :])[0], d.ppf(u),
                                   rtol=0, atol=1e-6)
