"""P-level start and finish per task (histograms kept on request) and their CSV export."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_project

import pmrisk
from pmrisk.cli import main
from pmrisk.engine.simulate import HIST_BINS, sample_matrix


def _net():
    tri = {"dist": "triangular", "min": 4, "likely": 6, "max": 12}
    return make_project([{"id": "A", "name": "=cmd|' /C calc'!A0", "duration": tri},
                         {"id": "B", "duration": tri, "depends_on": ["A"]},
                         {"id": "C", "duration": {"dist": "uniform", "min": 2, "max": 20}},
                         {"id": "D", "duration": tri, "depends_on": ["B", {"task": "C", "type": "SS", "lag": 3}]}],
                        start="2027-03-01")


def test_task_start_levels_match_the_unchunked_samples_within_one_bin():
    p = _net()
    n = 6000
    r = pmrisk.simulate(p, iterations=n, rng=21, task_starts=True, chunk_size=333)
    m = sample_matrix(p, n, rng=21)
    for k, tid in enumerate(m["task_ids"]):
        starts = m["start"][k]
        width = (starts.max() - starts.min()) / HIST_BINS
        for lv in (10, 50, 80, 90):
            exact = float(np.quantile(starts, lv / 100, method="inverted_cdf"))
            assert abs(r.task_start(tid, lv) - exact) <= width + 1e-9, (tid, lv)
    dates = r.task_dates()
    assert dates.loc["D", "start_P50"] == r.task_start("D", 50)
    assert dates.loc["A", "start_date_P50"].isoformat() == "2027-03-01"       # A starts at day 0
    # a finish at offset f falls on working day ceil(f) - 1
    f = dates.loc["B", "finish_P80"]
    assert dates.loc["B", "finish_date_P80"] == p.calendar.finish_date(p.start, f)


def test_without_task_starts_the_starts_are_missing_not_invented():
    r = pmrisk.simulate(_net(), iterations=500, rng=1)
    assert r.start_hist is None and math.isnan(r.task_dates().loc["B", "start_P50"])
    with pytest.raises(ValueError, match="task_starts=True"):
        r.task_start("B", 50)


def test_cli_dates_csv_is_written_with_formula_guard(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("project: {start: 2027-03-01}\ntasks:\n"
                 "  - {id: A, name: '=2+3', duration: {dist: triangular, min: 1, likely: 2, max: 5}}\n"
                 "  - {id: B, duration: 3, depends_on: [A]}\n")
    out = tmp_path / "dates.csv"
    res = CliRunner().invoke(main, ["simulate", str(f), "-n", "500", "--dates", str(out), "--json", "-"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    assert [r["id"] for r in rows] == ["A", "B"] and rows[0]["name"] == "'=2+3"
    assert float(rows[1]["start_P50"]) == pytest.approx(float(rows[0]["finish_P50"]), abs=5 / HIST_BINS)
    assert rows[1]["finish_date_P90"] >= rows[1]["finish_date_P10"] >= "2027-03-01"
    res = CliRunner().invoke(main, ["simulate", str(f), "--dates", str(f)])
    assert res.exit_code == 2 and "input" in res.output


def test_cli_mspdi_export_carries_p_level_starts_and_finishes(tmp_path):
    from pmrisk.io.mspdi import read_mspdi

    f = tmp_path / "p.yaml"
    f.write_text("project: {start: 2027-03-01}\ntasks:\n"
                 "  - {id: A, duration: {dist: triangular, min: 1, likely: 2, max: 5}}\n"
                 "  - {id: B, duration: 3, depends_on: [A]}\n")
    out = tmp_path / "plan.xml"
    res = CliRunner().invoke(main, ["simulate", str(f), "-n", "500", "--mspdi", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert "P50 start" in text and "P80 finish" in text
    back = pmrisk.load_project(out)
    assert back.task_ids == ["A", "B"] and back.task("A").duration.support() == (1.0, 5.0)
    assert read_mspdi(out).data["tasks"][1]["depends_on"][0]["task"] == "A"
