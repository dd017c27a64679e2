"""The command line: output, JSON contract, and bad inputs (clear message, status 2, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmrisk.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

GOOD = """\
pmrisk: 1
project:
  name: Small
  start: 2027-02-01
  deadline: 30
  budget: 100000
tasks:
  - id: A
    duration: {dist: pert, min: 5, likely: 8, max: 14}
    cost: {fixed: 1000, per_day: 2000}
  - id: B
    duration: {dist: triangular, min: 10, likely: 12, max: 20}
    depends_on: [A]
  - id: C
    duration: 4
    depends_on: [{task: A, type: SS, lag: 2}]
  - id: END
    milestone: true
    depends_on: [B, C]
"""


def run(args, tmp_path=None):
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return res


def write(tmp_path, text, name="p.yaml"):
    f = tmp_path / name
    f.write_text(text)
    return f


def test_simulate_prints_a_readable_summary(tmp_path):
    res = run(["simulate", write(tmp_path, GOOD), "-n", "2000"])
    assert res.exit_code == 0, res.output
    out = res.output
    for text in ("Small", "P80", "Finish date", "Deadline", "Budget", "Contingency", "What drives"):
        assert text in out


def test_simulate_json_to_stdout_matches_api(tmp_path):
    import pmrisk

    f = write(tmp_path, GOOD)
    res = run(["simulate", f, "-n", "2000", "--seed", "7", "--json", "-"])
    assert res.exit_code == 0
    data = json.loads(res.output)
    api = pmrisk.simulate(pmrisk.load_project(f), iterations=2000, rng=7).summary()
    assert data == json.loads(json.dumps(api))
    assert data["seed"] == 7 and data["iterations"] == 2000


def test_simulate_json_to_file_and_never_over_the_input(tmp_path):
    f = write(tmp_path, GOOD)
    out = tmp_path / "out.json"
    res = run(["simulate", f, "-n", "500", "--json", out])
    assert res.exit_code == 0 and json.loads(out.read_text())["iterations"] == 500
    before = f.read_text()
    res = run(["simulate", f, "-n", "500", "--json", f])
    assert res.exit_code == 2 and "never overwrites" in res.output
    assert f.read_text() == before


def test_validate_json(tmp_path):
    f = write(tmp_path, GOOD)
    res = run(["validate", f, "--json", "-"])
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert data["tasks"] == 4 and data["links"] == 4 and data["milestones"] == 1 and data["risks"] == 0
    assert isinstance(data["warnings"], list)
    assert any("no estimate range" in w and "C" in w for w in data["warnings"])


BAD = {
    "cycle": ("tasks:\n  - {id: T3, duration: 1, depends_on: [T9]}\n  - {id: T7, duration: 1, depends_on: [T3]}\n"
              "  - {id: T9, duration: 1, depends_on: [T7]}\n", ["cycle", "T3", "T7", "T9"]),
    "unknown predecessor": ("tasks:\n  - {id: REQ, duration: 1}\n  - {id: B, duration: 1, depends_on: [REQQ]}\n",
                            ["unknown predecessor", "REQQ", "REQ", "task B", "line 3"]),
    "duplicate id": ("tasks:\n  - {id: A, duration: 1}\n  - {id: A, duration: 2}\n",
                     ["Duplicate task id", "'A'", "line 2", "line 3"]),
    "min > likely": ("tasks:\n  - id: A\n    duration: {dist: triangular, min: 10, likely: 5, max: 20}\n",
                     ["task A", "line 2", "10", "5"]),
    "likely > max": ("tasks:\n  - id: A\n    duration: {dist: pert, min: 1, likely: 25, max: 20}\n",
                     ["task A", "25", "20"]),
    "negative duration": ("tasks:\n  - {id: A, duration: -3}\n", ["task A", "negative", "-3"]),
    "negative range": ("tasks:\n  - id: A\n    duration: {dist: uniform, min: -2, max: 4}\n",
                       ["task A", "negative", ">= 0"]),
    "probability": ("tasks:\n  - {id: A, duration: 3}\nrisks:\n  - {id: R1, probability: 1.5, affects: [A]}\n",
                    ["risk R1", "probability", "1.5", "[0, 1]"]),
    "unparsable yaml": ("tasks:\n  - id: A\n    duration: 3\n   - id: B\n", ["line 4", "Cannot parse"]),
    "empty task list": ("project:\n  name: X\ntasks: []\n", ["no tasks", "Add at least one task"]),
    "unknown distribution": ("tasks:\n  - id: A\n    duration: {dist: trianglar, min: 1, likely: 2, max: 3}\n",
                             ["task A", "trianglar", "triangular"]),
    "unknown key": ("tasks:\n  - id: A\n    duraton: 3\n", ["duraton", "duration"]),
    "risk without impact": ("tasks:\n  - {id: A, duration: 3}\nrisks:\n  - {id: R1, probability: 0.5, affects: [A]}\n",
                            ["risk R1", "line 4", "no impact"]),
    "risk on unknown task": ("tasks:\n  - {id: BUILD, duration: 3}\nrisks:\n"
                             "  - {id: R1, probability: 0.5, affects: [BUILDD], delay: 3}\n",
                             ["risk R1", "unknown task 'BUILDD'", "BUILD"]),
    "calibration key": ("tasks:\n  - {id: A, duration: 3}\ncalibration: {reference: past.csv, weight: 2}\n",
                        ["calibration", "unknown key 'weight'"]),
    "calibration model": ("tasks:\n  - {id: A, duration: 3}\ncalibration: {model: m.json}\n",
                          ["calibration, model", "no such model file", "pmrisk history fit"]),
    "top_down key": ("tasks:\n  - {id: A, duration: 3}\ntop_down: {model: m.json, size: 3}\n",
                     ["top_down", "unknown key 'size'", "features"]),
    "missing file": (None, ["no such file"]),
    "nan lag": ("tasks:\n  - {id: A, duration: 1}\n  - {id: B, duration: 1, depends_on: [{task: A, lag: .nan}]}\n",
                ["task B", "lag", "finite"]),
    "infinite budget": ("project: {budget: .inf}\ntasks:\n  - {id: A, duration: 1}\n", ["budget", "finite"]),
    "huge duration": ("tasks:\n  - {id: A, duration: 1.0e+12}\n", ["task A", "beyond the largest value"]),
    "impossible date": ("project:\n  start: 2027-13-45\ntasks:\n  - {id: A, duration: 1}\n",
                        ["line 2", "not a valid date"]),
    "negative deadline": ("project: {deadline: -3}\ntasks:\n  - {id: A, duration: 1}\n",
                          ["deadline", "is negative"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_clear_message_status_2_no_traceback(tmp_path, case):
    text, needles = BAD[case]
    f = tmp_path / "missing.yaml" if text is None else write(tmp_path, text)
    for cmd in (["simulate", f, "-n", "100"], ["validate", f]):
        res = run(cmd)
        assert res.exit_code == 2, (case, res.output)
        assert "Traceback" not in res.output
        assert str(f) in res.output or case == "cycle" and f.name in res.output
        for needle in needles:
            assert needle in res.output, (case, needle, res.output)


def test_python_dash_m_and_console_script_exit_2_without_traceback(tmp_path):
    f = write(tmp_path, BAD["cycle"][0])
    proc = subprocess.run([sys.executable, "-m", "pmrisk", "simulate", str(f)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "Dependency cycle" in proc.stderr
    good = write(tmp_path, GOOD, "good.yaml")
    proc = subprocess.run([sys.executable, "-m", "pmrisk", "simulate", str(good), "-n", "300", "--json", "-"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["iterations"] == 300


@pytest.mark.parametrize("name", ["crm-migration.yaml", "mobile-app.yaml", "crm-migration.csv"])
def test_examples_simulate(name):
    res = run(["simulate", EXAMPLES / name, "-n", "2000"])
    assert res.exit_code == 0, res.output
    assert "P80" in res.output


def test_other_formats_json_and_toml(tmp_path):
    import tomllib  # noqa: F401 - the reader is stdlib

    data = {"pmrisk": 1, "project": {"name": "J"}, "tasks": [{"id": "A", "duration": 5},
                                                               {"id": "B", "duration": 2, "depends_on": ["A"]}]}
    fj = tmp_path / "p.json"
    fj.write_text(json.dumps(data))
    ft = tmp_path / "p.toml"
    ft.write_text('pmrisk = 1\n[project]\nname = "J"\n[[tasks]]\nid = "A"\nduration = 5\n'
                  '[[tasks]]\nid = "B"\nduration = 2\ndepends_on = ["A"]\n')
    outs = [json.loads(run(["simulate", f, "-n", "50", "--json", "-"]).output) for f in (fj, ft)]
    assert outs[0]["duration"]["P50"] == outs[1]["duration"]["P50"] == 7
    bad = tmp_path / "bad.json"
    bad.write_text('{"tasks": [\n  {"id": "A" "duration": 1}]}')
    res = run(["validate", bad])
    assert res.exit_code == 2 and "line 2" in res.output


def test_out_of_range_options_are_usage_errors(tmp_path):
    f = write(tmp_path, GOOD)
    for args in (["--chunk-size", "100000"], ["-n", "200000000"], ["--max-iterations", "200000000"], ["-n", "0"]):
        res = run(["simulate", f, *args])
        assert res.exit_code == 2 and "Traceback" not in res.output, args


def test_yaml_aliases_do_not_explode(tmp_path):
    import time

    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]")
    lines.append("tasks: [{id: A, duration: 1}]")
    f = write(tmp_path, "\n".join(lines) + "\n")
    t0 = time.perf_counter()
    res = run(["validate", f])
    assert time.perf_counter() - t0 < 5
    assert res.exit_code == 2 and "unknown key" in res.output
