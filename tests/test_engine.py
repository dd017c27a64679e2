"""The engine against analytic results, the plain NumPy oracle, and itself (chunking, workers)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from conftest import make_project
from oracle import oracle_simulate
from scipy import stats

import pmrisk
from pmrisk.engine import kernels
from pmrisk.engine._jit import HAVE_NUMBA
from pmrisk.engine.network import compile_network
from pmrisk.engine.sampling import entity_keys, philox4x32, seed_key, uniforms, uniforms_reference
from pmrisk.engine.simulate import HIST_BINS

TRI = {"dist": "triangular", "min": 10, "likely": 20, "max": 45}
PERT = {"dist": "pert", "min": 5, "likely": 8, "max": 20}


# ---------------------------------------------------------------------------------------------
# Random numbers
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ctr,key,want", [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
])
def test_philox_known_answers(ctr, key, want):
    # Random123's published known-answer vectors for Philox4x32-10
    got = philox4x32(*ctr, *key)
    assert tuple(int(x) for x in got) == want


def test_compiled_uniforms_equal_reference():
    lo, hi = entity_keys([f"T{i}" for i in range(37)])
    key = seed_key(2027)
    a, b = uniforms(key, 1000, 333, lo, hi, 1)
    ra, rb = uniforms_reference(key, 1000, 333, lo, hi, 1)
    assert np.array_equal(a, ra) and np.array_equal(b, rb)
    assert 0 < a.min() and a.max() < 1


def test_uniforms_are_uniform_and_independent():
    lo, hi = entity_keys(["A", "B"])
    a, b = uniforms(seed_key(7), 0, 200_000, lo, hi, 0)
    for row in (a[0], a[1], b[0]):
        assert stats.kstest(row, "uniform").pvalue > 1e-3
    # streams and tasks are uncorrelated: |r| < 4 / sqrt(N)
    assert abs(np.corrcoef(a[0], a[1])[0, 1]) < 4 / math.sqrt(200_000)
    assert abs(np.corrcoef(a[0], b[0])[0, 1]) < 4 / math.sqrt(200_000)


def test_task_numbers_do_not_depend_on_other_tasks():
    """Common random numbers: adding a task leaves every other task's samples unchanged."""
    lo1, hi1 = entity_keys(["A", "B"])
    lo2, hi2 = entity_keys(["A", "X", "B"])
    a1, _ = uniforms(seed_key(1), 0, 100, lo1, hi1, 0)
    a2, _ = uniforms(seed_key(1), 0, 100, lo2, hi2, 0)
    assert np.array_equal(a1[0], a2[0]) and np.array_equal(a1[1], a2[2])


# ---------------------------------------------------------------------------------------------
# Kernels: every link type with lags on deterministic durations
# ---------------------------------------------------------------------------------------------

def _plan(tasks):
    return pmrisk.simulate(make_project(tasks), iterations=4, rng=0).deterministic


@pytest.mark.parametrize("typ,lag,b_start,b_finish", [
    ("FS", 0, 10, 14), ("FS", 3, 13, 17), ("FS", -2, 8, 12),
    ("SS", 0, 0, 4), ("SS", 5, 5, 9), ("SS", -3, 0, 4),          # no task starts before 0
    ("FF", 0, 6, 10), ("FF", 2, 8, 12), ("FF", -1, 5, 9),
    ("SF", 0, 0, 4), ("SF", 7, 3, 7), ("SF", 12, 8, 12),
])
def test_link_types_with_lags(typ, lag, b_start, b_finish):
    det = _plan([{"id": "A", "duration": 10},
                 {"id": "B", "duration": 4, "depends_on": [{"task": "A", "type": typ, "lag": lag}]}])
    assert det["start"]["B"] == b_start
    assert det["finish"]["B"] == b_finish
    assert det["duration"] == max(10, b_finish)


def test_start_no_earlier_than_and_multiple_predecessors():
    det = _plan([{"id": "A", "duration": 10},
                 {"id": "B", "duration": 3, "start_no_earlier_than": 2},
                 {"id": "C", "duration": 5, "depends_on": ["A", {"task": "B", "type": "SS", "lag": 12}]},
                 {"id": "D", "duration": 1, "start_no_earlier_than": 30}])
    assert det["start"]["B"] == 2
    assert det["start"]["C"] == 14          # max(A.finish 10, B.start 2 + 12)
    assert det["start"]["D"] == 30 and det["duration"] == 31
    assert det["critical_path"] == ["D"]        # C has 31 - 19 = 12 days of float


def test_critical_path_with_ff_and_ss():
    # A(10) -SS+2-> B(3) -FF+0-> C(12): C must finish >= B.finish = 5; C finish 12 from start 0
    det = _plan([{"id": "A", "duration": 10}, {"id": "B", "duration": 3, "depends_on": ["A SS+2"]},
                 {"id": "C", "duration": 12, "depends_on": ["B FF"]}])
    assert det["finish"] == {"A": 10, "B": 5, "C": 12}
    assert det["critical_path"] == ["C"]


def _random_network(seed, n=60):
    r = np.random.default_rng(seed)
    tasks = []
    for i in range(n):
        deps = []
        for p in sorted(set(r.integers(0, i, size=min(i, 3)).tolist())) if i else []:
            deps.append({"task": f"T{p}", "type": ["FS", "SS", "FF", "SF"][r.integers(4)],
                         "lag": float(r.integers(-3, 6))})
        a = float(r.integers(1, 10))
        tasks.append({"id": f"T{i}", "depends_on": deps,
                      "duration": {"dist": ["triangular", "pert", "uniform"][i % 3], "min": a, "likely": a + 2,
                                   "max": a + 9} if i % 3 != 2 else {"dist": "uniform", "min": a, "max": a + 5},
                      "milestone": False})
    tasks[-1] = {"id": f"T{n - 1}", "milestone": True, "depends_on": [f"T{i}" for i in range(n - 6, n - 1)]}
    return make_project(tasks)


@pytest.mark.skipif(not HAVE_NUMBA, reason="compiled kernels need numba; the reference is what runs")
def test_compiled_kernels_bit_identical_to_reference():
    p = _random_network(3)
    net = compile_network(p)
    r = np.random.default_rng(0)
    dur = r.uniform(0, 10, size=(net.n, 257))
    dur[-1] = 0
    es_r, ef_r, fin_r, crit_r = kernels.schedule_reference(
        dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest,
        net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag)
    es, ef = np.empty_like(dur), np.empty_like(dur)
    kernels.forward_pass(dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest, es, ef)
    fin = np.empty(dur.shape[1])
    kernels.project_finish(ef, fin)
    cnt = np.zeros(net.n, dtype=np.int64)
    lf, ls = np.empty_like(dur), np.empty_like(dur)
    kernels.backward_critical(dur, ef, fin, net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag, lf, ls, cnt)
    assert np.array_equal(es, es_r) and np.array_equal(ef, ef_r) and np.array_equal(fin, fin_r)
    assert np.array_equal(cnt, crit_r.sum(axis=1))
    fixed, per_day = r.uniform(0, 100, dur.shape), r.uniform(0, 9, dur.shape)
    tot = np.empty(dur.shape[1])
    kernels.add_cost(dur, fixed, per_day, tot)
    assert np.array_equal(tot, kernels.cost_reference(dur, fixed, per_day))


@pytest.mark.skipif(not HAVE_NUMBA, reason="compiled kernels need numba; the reference is what runs")
def test_fused_pass1_kernels_bit_identical_to_reference():
    """The fused forward pass (exact duration sums), histogram fills (with values on, inside and
    outside the range) and merge rows equal their NumPy references exactly."""
    p = _random_network(4)
    net = compile_network(p)
    r = np.random.default_rng(2)
    n, c = net.n, 300
    dur = np.round(r.uniform(0, 10, size=(n, c)), 1)     # ties and values on the ranges' ends
    dur[::7] = 0.0
    out = {}
    for name, fwd, hist, merge in (
            ("ref", kernels.forward_accumulate_reference, kernels.hist_accumulate_reference,
             kernels.merge_accumulate_reference),
            ("nb", kernels.forward_accumulate, kernels.hist_accumulate, kernels.merge_accumulate)):
        es, ef, fin = np.empty_like(dur), np.empty_like(dur), np.empty(c)
        qs = [np.full(n, 5, dtype=np.int64) for _ in range(3)]
        none = np.zeros(0)
        fwd(dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest, es, ef, fin, *qs, 64.0,
            none, none, none, np.zeros((0, HIST_BINS + 4), dtype=np.int32), none, none)
        lo, hi = np.quantile(ef, 0.1, axis=1), np.quantile(ef, 0.9, axis=1)     # some values outside
        hi[:3] = lo[:3]                                                        # empty ranges too
        scale = np.where(hi > lo, HIST_BINS / np.where(hi > lo, hi - lo, 1.0), 0.0)
        h = np.zeros((n, HIST_BINS + 4), dtype=np.int32)
        vmin, vmax = np.full(n, np.inf), np.full(n, -np.inf)
        hist(ef, lo, hi, scale, h, vmin, vmax)
        # the forward pass fills the same histograms itself when given them
        h2, v2min, v2max = np.zeros_like(h), np.full(n, np.inf), np.full(n, -np.inf)
        fwd(dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest, np.empty_like(dur),
            np.empty_like(dur), np.empty(c), *[np.zeros(n, dtype=np.int64) for _ in range(3)], 64.0,
            lo, hi, scale, h2, v2min, v2max)
        assert np.array_equal(h, h2) and np.array_equal(vmin, v2min) and np.array_equal(vmax, v2max)
        links = np.arange(net.pred_src.size)
        succ = np.repeat(np.arange(n), np.diff(net.pred_ptr))
        tasks = np.arange(0, n, 5)
        m = tasks.size + links.size
        mlo, mhi = np.full(m, 5.0), np.full(m, 30.0)
        mh = np.zeros((m, HIST_BINS + 4), dtype=np.int32)
        mmin, mmax = np.full(m, np.inf), np.full(m, -np.inf)
        merge(es, ef, dur, tasks, net.pred_src, net.pred_type, net.pred_lag, succ, mlo, mhi,
              np.full(m, HIST_BINS / 25.0), mh, mmin, mmax)
        out[name] = (es, ef, fin, *qs, h, vmin, vmax, mh, mmin, mmax)
    for a, b in zip(out["ref"], out["nb"], strict=True):
        assert np.array_equal(a, b)
    es, ef, fin, qsum, qhi, qlo, h, vmin, vmax, mh, *_ = out["nb"]
    assert (h.sum(axis=1) == c).all() and (mh.sum(axis=1) == c).all()
    assert h[:, 0].sum() > 0 and h[:, -1].sum() > 0                 # below and above the range
    q = np.rint(dur * 64).astype(np.int64)
    assert np.array_equal(qsum - 5, q.sum(axis=1))
    assert np.array_equal((qhi - 5) * 2**32 + (qlo - 5), (q * q).sum(axis=1))
    assert np.array_equal(fin, ef.max(axis=0))


def test_peak_memory_grows_with_tasks_plus_iterations_not_their_product():
    """A mid-size run (2,000 tasks x 20,000 iterations: 320 MB as one float64 matrix) stays within
    the chunked engine's budget: scratch of ~10 [tasks, C] arrays and 256-bin histograms per worker,
    plus a few arrays of the iterations."""
    import tracemalloc

    n, iters = 2000, 20_000
    r = np.random.default_rng(7)
    tasks = []
    for i in range(n):
        deps = [f"T{j}" for j in sorted(set(r.integers(max(0, i - 50), i, size=2).tolist()))] if i else []
        tasks.append({"id": f"T{i}", "depends_on": deps,
                      "duration": {"dist": "pert", "min": 2, "likely": 4 + i % 5, "max": 12 + i % 7}})
    p = make_project(tasks)
    pmrisk.simulate(p, iterations=100, rng=1)          # compile and warm the caches first
    tracemalloc.start()
    try:
        res = pmrisk.simulate(p, iterations=iters, rng=1, workers=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    c = res.chunk_size
    budget = 2 * (12 * n * c * 8 + n * (HIST_BINS + 4) * 4 * 3) + 64 * iters + 8 * 2**20
    assert peak < budget, (peak, budget)
    assert peak < n * iters * 8 / 4          # far below the tasks x iterations matrix (also without numba)


def test_total_float_is_never_negative_and_critical_path_exists():
    p = _random_network(5)
    net = compile_network(p)
    dur = np.random.default_rng(1).uniform(0, 10, size=(net.n, 100))
    es, ef, fin, crit = kernels.schedule_reference(
        dur, net.pred_ptr, net.pred_src, net.pred_type, net.pred_lag, net.earliest,
        net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag)
    lf = kernels.backward_pass_reference(dur, fin, net.succ_ptr, net.succ_dst, net.succ_type, net.succ_lag)
    assert (lf - ef >= -1e-9).all()
    # the task that finishes last is always critical
    last = ef.argmax(axis=0)
    assert crit[last, np.arange(100)].all()


# ---------------------------------------------------------------------------------------------
# Analytic oracles
# ---------------------------------------------------------------------------------------------

N = 40_000


def test_serial_chain_mean_triangular_and_pert():
    tasks = [{"id": f"T{i}", "duration": TRI if i % 2 else PERT, "depends_on": [f"T{i - 1}"] if i else []}
             for i in range(10)]
    r = pmrisk.simulate(make_project(tasks), iterations=N, rng=11)
    tri_mean, tri_var = (10 + 20 + 45) / 3, stats.triang(c=10 / 35, loc=10, scale=35).var()
    a, m, b = 5, 8, 20
    pert_mean = (a + 4 * m + b) / 6
    al, be = 1 + 4 * (m - a) / (b - a), 1 + 4 * (b - m) / (b - a)
    pert_var = stats.beta(al, be, loc=a, scale=b - a).var()
    mean = 5 * tri_mean + 5 * pert_mean
    se = math.sqrt((5 * tri_var + 5 * pert_var) / N)
    assert abs(r.durations.mean() - mean) < 4 * se
    assert abs(r.summary()["duration"]["mean"] - mean) < 4 * se
    # every task of a chain is critical in every iteration
    assert (r.criticality() == 1).all()


@pytest.mark.parametrize("n_par", [1, 2, 5])
def test_merge_bias_of_parallel_triangular_tasks(n_par):
    a, m, b = 10.0, 20.0, 30.0      # symmetric: P(task <= likely) = 0.5
    tasks = [{"id": f"P{i}", "duration": {"dist": "triangular", "min": a, "likely": m, "max": b}}
             for i in range(n_par)]
    tasks.append({"id": "END", "milestone": True, "depends_on": [f"P{i}" for i in range(n_par)]})
    r = pmrisk.simulate(make_project(tasks), iterations=N, rng=5)
    tri = stats.triang(c=0.5, loc=a, scale=b - a)
    q = 0.5 ** (1 / n_par)
    p50 = tri.ppf(q)
    # standard error of the sample median: sqrt(p(1-p)/N) / f(x_p), with f the density of the max
    dens = n_par * tri.cdf(p50) ** (n_par - 1) * tri.pdf(p50)
    assert abs(r.percentile(50) - p50) < 4 * math.sqrt(0.25 / N) / dens
    want = 0.5 ** n_par
    conf = r.summary()["deterministic"]["duration_confidence"]
    assert abs(conf - want) < 4 * math.sqrt(want * (1 - want) / N)
    assert r.deterministic["duration"] == m


def test_criticality_of_two_parallel_tasks():
    tasks = [{"id": "A", "duration": {"dist": "uniform", "min": 0, "max": 10}},
             {"id": "B", "duration": 6},
             {"id": "END", "milestone": True, "depends_on": ["A", "B"]}]
    r = pmrisk.simulate(make_project(tasks), iterations=N, rng=8)
    crit = r.criticality()
    se = math.sqrt(0.24 / N)
    assert abs(crit["A"] - 0.4) < 4 * se and abs(crit["B"] - 0.6) < 4 * se
    assert crit["END"] == 1.0
    assert r.sensitivity()["B"] == 0.0 and r.sensitivity()["A"] > 0.5


def test_cost_is_fixed_plus_per_day_times_duration():
    tasks = [{"id": "A", "duration": {"dist": "pert", "min": 2, "likely": 5, "max": 11},
              "cost": {"fixed": 1000, "per_day": 250}},
             {"id": "B", "duration": {"dist": "uniform", "min": 1, "max": 3}, "depends_on": ["A"],
              "cost": {"fixed": {"dist": "uniform", "min": 100, "max": 200}, "per_day": 10}},
             {"id": "M", "milestone": True, "depends_on": ["B"], "cost": 500}]
    r = pmrisk.simulate(make_project(tasks), iterations=5000, rng=3)
    o = oracle_simulate(make_project(tasks), 5000, 3)
    dA, dB = o["tasks"]["A"]["dur"], o["tasks"]["B"]["dur"]
    # the engine's Beta-PERT quantile tables are within 1e-6 (max - min) of the exact inverse
    assert np.abs(r.costs - o["cost"]).max() <= 250 * 1e-6 * (11 - 2) + 1e-9
    # cost = fixed + per_day x duration, task by task
    fixed_b = o["cost"] - (1000 + 250 * dA) - 10 * dB - 500
    assert fixed_b.min() >= 100 - 1e-6 and fixed_b.max() <= 200 + 1e-6
    assert np.std(fixed_b) == pytest.approx(100 / math.sqrt(12), rel=0.05)
    det = r.deterministic
    assert det["cost"] == pytest.approx(1000 + 250 * 5 + 150 + 10 * 2 + 500)


def test_engine_matches_unchunked_oracle():
    p = _random_network(11, n=40)
    r = pmrisk.simulate(p, iterations=20_000, rng=99, chunk_size=700)
    o = oracle_simulate(p, 20_000, 99)
    # PERT tables: within 1e-6 (max - min) a task; 9-day ranges, at most 60 tasks on a path
    assert np.abs(r.durations - o["finish"]).max() <= 60 * 9e-6
    for tid, t in o["tasks"].items():
        k = r.task_ids.index(tid)
        assert r.criticality_counts[k] / r.iterations == pytest.approx(t["crit"], abs=1e-12)
        # grade-based Spearman vs exact sample Spearman: same estimand, differs by << sampling noise
        assert abs(r.sensitivity()[tid] - t["sens"]) < 0.01
        # per-task finish quantiles from histograms: within one bin of the exact order statistic
        width = (t["finish"].max() - t["finish"].min()) / HIST_BINS
        for lv in (10, 50, 80, 90):
            exact = float(np.quantile(t["finish"], lv / 100, method="inverted_cdf"))
            assert abs(r.task_finish(tid, lv) - exact) <= width + 1e-9


def test_reference_engine_gives_identical_results():
    p = _random_network(12, n=30)
    a = pmrisk.simulate(p, iterations=3000, rng=4, engine="reference")
    b = pmrisk.simulate(p, iterations=3000, rng=4)
    assert np.array_equal(a.durations, b.durations) and np.array_equal(a.costs, b.costs)
    assert np.array_equal(a.criticality_counts, b.criticality_counts)
    assert np.array_equal(a.finish_hist, b.finish_hist)
    assert np.array_equal(a.sensitivity_values, b.sensitivity_values)


def test_same_seed_same_result_other_seed_other_result():
    p = _random_network(2, n=20)
    a = pmrisk.simulate(p, iterations=2000, rng=1)
    b = pmrisk.simulate(p, iterations=2000, rng=1)
    c = pmrisk.simulate(p, iterations=2000, rng=2)
    assert a.summary() == b.summary()
    assert not np.array_equal(a.durations, c.durations)


def test_more_iterations_extend_the_same_sequence():
    p = _random_network(2, n=20)
    a = pmrisk.simulate(p, iterations=1000, rng=1)
    b = pmrisk.simulate(p, iterations=3000, rng=1)
    assert np.array_equal(a.durations, b.durations[:1000])


def test_p80_tolerance_runs_until_stable():
    p = _random_network(2, n=20)
    r = pmrisk.simulate(p, iterations=500, rng=1, p80_tolerance=0.15, max_iterations=200_000)
    assert r.iterations > 500 and r.standard_error(80) <= 0.15
    # doubling: the run is one of 500 * 2^k iterations (or the cap) and equals a plain run of that size
    plain = pmrisk.simulate(p, iterations=r.iterations, rng=1)
    assert np.array_equal(plain.durations, r.durations)
    capped = pmrisk.simulate(p, iterations=500, rng=1, p80_tolerance=1e-6, max_iterations=1500)
    assert capped.iterations == 1500


def test_standard_error_matches_asymptotic_formula():
    tasks = [{"id": "A", "duration": {"dist": "normal", "mean": 100, "sd": 10}}]
    r = pmrisk.simulate(make_project(tasks), iterations=N, rng=2)
    want = math.sqrt(0.8 * 0.2 / N) / stats.norm(100, 10).pdf(stats.norm(100, 10).ppf(0.8))
    assert r.standard_error(80) == pytest.approx(want, rel=0.15)
    lo, hi = r.confidence_interval(80)
    assert lo <= r.percentile(80) <= hi


def test_deadline_budget_and_joint_probability():
    tasks = [{"id": "A", "duration": {"dist": "uniform", "min": 10, "max": 20}, "cost": {"per_day": 100}},
             {"id": "B", "duration": {"dist": "uniform", "min": 0, "max": 10},
              "cost": {"fixed": {"dist": "uniform", "min": 0, "max": 1000}}}]
    p = make_project(tasks, deadline=15, budget=2000)
    r = pmrisk.simulate(p, iterations=N, rng=9)
    s = r.summary()
    se = math.sqrt(0.25 / N)
    assert s["deadline"] == {"target": 15, "probability": pytest.approx(0.5, abs=4 * se)}
    # cost = 100 A + U(0,1000) <= 2000: P = E[clip((2000 - 100A)/1000, 0, 1)] with A ~ U(10,20) = 0.5
    assert s["budget"]["probability"] == pytest.approx(0.5, abs=4 * se)
    # joint: A <= 15 and 100A + F <= 2000 -> P = 0.5 * E[2 - A/10 | A <= 15] = 0.5 * 0.75
    assert s["joint_probability"] == pytest.approx(0.375, abs=4 * se)
    assert s["joint_probability"] == pytest.approx(r.probability(15, 2000))


def test_finish_dates_from_calendar():
    tasks = [{"id": "A", "duration": 10}, {"id": "B", "duration": 5, "depends_on": ["A"]}]
    p = make_project(tasks, start="2027-03-22", calendar={"holidays": ["2027-03-26", "2027-03-29"]})
    s = pmrisk.simulate(p, iterations=10, rng=1).summary()
    # 15 working days from Mon 22 March 2027, skipping Good Friday and Easter Monday
    assert s["finish_date"]["P50"] == "2027-04-13"
    assert s["deterministic"]["finish_date"] == "2027-04-13"


def test_percentile_definition_is_inverted_cdf():
    tasks = [{"id": "A", "duration": {"dist": "discrete", "values": [1, 2, 3, 4], "weights": [1, 1, 1, 1]}}]
    r = pmrisk.simulate(make_project(tasks), iterations=4000, rng=1)
    for lv, pct in r.percentiles().items():
        level = int(lv[1:]) / 100
        assert (r.durations <= pct).mean() >= level
        assert (r.durations < pct).mean() < level


def test_summary_has_contract_keys():
    tasks = [{"id": "A", "duration": TRI, "cost": {"per_day": 10}}, {"id": "B", "duration": PERT, "depends_on": ["A"]}]
    p = make_project(tasks, start="2027-02-01", deadline="2027-04-30", budget=500)
    s = pmrisk.simulate(p, iterations=500, rng=1).summary()
    for key in ("pmrisk_version", "iterations", "seed", "duration", "finish_date", "cost", "deterministic",
                "deadline", "budget", "joint_probability", "tasks", "risks"):
        assert key in s
    for key in ("mean", "sd", "P5", "P10", "P20", "P50", "P80", "P90", "P95"):
        assert key in s["duration"] and key in s["cost"]
    assert set(s["tasks"]["A"]) >= {"criticality", "sensitivity", "finish"}
    assert set(s["tasks"]["A"]["finish"]) == {"P50", "P80"}
    # working days 2027-02-01 .. 2027-04-30 inclusive: Feb 20 + Mar 23 + Apr 22
    assert s["deadline"]["target"] == 65 == np.busday_count("2027-02-01", "2027-05-01")
    import json

    json.dumps(s)


def test_plain_numpy_fallback_matches_compiled_engine(tmp_path):
    """With numba disabled (PMRISK_DISABLE_NUMBA=1) every kernel runs its NumPy reference."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "crm-migration.yaml"
    env = dict(os.environ, PMRISK_DISABLE_NUMBA="1")
    code = ("import json, pmrisk; from pmrisk.engine._jit import HAVE_NUMBA; assert not HAVE_NUMBA; "
            f"r = pmrisk.simulate(pmrisk.load_project({str(example)!r}), iterations=3000, rng=5); "
            "print(json.dumps(r.summary()))")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    plain = json.loads(proc.stdout)
    fast = json.loads(json.dumps(pmrisk.simulate(pmrisk.load_project(example), iterations=3000, rng=5).summary()))
    for kind in ("duration", "cost"):
        for key, value in fast[kind].items():
            assert plain[kind][key] == pytest.approx(value, rel=1e-9), (kind, key)
    for tid, t in fast["tasks"].items():
        assert plain["tasks"][tid]["criticality"] == pytest.approx(t["criticality"], abs=2 / 3000)
        assert plain["tasks"][tid]["sensitivity"] == pytest.approx(t["sensitivity"], abs=1e-3)


def test_midranks_match_scipy():
    from pmrisk.engine.simulate import midranks2

    x = np.random.default_rng(3).integers(0, 50, size=2000).astype(float)
    assert np.array_equal(midranks2(x), np.rint(2 * stats.rankdata(x)).astype(np.int64))
    y = np.random.default_rng(4).normal(size=1000)
    assert np.array_equal(midranks2(y), np.rint(2 * stats.rankdata(y)).astype(np.int64))


def test_cli_limits_match_the_engine():
    from pmrisk import cli
    from pmrisk.engine import simulate as eng

    assert (cli.MAX_RUN_ITERATIONS, cli.MAX_CHUNK) == (eng.MAX_RUN_ITERATIONS, eng.MAX_CHUNK)


def _record(seen, done, total):
    seen.append((done, total))


def test_progress_is_monotone_and_ends_at_its_total_with_ranking_and_calibration(tmp_path):
    past = tmp_path / "past.csv"
    past.write_text("planned,actual\n" + "".join(f"10,{10 + i % 7}\n" for i in range(30)))
    p = pmrisk.Project.from_dict({
        "tasks": [{"id": "A", "duration": {"dist": "triangular", "min": 1, "likely": 2, "max": 6}},
                  {"id": "B", "duration": 3, "depends_on": ["A"]}],
        "risks": [{"id": "R", "probability": 0.4, "affects": ["B"], "delay": 2}]})
    for kw in ({}, {"calibrate": str(past)}, {"rank_risks": False}):
        seen: list[tuple[int, int]] = []
        pmrisk.simulate(p, iterations=3000, rng=1, chunk_size=256, progress=functools.partial(_record, seen), **kw)
        done = [d for d, _ in seen]
        assert done == sorted(done) and seen[-1][0] == seen[-1][1] > 0, kw
        assert len({t for _, t in seen}) == 1, kw       # the total is known from the start: a bar never jumps back
