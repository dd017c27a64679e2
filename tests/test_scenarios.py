"""Scenario variants change only what they say, and common random numbers make comparisons exact."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

import pmrisk
from pmrisk.distributions import parse_distribution
from pmrisk.errors import ProjectError
from pmrisk.scenarios import (
    contingency_table,
    cut_scope,
    mitigate,
    run_scenarios,
    scale_distribution,
    scale_tasks,
    scenario_table,
    set_deadline,
    set_risk_probability,
)

ROOT = Path(__file__).resolve().parents[1]
N = 2000


@pytest.fixture(scope="module")
def crm():
    return pmrisk.load_project(ROOT / "examples" / "crm-migration.yaml")


@pytest.fixture(scope="module")
def crm_base(crm):
    return pmrisk.simulate(crm, N, rng=7, rank_risks=False)


def chain(**project):
    data = {"tasks": [
        {"id": "A", "duration": {"dist": "pert", "min": 4, "likely": 6, "max": 12}, "cost": {"per_day": 100},
         "tags": ["build"]},
        {"id": "B", "duration": {"dist": "lognormal", "p10": 3, "p90": 9}, "depends_on": ["A"],
         "cost": {"fixed": 500, "per_day": 50}},
        {"id": "M", "milestone": True, "depends_on": ["B"], "tags": ["build"]}],
        "risks": [{"id": "R1", "probability": 0.4, "affects": ["A"], "delay": 5, "cost": 1000,
                   "mitigation": {"cost": 200, "probability": 0.1}},
                  {"id": "R2", "probability": 0.3, "affects": ["B"], "impact": 1.5}]}
    if project:
        data["project"] = project
    return pmrisk.Project.from_dict(data)


# ---- scale_distribution --------------------------------------------------------------------------

SPECS = [
    5,
    {"dist": "triangular", "min": 2, "likely": 3, "max": 7},
    {"dist": "pert", "min": 2, "likely": 3, "max": 7, "lambda": 6},
    {"dist": "uniform", "min": 2, "max": 7},
    {"dist": "normal", "mean": 10, "sd": 2},
    {"dist": "normal", "mean": 10, "sd": 2, "min": 7, "max": 14},
    {"dist": "lognormal", "p10": 3, "p90": 9},
    {"dist": "lognormal", "mean": 6, "sd": 2},
    {"dist": "lognormal", "mu": 1.5, "sigma": 0.4},
    {"dist": "trigen", "p10": 4, "likely": 5, "p90": 9},
    {"dist": "trigen", "p10": 4, "likely": 5, "p90": 9, "low": 0.2, "high": 0.8},
    {"dist": "discrete", "values": [1, 2, 5], "weights": [0.5, 0.3, 0.2]},
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s if isinstance(s, int) else "-".join(map(str, s)))
@pytest.mark.parametrize("factor", [0.7, 1.0, 2.5])
def test_scale_distribution_scales_the_inverse_cdf(spec, factor):
    d = parse_distribution(spec)
    u = np.linspace(0.001, 0.999, 41)
    scaled = scale_distribution(d, factor)
    assert scaled.kind == d.kind
    np.testing.assert_allclose(scaled.ppf(u), factor * d.ppf(u), rtol=1e-9, atol=1e-9)
    assert scaled.mode() == pytest.approx(factor * d.mode())


@pytest.mark.parametrize("factor", [0, -1, math.nan, math.inf])
def test_scale_distribution_refuses_bad_factors(factor):
    with pytest.raises(ValueError, match="factor"):
        scale_distribution(parse_distribution(3), factor)


# ---- scale_tasks ---------------------------------------------------------------------------------

def test_scale_tasks_changes_only_the_selected_tasks():
    p = chain()
    q = scale_tasks(p, 0.5, tags=["build"], per_day_cost=2.0, fixed_cost=3.0)
    assert q.task("A").duration.mode() == pytest.approx(3.0)
    assert q.task("A").per_day_cost.mode() == pytest.approx(200.0)
    assert q.task("B") == p.task("B")
    assert q.task("M") == p.task("M")               # a milestone has nothing to scale
    assert p.task("A").duration.mode() == 6.0       # the input is left alone
    assert scale_tasks(p, 2.0, tasks=["B"]).task("B").fixed_cost.mode() == 500.0


def test_scale_tasks_names_what_it_cannot_find():
    p = chain()
    with pytest.raises(ProjectError, match="Did you mean 'A'"):
        scale_tasks(p, 0.9, tasks=["a"])
    with pytest.raises(ProjectError, match="the tags are build"):
        scale_tasks(p, 0.9, tags=["test"])


def test_scaling_every_task_scales_every_iteration():
    """Same seed, no risks: a chain of tasks all 0.8 times as long finishes 0.8 times as late, each iteration."""
    p = chain().without_risks()
    base = pmrisk.simulate(p, N, rng=3)
    fast = pmrisk.simulate(scale_tasks(p, 0.8), N, rng=3)
    np.testing.assert_allclose(fast.durations, 0.8 * base.durations, rtol=1e-9)


def test_a_faster_team_never_makes_an_iteration_later(crm, crm_base):
    run = pmrisk.simulate(scale_tasks(crm, 0.8, tags=["build"]), N, rng=7, rank_risks=False)
    assert np.all(run.durations <= crm_base.durations + 1e-9)
    assert run.percentile(80) < crm_base.percentile(80)


# ---- cut_scope -----------------------------------------------------------------------------------

def test_cut_scope_keeps_the_logic_and_drops_the_risks_of_the_cut_work():
    p = chain()
    q = cut_scope(p, "A")
    assert q.task("A").duration.mode() == 0 and not q.task("A").has_cost
    assert q.task("B").predecessors == p.task("B").predecessors
    assert [r.id for r in q.risks] == ["R2"]
    assert cut_scope(p) is p


def test_cut_scope_trims_affects(crm):
    q = cut_scope(crm, "CDEV", "INT-WEB")
    r06 = next(r for r in q.risks if r.id == "R06")
    assert r06.affects == ("SIT",)
    r09 = next(r for r in q.risks if r.id == "R09")
    assert r09.affects == ("CFG",)
    assert len(q.risks) == len(crm.risks)


def test_cutting_scope_never_makes_an_iteration_later_or_dearer(crm, crm_base):
    """The cut tasks' partners in correlations keep their draws: the comparison is exact per iteration."""
    run = pmrisk.simulate(cut_scope(crm, "INT-WEB", "CDEV"), N, rng=7, rank_risks=False)
    assert np.all(run.durations <= crm_base.durations + 1e-9)
    assert np.all(run.costs <= crm_base.costs + 1e-6)
    assert run.percentile(50, "cost") < crm_base.percentile(50, "cost")


# ---- risks ---------------------------------------------------------------------------------------

def test_mitigate_one_risk():
    p = chain()
    q = mitigate(p, "R1")
    r1 = q.risks[0]
    assert r1.state.probability == 0.1 and r1.mitigation is None and r1.status == "mitigated"
    assert q.task("R1-RESPONSE").fixed_cost.mode() == 200.0
    assert q.task("R1-RESPONSE").duration.mode() == 0.0
    assert q.risks[1] == p.risks[1]
    with pytest.raises(ProjectError, match="already mitigated"):
        mitigate(q, "R1")
    with pytest.raises(ProjectError, match="no mitigation"):
        mitigate(p, "R2")
    with pytest.raises(ProjectError, match="Did you mean 'R1'"):
        mitigate(p, "R01")


def test_mitigating_every_risk_equals_the_mitigated_simulation(crm):
    """Each response as planned work gives, iteration by iteration, what simulate(mitigated=True) gives."""
    ids = [r.id for r in crm.risks if r.mitigation is not None]
    ours = pmrisk.simulate(mitigate(crm, *ids), N, rng=11, rank_risks=False)
    engine = pmrisk.simulate(crm, N, rng=11, mitigated=True, rank_risks=False)
    np.testing.assert_allclose(ours.durations, engine.durations, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.costs, engine.costs, rtol=1e-12, atol=1e-6)


def test_set_risk_probability(crm, crm_base):
    q = set_risk_probability(crm, "R01", 0.0)
    assert next(r for r in q.risks if r.id == "R01").state.probability == 0.0
    run = pmrisk.simulate(q, N, rng=7, rank_risks=False)
    without = pmrisk.simulate(crm.without_risks("R01"), N, rng=7, rank_risks=False)
    np.testing.assert_array_equal(run.durations, without.durations)
    assert np.all(run.durations <= crm_base.durations + 1e-9)
    with pytest.raises(ProjectError, match="outside"):
        set_risk_probability(crm, "R01", 1.5)


# ---- deadline ------------------------------------------------------------------------------------

def test_set_deadline(crm):
    q = set_deadline(crm, dt.date(2027, 10, 15))
    assert q.deadline_date == dt.date(2027, 10, 15)
    assert q.deadline == crm.calendar.working_days_through(crm.start, dt.date(2027, 10, 15))
    assert q.deadline > crm.deadline
    assert set_deadline(crm, 170).deadline == 170.0 and set_deadline(crm, 170).deadline_date is None
    assert set_deadline(crm, None).deadline is None
    with pytest.raises(ProjectError, match="before the project start"):
        set_deadline(crm, dt.date(2026, 1, 1))
    with pytest.raises(ProjectError, match="no start date"):
        set_deadline(chain(), dt.date(2027, 1, 1))
    with pytest.raises(ProjectError, match="working days"):
        set_deadline(crm, -3)


def test_a_later_deadline_is_met_more_often_with_the_same_forecast(crm):
    runs = run_scenarios({"now": crm, "later": set_deadline(crm, dt.date(2027, 10, 15))}, 1000, rng=5)
    np.testing.assert_array_equal(runs["now"].durations, runs["later"].durations)
    table = scenario_table(runs)
    assert table.loc["later", "deadline_probability_change"] > 0.2


# ---- running and tables --------------------------------------------------------------------------

def test_run_scenarios_shares_one_seed():
    p = chain()
    runs = run_scenarios({"a": p, "b": p}, 500, rng=np.random.default_rng(1))
    assert runs["a"].seed == runs["b"].seed
    np.testing.assert_array_equal(runs["a"].durations, runs["b"].durations)
    assert runs["a"].risk_ranking in (None, {})             # not ranked unless asked
    ranked = run_scenarios({"a": p}, 500, rng=1, rank_risks=True)["a"]
    assert ranked.risk_ranking
    with pytest.raises(ValueError, match="at least one"):
        run_scenarios({}, 100)
    with pytest.raises(TypeError, match="expected a pmrisk Project"):
        run_scenarios({"a": "crm.yaml"}, 100)  # type: ignore[dict-item]


def test_scenario_table(crm):
    runs = run_scenarios({"base": crm, "faster": scale_tasks(crm, 0.8, tags=["build"])}, 1000, rng=2)
    t = scenario_table(runs)
    assert list(t.index) == ["base", "faster"]
    assert {"finish_P50", "finish_P80", "finish_date_P80", "cost_P80", "deadline_probability", "budget_probability",
            "finish_P80_change", "cost_P80_change", "deadline_probability_change"} <= set(t.columns)
    assert t.loc["base", ["finish_P80_change", "cost_P80_change", "deadline_probability_change"]].tolist() == [0, 0, 0]
    assert t.loc["faster", "finish_P80"] == runs["faster"].percentile(80)
    assert t.loc["faster", "finish_date_P80"] == runs["faster"].finish_date(80)
    assert t.loc["faster", "finish_P80_change"] < 0
    other = scenario_table(runs, baseline="faster")
    assert other.loc["base", "finish_P80_change"] == -t.loc["faster", "finish_P80_change"]
    with pytest.raises(KeyError, match="no scenario named"):
        scenario_table(runs, baseline="slow")


def test_scenario_table_without_dates_or_targets():
    runs = run_scenarios({"x": chain()}, 300, rng=1)
    t = scenario_table(runs)
    assert "finish_date_P80" not in t.columns
    assert math.isnan(t.loc["x", "deadline_probability"]) and math.isnan(t.loc["x", "budget_probability"])


def test_contingency_table(crm_base):
    t = contingency_table({"crm": crm_base}, levels=(50, 80, 90))
    cost, days = t.loc[("crm", "cost")], t.loc[("crm", "duration")]
    det = crm_base.deterministic
    assert cost["plan"] == pytest.approx(det["cost"]) and days["plan"] == pytest.approx(det["duration"])
    assert cost["P90"] == crm_base.percentile(90, "cost")
    assert cost["contingency_P80"] == pytest.approx(crm_base.percentile(80, "cost") - det["cost"])
    assert days["target"] == crm_base.project.deadline
    assert days["target_probability"] == crm_base.probability(duration=crm_base.project.deadline)
    assert cost["target_probability"] == crm_base.probability(cost=crm_base.project.budget)
    assert days["date_P80"] == crm_base.finish_date(80)
