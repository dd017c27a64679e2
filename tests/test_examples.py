"""The example projects in examples/ load and show the features they are meant to show."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
import yaml

try:
    from pmrisk import load_project
except ImportError:  # pragma: no cover - the package's public API is being assembled
    from pmrisk.io.load import load_project

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PROJECT_FILES = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".yml", ".json", ".toml", ".csv",
                                                                     ".xlsx"))


def kinds(project) -> set[str]:
    return {t.duration.kind for t in project.tasks if not t.milestone}


def link_types(project) -> Counter:
    return Counter(lk.type for lk in project.links)


def test_examples_folder_has_the_promised_files():
    names = {p.name for p in PROJECT_FILES}
    assert {"crm-migration.yaml", "mobile-app.yaml", "crm-migration.csv"} <= names
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for name in names:
        assert f"`{name}`" in readme, f"examples/README.md does not describe {name}"


@pytest.mark.parametrize("path", PROJECT_FILES, ids=lambda p: p.name)
def test_every_example_loads(path):
    project = load_project(path)
    assert len(project.tasks) >= 10
    assert project.deadline is not None and project.budget is not None
    assert project.has_costs
    assert project.source is not None and project.source.endswith(path.name)


@pytest.mark.parametrize("path", [p for p in PROJECT_FILES if p.suffix in (".yaml", ".yml")], ids=lambda p: p.name)
def test_yaml_examples_carry_a_risk_register(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(data) <= {"pmrisk", "project", "tasks", "risks", "drivers", "correlations", "risk_matrix"}
    assert data["pmrisk"] == 1
    p = load_project(path)
    assert len(p.risks) >= 6 and len(p.drivers) >= 2 and p.risk.correlations
    assert any(r.is_opportunity for r in p.risks) and any(not r.is_opportunity for r in p.risks)
    assert sum(r.mitigation is not None for r in p.risks) >= 3
    assert all(r.owner and r.cause and r.effect and r.category for r in p.risks)


def test_crm_register_is_realistic():
    p = load_project(EXAMPLES / "crm-migration.yaml")
    assert len(p.risks) >= 10 and len(p.drivers) >= 2 and len(p.risk.correlations) >= 3
    assert p.cost_of_delay_per_day == 4500
    assert any(r.state.impact is not None for r in p.risks)            # multiplicative impacts
    assert any(r.state.delay is None and r.state.cost is not None for r in p.risks)   # cost-only risk
    assert p.risk.matrix_spec is not None


# --------------------------------------------------------------------------------------------
# CRM migration
# --------------------------------------------------------------------------------------------


def test_crm_migration_yaml():
    p = load_project(EXAMPLES / "crm-migration.yaml")
    assert p.name == "CRM migration"
    assert 28 <= len(p.tasks) <= 36
    assert len(p.tasks) == 33
    assert {t.id for t in p.tasks if t.milestone} == {"GONOGO", "GOLIVE", "CLOSE"}
    # the work streams
    tags = Counter(tag for t in p.tasks for tag in t.tags)
    for stream in ("data", "build", "test", "change", "migration"):
        assert tags[stream] >= 3, stream
    for tid in ("REQ", "VSEL", "DPROF", "DCLEAN", "DMAP", "ETL", "MR1", "MR2", "MR3", "INT-ERP", "CDEV",
                "UAT", "TRAIN", "CUT", "GOLIVE", "HYPER"):
        p.task(tid)


def test_crm_migration_links():
    p = load_project(EXAMPLES / "crm-migration.yaml")
    types = link_types(p)
    assert types["FS"] >= 20 and types["SS"] >= 5 and types["FF"] >= 3
    assert any(lk.type == "SS" and lk.lag > 0 for lk in p.links)
    assert any(lk.type == "FF" for lk in p.links)
    assert any(lk.type == "FS" and lk.lag < 0 for lk in p.links)
    negative = {(lk.pred, lk.succ) for lk in p.links if lk.lag < 0}
    assert ("DCLEAN", "MR2") in negative and ("TRAIN", "GONOGO") in negative
    # two links of different types between the same pair
    pairs = Counter((lk.pred, lk.succ) for lk in p.links)
    assert pairs[("DMAP", "ETL")] == 2 and pairs[("UAT", "DEFX")] == 2
    # parallel streams: several tasks have no predecessor but KICK, or share one predecessor
    succ = Counter(lk.pred for lk in p.links)
    assert succ["ARCH"] >= 4 and succ["ENVS"] >= 4


def test_crm_migration_distributions_and_costs():
    p = load_project(EXAMPLES / "crm-migration.yaml")
    assert {"pert", "triangular", "lognormal", "trigen", "uniform"} <= kinds(p)
    assert all(t.has_cost for t in p.tasks if not t.milestone)
    assert any(t.fixed_cost.kind != "fixed" for t in p.tasks)          # an uncertain fixed cost
    assert sum(t.per_day_cost.kind == "triangular" for t in p.tasks) >= 4   # uncertain day rates
    assert p.task("ENVS").fixed_cost.kind == "fixed"


def test_crm_migration_calendar_deadline_budget():
    p = load_project(EXAMPLES / "crm-migration.yaml")
    assert p.currency == "EUR"
    assert p.start == dt.date(2027, 2, 1)
    assert p.calendar.workdays == ("mon", "tue", "wed", "thu", "fri")
    for day in ("2027-03-26", "2027-03-29", "2027-05-01", "2027-05-06", "2027-05-17"):
        assert dt.date.fromisoformat(day) in p.calendar.holidays
    assert p.deadline_date == dt.date(2027, 9, 15)
    # working days from 2027-02-01 through 2027-08-25 are 143; then 15 more to 2027-09-15
    assert p.deadline == 158
    assert p.budget == 1_800_000


# --------------------------------------------------------------------------------------------
# Mobile app
# --------------------------------------------------------------------------------------------


def test_mobile_app_yaml():
    p = load_project(EXAMPLES / "mobile-app.yaml")
    assert 20 <= len(p.tasks) <= 25
    assert p.start is None and p.deadline_date is None
    assert p.deadline == 105 and p.budget == 530_000 and p.currency == "USD"
    assert [t.id for t in p.tasks if t.milestone] == ["LAUNCH"]
    tags = Counter(tag for t in p.tasks for tag in t.tags)
    assert tags["ios"] >= 2 and tags["android"] >= 2 and tags["backend"] >= 4
    # the iOS, Android and backend streams converge on end-to-end testing
    e2e_preds = {lk.pred for lk in p.task("E2E").predecessors}
    assert {"IOS", "AND", "BE-PAY"} <= e2e_preds
    assert {lk.pred for lk in p.task("LAUNCH").predecessors} >= {"STORE-IOS", "STORE-AND"}
    types = link_types(p)
    assert types["SS"] >= 5 and types["FF"] >= 2
    assert any(lk.type == "FS" and lk.lag < 0 for lk in p.links)
    assert {"pert", "triangular", "lognormal", "trigen", "uniform", "fixed"} <= kinds(p)
    assert any(t.per_day_cost.kind != "fixed" for t in p.tasks)


# --------------------------------------------------------------------------------------------
# CSV task list
# --------------------------------------------------------------------------------------------


def test_crm_migration_csv():
    p = load_project(EXAMPLES / "crm-migration.csv")
    assert p.name == "CRM data migration"
    assert len(p.tasks) == 15
    assert [t.id for t in p.tasks if t.milestone] == ["SIGNOFF", "GOLIVE"]
    assert p.start == dt.date(2027, 2, 1) and p.deadline_date == dt.date(2027, 6, 10)
    assert p.budget == 445_000 and p.currency == "EUR"
    assert dt.date(2027, 5, 6) in p.calendar.holidays
    assert {"pert", "triangular", "lognormal", "trigen", "uniform", "fixed"} <= kinds(p)
    types = link_types(p)
    assert types["SS"] >= 3 and types["FF"] == 1
    assert any(lk.type == "FS" and lk.lag < 0 for lk in p.links)
    assert any(lk.type == "FS" and lk.lag > 0 for lk in p.links)
    assert p.task("KICK").line == 12                      # 10 comment lines, the header on line 11
    # the rows share ids, names and estimates with the YAML project they come from
    crm = load_project(EXAMPLES / "crm-migration.yaml")
    for tid in ("DPROF", "DCLEAN", "DMAP", "ETL", "MR1", "FIX1", "MR2", "MR3", "CUT"):
        assert p.task(tid).name == crm.task(tid).name
        assert p.task(tid).duration.kind == crm.task(tid).duration.kind


# --------------------------------------------------------------------------------------------
# The targets are ambitious, not hopeless (needs the simulation engine)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["crm-migration.yaml", "mobile-app.yaml", "crm-migration.csv"])
def test_targets_are_ambitious(name):
    try:
        from pmrisk import simulate
    except ImportError:  # pragma: no cover
        pytest.skip("pmrisk.simulate is not available")
    project = load_project(EXAMPLES / name)
    summary = simulate(project, iterations=4000, rng=2027, rank_risks=False).summary()
    assert 0.2 <= summary["deadline"]["probability"] <= 0.7
    assert 0.2 <= summary["budget"]["probability"] <= 0.7
    if project.risks:
        # the responses are worth having: the mitigated plan meets the deadline more often
        post = simulate(project, iterations=4000, rng=2027, rank_risks=False, mitigated=True).summary()
        assert post["deadline"]["probability"] > summary["deadline"]["probability"]
