"""History calibration: past ratios actual / planned multiply the plan (pmrisk.calibration)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_project

import pmrisk
from pmrisk.calibration import parse_calibration
from pmrisk.cli import main
from pmrisk.errors import ProjectError
from pmrisk.project import Project

RATIOS = [1.0, 1.5, 2.0, 3.0]       # four past plans: on time, +50%, x2, x3


def _history(tmp_path, ratios=RATIOS, kind=None):
    lines = ["planned,actual" + (",kind" if kind else "")]
    for i, r in enumerate(ratios):
        lines.append(f"10,{10 * r}" + (f",{kind[i]}" if kind else ""))
    path = tmp_path / "past.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_project_level_ratio_is_the_inverted_cdf_of_the_history(tmp_path):
    past = _history(tmp_path, RATIOS * 10)       # 40 plans, so the class is large enough
    p = make_project([{"id": "A", "duration": 10}, {"id": "B", "duration": 20, "depends_on": ["A"]}])
    n = 4000
    r = pmrisk.simulate(p, iterations=n, rng=3, calibrate=str(past))
    # one ratio an iteration for the whole plan: the project takes 30 x ratio, each past ratio a quarter of the time
    ratio = r.durations / 30.0
    assert set(np.round(ratio, 12)) == set(RATIOS)
    for v in RATIOS:
        share = np.mean(np.isclose(ratio, v))
        assert abs(share - 0.25) < 4 * math.sqrt(0.25 * 0.75 / n)
    s = r.summary()
    assert s["calibration"]["n"] == 40 and s["calibration"]["level"] == "project"
    assert s["calibration"]["ratio"]["P50"] == 1.5 and s["calibration"]["ratio"]["P80"] == 3.0
    # the uncalibrated figures are those of the plain plan (same random numbers)
    assert s["calibration"]["uncalibrated"]["duration"]["P80"] == 30.0
    assert s["duration"]["P50"] == 45.0          # inverted CDF: 30 x 1.5


def test_task_level_draws_one_ratio_per_task(tmp_path):
    past = _history(tmp_path, RATIOS * 10)
    tasks = [{"id": "A", "duration": 10}, {"id": "B", "duration": 10},
             {"id": "END", "milestone": True, "depends_on": ["A", "B"]}]
    n = 8000
    r = pmrisk.simulate(make_project(tasks), iterations=n, rng=4,
                        calibrate={"reference": str(past), "level": "task"})
    # the finish is 10 x the larger of two independent past ratios: P(<= 15) = (1/2)^2
    share = np.mean(r.durations <= 15.0 + 1e-9)
    assert abs(share - 0.25) < 4 * math.sqrt(0.25 * 0.75 / n)
    # level project: both tasks share the ratio, so P(<= 15) = 1/2
    rp = pmrisk.simulate(make_project(tasks), iterations=n, rng=4, calibrate=str(past))
    assert abs(np.mean(rp.durations <= 15.0 + 1e-9) - 0.5) < 4 * math.sqrt(0.25 / n)


def test_uncalibrated_side_equals_a_run_without_calibration(tmp_path):
    past = _history(tmp_path, RATIOS * 10)
    tasks = [{"id": "A", "duration": {"dist": "triangular", "min": 5, "likely": 8, "max": 15}, "cost": 1000},
             {"id": "B", "duration": {"dist": "pert", "min": 3, "likely": 4, "max": 9}, "depends_on": ["A"],
              "cost": {"per_day": 100}}]
    risks = [{"id": "R", "probability": 0.3, "affects": ["B"], "delay": 4}]
    p = Project.from_dict({"tasks": tasks, "risks": risks})
    cal = pmrisk.simulate(p, iterations=3000, rng=9, calibrate=str(past))
    plain = pmrisk.simulate(p, iterations=3000, rng=9)
    unc = cal.summary()["calibration"]["uncalibrated"]
    for lv in (10, 50, 80, 90):
        assert unc["duration"][f"P{lv}"] == plain.summary()["duration"][f"P{lv}"]
        assert unc["cost"][f"P{lv}"] == plain.summary()["cost"][f"P{lv}"]
    assert cal.summary()["duration"]["P80"] > plain.summary()["duration"]["P80"]
    # cost per day follows the longer durations; the fixed cost is not scaled unless asked
    assert cal.summary()["cost"]["P10"] >= 1000


def test_section_in_the_project_file_with_a_class_and_a_relative_path(tmp_path):
    _history(tmp_path, RATIOS * 10 + [5.0] * 25, kind=["it"] * 40 + ["other"] * 25)
    (tmp_path / "p.yaml").write_text(
        "tasks:\n  - {id: A, duration: 10, tags: [build]}\n  - {id: B, duration: 5}\n"
        "calibration:\n  reference: past.csv\n  class: {kind: it}\n  applies_to: {tags: [build]}\n")
    p = pmrisk.load_project(tmp_path / "p.yaml")
    assert p.calibration is not None and p.calibration.tasks == ("A",)
    r = pmrisk.simulate(p, iterations=2000, rng=1)
    assert r.summary()["calibration"]["class"] == {"kind": "it"}
    assert r.durations.max() == 30.0              # the class 'it' never saw x5
    off = pmrisk.simulate(p, iterations=2000, rng=1, calibrate=False)
    assert "calibration" not in off.summary() and off.durations.max() == 10.0


@pytest.mark.parametrize(("section", "needle"), [
    ({"reference": "x.csv", "level": "programme"}, "level: 'programme'"),
    ({"planned": "p"}, "'reference' is missing"),
    ({"reference": "x.csv", "class": "it"}, "class: give one 'column: value'"),
    ({"reference": "x.csv", "applies_to": ["NOPE"]}, "unknown task 'NOPE'"),
    ({"reference": "x.csv", "scale_fixed_costs": "yes"}, "scale_fixed_costs"),
])
def test_bad_sections_are_refused_with_a_clear_message(section, needle):
    with pytest.raises(ProjectError, match="calibration") as err:
        parse_calibration(section, ["A"], {"A": set()}, source="p.yaml")
    assert needle in str(err.value)


def test_history_problems_surface_as_project_errors(tmp_path):
    p = make_project([{"id": "A", "duration": 10}])
    with pytest.raises(ProjectError, match="calibration"):
        pmrisk.simulate(p, iterations=100, rng=1, calibrate=str(tmp_path / "missing.csv"))
    past = _history(tmp_path, RATIOS * 10)
    with pytest.raises(ProjectError, match="calibration"):
        pmrisk.simulate(p, iterations=100, rng=1, calibrate={"reference": str(past), "actual": "no_such_column"})


def test_cli_calibrate_shows_both_sides_and_bad_history_exits_2(tmp_path):
    past = _history(tmp_path, RATIOS * 10)
    (tmp_path / "p.yaml").write_text("tasks:\n  - {id: A, duration: 10}\n")
    res = CliRunner().invoke(main, ["simulate", str(tmp_path / "p.yaml"), "-n", "500", "--calibrate", str(past)])
    assert res.exit_code == 0, res.output
    assert "History-calibrated" in res.output and "uncalibrated" in res.output
    res = CliRunner().invoke(main, ["simulate", str(tmp_path / "p.yaml"), "-n", "500", "--calibrate", str(past),
                                    "--json", "-"])
    data = json.loads(res.output)
    assert data["calibration"]["uncalibrated"]["duration"]["P50"] == 10.0
    res = CliRunner().invoke(main, ["simulate", str(tmp_path / "p.yaml"), "--calibrate", "no-such-dataset"])
    assert res.exit_code == 2 and "Traceback" not in res.output and "calibration" in res.output


def test_calibrated_results_do_not_depend_on_chunking_or_workers(tmp_path):
    past = _history(tmp_path, RATIOS * 10)
    tasks = [{"id": "A", "duration": {"dist": "pert", "min": 2, "likely": 4, "max": 9}},
             {"id": "B", "duration": {"dist": "triangular", "min": 1, "likely": 3, "max": 8}, "depends_on": ["A"]},
             {"id": "C", "duration": {"dist": "uniform", "min": 2, "max": 6}}]
    p = make_project(tasks)
    runs = [pmrisk.simulate(p, iterations=1500, rng=5, calibrate={"reference": str(past), "level": lv},
                            chunk_size=chunk, workers=w, task_starts=True)
            for lv in ("project", "task") for chunk, w in ((1500, 1), (97, 2))]
    for a, b in (runs[:2], runs[2:]):
        assert np.array_equal(a.durations, b.durations) and np.array_equal(a.costs, b.costs)
        assert np.array_equal(a.sensitivity_values, b.sensitivity_values)
        assert np.array_equal(a.start_hist, b.start_hist) and np.array_equal(a.finish_hist, b.finish_hist)
        assert a.summary()["calibration"] == b.summary()["calibration"]


def test_asking_for_the_projects_own_section_when_it_has_none_is_refused():
    p = make_project([{"id": "A", "duration": 3}])
    with pytest.raises(ProjectError, match="calibrate=True, but the project has no 'calibration:'"):
        pmrisk.simulate(p, iterations=10, rng=1, calibrate=True)
    with pytest.raises(ProjectError, match="top_down=True, but the project has no 'top_down:'"):
        pmrisk.simulate(p, iterations=10, rng=1, top_down=True)
