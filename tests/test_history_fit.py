"""Fitted history models as files (pmrisk history fit / predict), model-based calibration and the top-down check."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_project

import pmrisk
from pmrisk.calibration import Calibration, CalibrationSpec, as_calibration
from pmrisk.cli import main
from pmrisk.engine.simulate import P_LEVELS, sample_matrix
from pmrisk.errors import ProjectError
from pmrisk.history.fitted import fit_history_model, open_model
from pmrisk.project import Project

SMALL_H, LARGE_H = 8.0, 320.0            # the overrun law's anchors: a 1-day and a 40-day task at 8 h a day
SMALL_RATIO, LARGE_RATIO = 1.3, 1.05     # true median actual/estimate there (log-linear in the estimate between)


def law(hours: float) -> float:
    """The true median ratio actual/estimate of a task estimated at ``hours``."""
    t = (math.log(hours) - math.log(SMALL_H)) / (math.log(LARGE_H) - math.log(SMALL_H))
    return math.exp(math.log(SMALL_RATIO) + t * (math.log(LARGE_RATIO) - math.log(SMALL_RATIO)))


def task_history(path, n=400, seed=0, sigma=0.25):
    """Past tasks: estimate in hours (4 to 400) and actual = estimate x lognormal ratio with median law(estimate)."""
    rng = np.random.default_rng(seed)
    est = np.exp(rng.uniform(math.log(4), math.log(400), n))
    ratio = np.array([law(e) for e in est]) * np.exp(rng.normal(0, sigma, n))
    rows = "".join(f"{float(e)!r},{float(e * r)!r}\n" for e, r in zip(est, ratio, strict=True))
    path.write_text("planned_h,actual_h\n" + rows)
    return path


def project_history(path, n=40, seed=1):
    """Past projects: size, team (a category), effort in person-hours, and the actual length (post-project)."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(5, 0.8, n)
    team = rng.choice(["A", "B"], n)
    effort = 6 * size ** 0.95 * rng.lognormal(0, 0.3, n) * np.where(team == "A", 1.0, 1.3)
    months = effort / 400 * rng.lognormal(0, 0.2, n)
    path.write_text("id,size,team,effort,length\n" + "".join(
        f"P{i},{size[i]:.3f},{team[i]},{effort[i]:.2f},{months[i]:.3f}\n" for i in range(n)))
    return path


@pytest.fixture(scope="module")
def overrun_model(tmp_path_factory):
    """An estimate-aware model fitted on the known law, saved (hours)."""
    folder = tmp_path_factory.mktemp("overrun")
    past = task_history(folder / "tasks.csv")
    fitted = fit_history_model(str(past), "actual_h", estimate="planned_h", unit="hours", cv=None)
    fitted.save(folder / "overrun.json")
    return folder / "overrun.json"


@pytest.fixture(scope="module")
def effort_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("effort")
    past = project_history(folder / "past.csv")
    res = CliRunner().invoke(main, ["history", "fit", str(past), "--target", "effort", "--features", "size,team",
                                    "--post-project", "length", "--unit", "person-hours", "--out",
                                    str(folder / "effort.json"), "--cv", "3"])
    assert res.exit_code == 0, res.output
    return folder / "effort.json"


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# --------------------------------------------------------------------------------------------
# fit / save / predict
# --------------------------------------------------------------------------------------------


def test_fit_save_predict_round_trip_on_a_synthetic_csv(tmp_path, effort_model):
    past = effort_model.parent / "past.csv"
    meta = json.loads(effort_model.read_text())["metadata"]
    assert meta["target"] == "effort" and meta["unit"] == "person-hours" and meta["inputs"] == ["size", "team"]
    assert meta["files"] == [{"path": str(past), "sha256": hashlib.sha256(past.read_bytes()).hexdigest()}]
    assert meta["n"] == 40 and meta["kind"] == "logridge" and meta["categorical"] == ["team"]
    assert meta["cv"] == 3 and meta["repeats"] == 10 and 0.5 < meta["metrics"]["SA"] <= 1
    assert set(meta["metrics"]["coverage"]) >= {"P80"}
    assert meta["pmrisk_version"] == pmrisk.__version__ and meta["fitted_at"].endswith("Z")
    assert "length" in meta["post_project"]
    res = _run("history", "predict", effort_model, "--set", "size=150", "--set", "team=B", "--json", "-")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    q = [out["quantiles"][f"P{lv}"] for lv in (10, 50, 80, 90)]
    assert q == sorted(q) and q[0] < q[-1]
    # the saved model predicts exactly what the opened file predicts, and near the law it learned
    again = open_model(effort_model).predict([{"size": 150.0, "team": "B"}]).quantiles([0.1, 0.5, 0.8, 0.9])[0]
    assert q == pytest.approx(list(again), rel=0, abs=0)
    assert 0.6 < out["quantiles"]["P50"] / (6 * 150 ** 0.95 * 1.3) < 1.6
    res = _run("history", "predict", effort_model, "--set", "size=150", "--set", "team=B")
    assert res.exit_code == 0 and "P80" in res.output and "effort (person-hours)" in res.output


def test_fit_prints_a_summary_and_never_overwrites_an_input(tmp_path):
    past = project_history(tmp_path / "past.csv")
    before = past.read_bytes()
    res = _run("history", "fit", past, "--target", "effort", "--features", "size", "--out", tmp_path / "m.json",
               "--cv", "none")
    assert res.exit_code == 0, res.output
    assert "Saved" in res.output and "ConformalRegressor(LogRidge)" in res.output
    res = _run("history", "fit", past, "--target", "effort", "--features", "size", "--out", tmp_path / "m2.json",
               "--json", past)
    assert res.exit_code == 2 and "never overwrites" in res.output
    res = _run("history", "fit", past, "--target", "effort", "--out", past)
    assert res.exit_code == 2 and "never overwrites" in res.output
    res = _run("history", "fit", past, "--target", "effort", "--out", tmp_path / "m.txt")
    assert res.exit_code == 2 and ".json" in res.output
    res = _run("history", "predict", tmp_path / "m.json", "--set", "size=3", "--json", tmp_path / "m.json")
    assert res.exit_code == 2 and "never overwrites" in res.output
    assert past.read_bytes() == before and not (tmp_path / "m2.json").exists()


@pytest.mark.parametrize(("args", "needle"), [
    (["--features", "size,length", "--post-project", "length"], "known only after"),
    (["--features", "size,nope"], "'nope' does not exist"),
    (["--model", "estimate-aware", "--features", "size"], "needs the team's estimate"),
])
def test_fit_refuses_bad_input_with_exit_status_2(tmp_path, args, needle):
    past = project_history(tmp_path / "past.csv")
    res = _run("history", "fit", past, "--target", "effort", "--out", tmp_path / "m.json", *args)
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output


def test_predict_names_missing_unknown_and_post_project_features(effort_model):
    cases = [(["size=100"], "missing feature team"), (["size=100", "team=A", "colour=red"], "unknown feature 'colour'"),
             (["size=100", "team=A", "length=3"], "known only after"), (["size=big", "team=A"], "give a number")]
    for sets, needle in cases:
        res = _run("history", "predict", effort_model, *[x for s in sets for x in ("--set", s)])
        assert res.exit_code == 2 and needle in res.output, res.output


def test_fit_on_shared_datasets(tmp_path, shared_home):
    from pmrisk.history.datasets import dataset_card, load_dataset

    out = tmp_path / "desharnais.json"
    res = _run("history", "fit", "desharnais", "--target", "Effort", "--out", out, "--json", "-", "--cv", "3")
    assert res.exit_code == 0, res.output
    meta = json.loads(res.output)
    card = dataset_card("desharnais")
    assert meta["dataset"] == "desharnais" and meta["unit"] == "person-hours" and meta["cv"] == 3
    assert meta["files"][0]["sha256"] == next(f["sha256"] for f in card["files"] if f["read"])
    assert "Length" not in meta["inputs"] and "Length" in meta["post_project"]
    frame = load_dataset("desharnais").frame
    row = {c: frame[c].mode()[0] if c in meta["categorical"] else frame[c].median() for c in meta["inputs"]}
    sets = [x for c in meta["inputs"] for x in ("--set", f"{c}={row[c]}")]
    res = _run("history", "predict", out, *sets, "--json", "-")
    assert res.exit_code == 0, res.output
    assert 500 < json.loads(res.output)["quantiles"]["P50"] < 20_000
    res = _run("history", "fit", "desharnais", "--target", "Effort", "--features", "Transactions,Length",
               "--out", tmp_path / "x.json")
    assert res.exit_code == 2 and "known only after" in res.output
    # a task-level dataset with the developers' estimates: an estimate-aware model, and a calibration from it
    res = _run("history", "fit", "jorgensen-tasks-49", "--target", "Actual effort", "--out", tmp_path / "j.json")
    assert res.exit_code == 0, res.output
    assert "leave-one-out" in res.output          # --cv auto: leave-one-out up to 100 rows
    fm = open_model(tmp_path / "j.json")
    assert fm.kind == "estimate-aware" and fm.estimate == "Estimated effort" and fm.unit == "work-hours"
    (tmp_path / "p.yaml").write_text("tasks:\n  - {id: A, duration: {dist: triangular, min: 1, likely: 2, max: 4}}\n")
    res = _run("simulate", tmp_path / "p.yaml", "-n", "500", "--calibrate", tmp_path / "j.json")
    assert res.exit_code == 0, res.output
    assert "History-calibrated by model" in res.output


# --------------------------------------------------------------------------------------------
# model-based calibration
# --------------------------------------------------------------------------------------------


def test_per_task_table_ppf_and_the_single_distribution_unchanged():
    spec = CalibrationSpec(reference="x", tasks=("A", "B"), level="task")
    table = Calibration(spec=spec, values=np.array([[1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]]),
                        task_ids=("A", "B"))
    u = np.array([[0.1, 0.5, 1.0], [0.26, 0.75, 0.76]])
    assert table.per_task and table.n == 4
    np.testing.assert_array_equal(table.ppf(u), [[1.0, 2.0, 4.0], [20.0, 30.0, 40.0]])
    np.testing.assert_array_equal(table.ppf(u, np.array([1, 0])), [[10.0, 20.0, 40.0], [2.0, 3.0, 4.0]])
    single = Calibration(spec=spec, values=np.array([1.0, 2.0, 3.0, 4.0]))
    assert not single.per_task and single.ppf(np.array([[0.5, 0.51]])).tolist() == [[2.0, 3.0]]


def test_model_calibration_recovers_the_known_overrun_law(overrun_model):
    # BIG is listed first but scheduled second: the table's rows follow the tasks, whatever the order
    p = make_project([{"id": "BIG", "duration": 40, "depends_on": ["SMALL"]}, {"id": "SMALL", "duration": 1}])
    n = 20_000
    m = sample_matrix(p, n, rng=5, calibrate={"model": str(overrun_model)})
    assert m["task_ids"] == ["BIG", "SMALL"]
    ratio = m["duration"][::-1] / np.array([[1.0], [40.0]])           # rows SMALL, BIG
    med = np.median(ratio, axis=1)
    # the law: x1.30 for a 1-day (8 h) task, x1.05 for a 40-day (320 h) task; model error (400 past tasks,
    # sigma 0.25) and Monte Carlo error together stay well inside 6%
    assert med[0] == pytest.approx(SMALL_RATIO, rel=0.06)
    assert med[1] == pytest.approx(LARGE_RATIO, rel=0.06)
    assert med[0] / med[1] > 1.15
    # each task's draws follow its own row of the model's predictive distribution (one uniform per task)
    cal = as_calibration({"model": str(overrun_model)}, p)
    assert cal is not None and cal.per_task and cal.task_ids == ("BIG", "SMALL")
    dist = open_model(overrun_model).predict([{"planned_h": 8.0}, {"planned_h": 320.0}])
    np.testing.assert_allclose(cal.values[::-1], np.sort(np.exp(dist.values) / np.array([[8.0], [320.0]]), axis=1))
    for k in range(2):
        for lv in (0.1, 0.5, 0.9):
            assert np.quantile(ratio[k], lv) == pytest.approx(np.quantile(cal.values[1 - k], lv), rel=0.03)
    assert abs(np.corrcoef(ratio[0], ratio[1])[0, 1]) < 0.03      # independent draws per task
    s = pmrisk.simulate(p, iterations=2000, rng=5, calibrate=str(overrun_model)).summary()["calibration"]
    assert s["kind"] == "model" and s["n"] == 400 and s["level"] == "task" and s["tasks"] == 2
    assert s["median_ratio"]["max"] == pytest.approx(s["median_ratio_by_task"]["SMALL"])
    assert s["estimate_unit"] == "hours" and s["hours_per_day"] == 8.0


def test_estimate_from_and_hours_per_day_set_each_task_estimate(overrun_model):
    p = make_project([{"id": "T", "duration": {"dist": "triangular", "min": 2, "likely": 4, "max": 12}}])
    fm = open_model(overrun_model)

    def row(hours):
        d = fm.predict([{"planned_h": hours}])
        return np.sort(np.exp(d.values[0]) / hours)

    cases = [({}, 4 * 8.0), ({"estimate_from": "mean"}, 6 * 8.0), ({"hours_per_day": 6}, 4 * 6.0),
             ({"estimate_unit": "days"}, 4.0)]
    for extra, hours in cases:
        cal = as_calibration({"model": str(overrun_model), **extra}, p)
        assert cal is not None
        np.testing.assert_allclose(cal.values[0], row(hours), err_msg=str(extra))


def test_uncalibrated_side_equals_a_plain_run_exactly(overrun_model):
    tasks = [{"id": "A", "duration": {"dist": "triangular", "min": 5, "likely": 8, "max": 15}, "cost": 1000},
             {"id": "B", "duration": {"dist": "pert", "min": 1, "likely": 2, "max": 5}, "depends_on": ["A"],
              "cost": {"per_day": 100}},
             {"id": "C", "duration": {"dist": "lognormal", "p10": 2, "p90": 9}, "depends_on": ["A"]},
             {"id": "END", "milestone": True, "depends_on": ["B", "C"]}]
    risks = [{"id": "R", "probability": 0.3, "affects": ["B"], "delay": 4, "cost": 500}]
    p = Project.from_dict({"tasks": tasks, "risks": risks, "correlations": [{"between": ["B", "C"], "rho": 0.5}]})
    cal = pmrisk.simulate(p, iterations=3000, rng=9, calibrate={"model": str(overrun_model)})
    plain = pmrisk.simulate(p, iterations=3000, rng=9)
    unc = cal.summary()["calibration"]["uncalibrated"]
    for kind in ("duration", "cost"):
        assert unc[kind]["mean"] == plain.summary()[kind]["mean"]
        for lv in P_LEVELS:
            assert unc[kind][f"P{lv}"] == plain.summary()[kind][f"P{lv}"]
    assert cal.summary()["duration"]["P50"] > plain.summary()["duration"]["P50"]    # short tasks overrun
    # same seed, same result, whatever the chunking
    again = pmrisk.simulate(p, iterations=3000, rng=9, calibrate={"model": str(overrun_model)}, chunk_size=512)
    np.testing.assert_array_equal(again.durations, cal.durations)


def test_model_calibration_in_the_project_file_and_the_terminal(tmp_path, overrun_model):
    (tmp_path / "p.yaml").write_text(
        f"tasks:\n  - {{id: A, duration: 2, tags: [dev]}}\n  - {{id: B, duration: 30, depends_on: [A]}}\n"
        f"calibration:\n  model: {overrun_model}\n  applies_to: {{tags: [dev]}}\n")
    p = pmrisk.load_project(tmp_path / "p.yaml")
    assert p.calibration is not None and p.calibration.model == str(overrun_model) and p.calibration.tasks == ("A",)
    res = _run("simulate", tmp_path / "p.yaml", "-n", "1000")
    assert res.exit_code == 0, res.output
    assert "History-calibrated by model ConformalRegressor(EstimateAware)" in res.output
    assert "Duration, uncalibrated" in res.output
    data = json.loads(_run("simulate", tmp_path / "p.yaml", "-n", "1000", "--json", "-").output)
    assert list(data["calibration"]["median_ratio_by_task"]) == ["A"]


@pytest.mark.parametrize(("section", "needle"), [
    ({"level": "project"}, "use level: task"),
    ({"estimate_from": "max"}, "estimate_from: 'max'"),
    ({"hours_per_day": 30}, "hours_per_day"),
    ({"reference": "x.csv"}, "unknown key 'reference'"),
    ({"features": {"team": "A"}}, "unknown feature 'team'"),
])
def test_bad_model_calibration_sections(overrun_model, section, needle):
    from pmrisk.calibration import parse_calibration

    with pytest.raises(ProjectError, match="calibration") as err:
        parse_calibration({"model": str(overrun_model), **section}, ["A"], {"A": set()}, source="p.yaml")
    assert needle in str(err.value)


def test_a_non_estimate_aware_model_is_refused_for_calibration(effort_model):
    p = make_project([{"id": "A", "duration": 3}])
    with pytest.raises(ProjectError, match="estimate-aware"):
        pmrisk.simulate(p, iterations=100, calibrate=str(effort_model))


# --------------------------------------------------------------------------------------------
# bad model files
# --------------------------------------------------------------------------------------------


def _bad_files(tmp_path, good):
    data = json.loads(good.read_text())
    (tmp_path / "notjson.json").write_text("this is not JSON {")
    (tmp_path / "pickle.json").write_bytes(b"\x80\x04\x95\x00")
    tampered = json.loads(json.dumps(data))
    tampered["model"]["state"]["residuals_"][0] += 1.0
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    evil = json.loads(json.dumps(data))
    evil["model"]["type"] = "builtins.eval"
    (tmp_path / "evil.json").write_text(json.dumps(evil))
    from pmrisk.history.models import LogRidge
    from pmrisk.history.persist import save_model

    save_model(LogRidge().fit(np.arange(1.0, 11.0)[:, None], np.arange(2.0, 22.0, 2.0)), tmp_path / "bare.json")
    return {"notjson.json": "not valid JSON", "pickle.json": "not valid JSON", "tampered.json": "checksum",
            "evil.json": "checksum", "bare.json": "LogRidge", "missing.json": "no such model file"}


def test_bad_model_files_are_refused_with_exit_status_2(tmp_path, overrun_model):
    cases = _bad_files(tmp_path, overrun_model)
    (tmp_path / "p.yaml").write_text("tasks:\n  - {id: A, duration: 3}\n")
    for name, needle in cases.items():
        res = _run("history", "predict", tmp_path / name, "--set", "planned_h=8")
        assert res.exit_code == 2 and needle in res.output and "Traceback" not in res.output, (name, res.output)
        res = _run("simulate", tmp_path / "p.yaml", "-n", "100", "--calibrate", tmp_path / name)
        assert res.exit_code == 2 and needle in res.output and "Traceback" not in res.output, (name, res.output)
        with pytest.raises(ProjectError, match="top_down"):
            Project.from_dict({"tasks": [{"id": "A", "duration": 3}],
                               "top_down": {"model": str(tmp_path / name), "features": {"planned_h": 8}}})
    # an unknown type is refused even without a checksum: nothing named in a file is ever imported or run
    evil = json.loads((tmp_path / "evil.json").read_text())
    del evil["model_sha256"]
    (tmp_path / "evil.json").write_text(json.dumps(evil))
    res = _run("history", "predict", tmp_path / "evil.json", "--set", "planned_h=8")
    assert res.exit_code == 2 and "'builtins.eval'" in res.output


# --------------------------------------------------------------------------------------------
# top-down check
# --------------------------------------------------------------------------------------------


def _td_project(model, per_day=800.0, duration=20, **section):
    return Project.from_dict({
        "project": {"name": "TD", "currency": "EUR"},
        "tasks": [{"id": "A", "duration": {"dist": "triangular", "min": duration * 0.8, "likely": duration,
                                           "max": duration * 1.5}, "cost": {"per_day": per_day}}],
        "top_down": {"model": str(model), "features": {"size": 150, "team": "B"}, **section}})


@pytest.mark.parametrize(("section", "needle"), [
    ({"features": {"size": 150}}, "missing feature team"),
    ({"features": {"size": 150, "team": "B", "length": 4}}, "known only after a project has ended"),
    ({"features": {"size": 150, "team": "B", "colour": 4}}, "unknown feature 'colour'"),
    ({"features": {"size": "big", "team": "B"}}, "give a number"),
    ({"features": [150]}, "features: give the project's inputs"),
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"quantity": "weight"}, "quantity: 'weight'"),
    ({"quantity": "cost", "unit_rate": 95}, "does not apply to a cost model"),
    ({"unit_rate": 0}, "unit_rate"),
    ({"model": "model.pkl"}, "not a .json model file"),
    ({"model": "nowhere.json"}, "no such model file"),
])
def test_top_down_section_is_validated_at_load_time(effort_model, section, needle):
    raw = {"model": str(effort_model), "features": {"size": 150, "team": "B"}, **section}
    with pytest.raises(ProjectError, match="top_down") as err:
        Project.from_dict({"tasks": [{"id": "A", "duration": 3}], "top_down": raw}, source="p.yaml")
    assert needle in str(err.value) and "p.yaml" in str(err.value)


def test_top_down_next_to_the_bottom_up_simulation(effort_model):
    fm = open_model(effort_model)
    q = fm.predict([{"size": 150.0, "team": "B"}]).quantiles([0.1, 0.5, 0.8, 0.9])[0]
    # plan: 20 days x 800 EUR = 16,000 EUR; top-down at 95 EUR per person-hour
    r = pmrisk.simulate(_td_project(effort_model, unit_rate=95), iterations=3000, rng=2)
    td = r.summary()["top_down"]
    assert td["quantity"] == "effort" and td["unit"] == "person-hours" and td["n"] == 40
    assert td["compared_as"] == "cost" and td["compared_unit"] == "EUR"
    assert [td["predicted"][f"P{lv}"] for lv in (10, 50, 80, 90)] == pytest.approx(list(q))
    assert td["top_down"]["P50"] == pytest.approx(95 * q[1])
    assert td["bottom_up"]["P80"] == r.summary()["cost"]["P80"]
    assert td["ratio"]["P50"] == pytest.approx(td["bottom_up"]["P50"] / td["top_down"]["P50"])
    assert td["optimism_gap"] == (td["bottom_up"]["P80"] < td["top_down"]["P50"])
    # without a rate the effort is reported on its own; False turns the check off
    alone = pmrisk.simulate(_td_project(effort_model), iterations=500, rng=2).summary()["top_down"]
    assert alone["compared_as"] is None and "unit_rate" in alone["note"] and "bottom_up" not in alone
    assert "top_down" not in pmrisk.simulate(_td_project(effort_model), iterations=500, rng=2,
                                             top_down=False).summary()


def test_top_down_duration_in_months_is_compared_in_working_days(tmp_path):
    past = project_history(tmp_path / "past.csv")
    fitted = fit_history_model(str(past), "length", features=["size", "team"], unit="months", cv=None)
    fitted.save(tmp_path / "months.json")
    r = pmrisk.simulate(_td_project(tmp_path / "months.json"), iterations=1000, rng=3)
    td = r.summary()["top_down"]
    assert td["quantity"] == "duration" and td["compared_as"] == "duration"
    assert td["top_down"]["P50"] == pytest.approx(td["predicted"]["P50"] * 260 / 12)
    assert td["bottom_up"]["P50"] == r.summary()["duration"]["P50"]


def test_terminal_shows_both_and_warns_of_an_optimism_gap(tmp_path, effort_model):
    (tmp_path / "p.yaml").write_text(
        "project: {name: Gap, currency: EUR}\n"
        "tasks:\n  - {id: A, duration: {dist: triangular, min: 4, likely: 5, max: 7}, cost: {per_day: 100}}\n"
        f"top_down:\n  model: {effort_model}\n  features: {{size: 400, team: B}}\n  unit_rate: 95\n")
    res = _run("simulate", tmp_path / "p.yaml", "-n", "1000")
    assert res.exit_code == 0, res.output
    assert "Top-down (model on 40 past projects)" in res.output and "Bottom-up (Monte Carlo)" in res.output
    assert "Bottom-up / top-down" in res.output and "optimism gap" in res.output
    data = json.loads(_run("simulate", tmp_path / "p.yaml", "-n", "1000", "--json", "-").output)
    assert data["top_down"]["optimism_gap"] is True and "below the top-down P50" in data["top_down"]["warning"]


def test_top_down_check_appears_in_the_html_report(effort_model, tmp_path):
    from pmrisk.report.html import render_html_report

    r = pmrisk.simulate(_td_project(effort_model, unit_rate=95), iterations=1000, rng=2)
    td = r.summary()["top_down"]
    page = render_html_report(r)
    assert 'id="top-down"' in page and "Bottom-up (this simulation)" in page
    assert f"{td['top_down']['P80']:,.0f}" in page and f"{td['bottom_up']['P80']:,.0f}" in page
    alone = render_html_report(pmrisk.simulate(_td_project(effort_model), iterations=300, rng=2))
    assert 'id="top-down"' in alone and "Bottom-up (this simulation)" not in alone
    plain = render_html_report(pmrisk.simulate(_td_project(effort_model), iterations=300, rng=2, top_down=False))
    assert 'id="top-down"' not in plain
