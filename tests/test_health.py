"""Schedule health: the DCMA checks that apply without a baseline, the quality score, --strict."""

from __future__ import annotations

import json

from click.testing import CliRunner
from conftest import make_project

from pmrisk.cli import main
from pmrisk.health import dcma_checks, quality_score, validate_project

PERT = {"dist": "pert", "min": 4, "likely": 5, "max": 9}


def _by_id(checks):
    return {c["id"]: c for c in checks}


def _chain(n=20, **extra):
    tasks = [{"id": f"T{i}", "duration": PERT, "depends_on": [f"T{i - 1}"] if i else []} for i in range(n)]
    return make_project(tasks, **extra)


def test_a_clean_chain_passes_every_applicable_check():
    checks = _by_id(dcma_checks(_chain()))
    applicable = [c for c in checks.values() if c["result"] != "n/a"]
    assert applicable and all(c["result"] == "pass" for c in applicable)
    assert quality_score(list(checks.values())) == 100.0
    # without a deadline, baseline or status date these cannot be judged
    assert {i for i, c in checks.items() if c["result"] == "n/a"} == {7, 9, 10, 11, 13, 14}


def test_each_failure_is_found_and_named():
    tasks = [{"id": "S", "milestone": True},
             {"id": "A", "duration": PERT, "depends_on": ["S"]},
             {"id": "B", "duration": PERT, "depends_on": [{"task": "A", "type": "SS", "lag": 2}]},
             {"id": "C", "duration": PERT, "depends_on": [{"task": "B", "lag": -1}]},
             {"id": "LONG", "duration": 60, "depends_on": ["S"]},                     # high duration
             {"id": "LOOSE", "duration": 2, "depends_on": ["S"]},                     # no successor, high float
             {"id": "E", "milestone": True, "depends_on": ["C", "LONG"]}]
    checks = _by_id(dcma_checks(make_project(tasks, deadline=50)))
    assert checks[1]["result"] == "fail" and checks[1]["items"] == ["LOOSE"]
    assert checks[2]["result"] == "fail" and checks[2]["count"] == 1
    assert checks[3]["result"] == "fail" and checks[3]["value"] == round(1 / 7, 4)      # 1 positive lag of 7 links
    assert checks[4]["result"] == "fail" and checks[4]["items"] == ["A -SS+2-> B"]
    assert checks[6]["result"] == "fail" and "LOOSE" in checks[6]["items"]
    assert checks[8]["result"] == "fail" and checks[8]["items"] == ["LONG"]
    # the most-likely plan takes 60 days against a 50-day deadline: LONG's path has negative float
    assert checks[7]["result"] == "fail" and set(checks[7]["items"]) >= {"S", "LONG", "E"}
    assert checks[13]["result"] == "fail" and checks[13]["value"] == round(50 / 60, 4)
    assert checks[12]["result"] == "pass"
    score = quality_score(list(checks.values()))
    done = [c for c in checks.values() if c["result"] != "n/a"]
    assert score == round(100 * sum(c["result"] == "pass" for c in done) / len(done), 1) < 60


def test_hard_constraints_from_an_import_count():
    checks = _by_id(dcma_checks(_chain(), hard_constraints={"T3": "MSO", "T7": "MFO"}))
    assert checks[5]["result"] == "fail" and checks[5]["value"] == 0.1 and checks[5]["count"] == 2


def test_tasks_without_cost_fail_the_resource_check_only_when_the_project_has_costs():
    p = make_project([{"id": "A", "duration": 3, "cost": 100}, {"id": "B", "duration": 2, "depends_on": ["A"]}])
    assert _by_id(dcma_checks(p))[10]["items"] == ["B"]


def test_validate_report_json_and_strict_exit_codes(tmp_path):
    clean = tmp_path / "clean.yaml"
    clean.write_text("tasks:\n" + "".join(
        f"  - {{id: T{i}, duration: {{dist: pert, min: 4, likely: 5, max: 9}}"
        + (f", depends_on: [T{i - 1}]" if i else "") + "}\n" for i in range(5)))
    res = CliRunner().invoke(main, ["validate", str(clean), "--json", "-", "--strict"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    assert rep["quality_score"] == 100.0 and len(rep["checks"]) == 14
    leads = tmp_path / "leads.yaml"
    leads.write_text("tasks:\n  - {id: A, duration: 3}\n  - {id: B, duration: 3, depends_on: [{task: A, lag: -1}]}\n")
    assert CliRunner().invoke(main, ["validate", str(leads)]).exit_code == 0
    res = CliRunner().invoke(main, ["validate", str(leads), "--strict"])
    assert res.exit_code == 2 and "DCMA 2 leads" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["simulate", str(leads), "-n", "100", "--strict"])
    assert res.exit_code == 2 and "--strict" in res.output
    assert validate_project(make_project([{"id": "A", "duration": 1}]))["checks"][0]["result"] == "pass"
