"""The charts draw what they claim: numbers read back from the artists match the result."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.dates import date2num  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import pmrisk  # noqa: E402
from pmrisk import plots  # noqa: E402
from pmrisk.risk.matrix import RiskMatrix  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def crm():
    project = pmrisk.load_project(ROOT / "examples" / "crm-migration.yaml")
    return pmrisk.simulate(project, iterations=2000, rng=42)


@pytest.fixture(scope="module")
def tiny():
    """One task; no costs, no start, no risks, no merge points."""
    project = pmrisk.Project.from_dict({"tasks": [
        {"id": "A", "duration": {"dist": "pert", "min": 3, "likely": 5, "max": 12}}]})
    return pmrisk.simulate(project, iterations=400, rng=7)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def by_gid(ax, gid):
    found = [a for a in ax.findobj() if a.get_gid() == gid]
    assert found, f"no artist with gid {gid!r}"
    return found


def texts(ax):
    return " ".join(t.get_text() for t in ax.findobj(matplotlib.text.Text))


CHARTS = [
    lambda r: plots.s_curve(r),
    lambda r: plots.s_curve(r, "cost"),
    lambda r: plots.s_curve(r, dates=False),
    lambda r: plots.histogram(r),
    lambda r: plots.histogram(r, "cost"),
    lambda r: plots.tornado(r),
    lambda r: plots.risk_tornado(r),
    lambda r: plots.risk_tornado(r, "P80_cost_contribution"),
    lambda r: plots.criticality(r),
    lambda r: plots.jcl_scatter(r),
    lambda r: plots.risk_matrix(r),
    lambda r: plots.risk_matrix(r.project, mitigated=True),
    lambda r: plots.merge_bias(r),
    lambda r: plots.compare_s_curves({"a": r, "b": r}),
    lambda r: plots.compare_s_curves({"a": r}, "cost"),
]


@pytest.mark.parametrize("which", ["crm", "tiny"])
@pytest.mark.parametrize("k", range(len(CHARTS)))
def test_every_chart_returns_its_axes(which, k, request):
    result = request.getfixturevalue(which)
    ax = CHARTS[k](result)
    assert isinstance(ax, Axes)
    assert ax.get_title(loc="left")                   # a title that says what is shown
    svg = plots.figure_svg(ax, close=True)
    ET.fromstring(svg)


def test_given_axes_are_used(crm):
    fig, ax = plt.subplots()
    assert plots.tornado(crm, ax=ax) is ax
    assert plots.s_curve(crm, ax=ax) is ax
    assert len(fig.axes) == 1


def test_importing_pmrisk_does_not_import_matplotlib():
    code = "import sys, pmrisk; import pmrisk.results; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# ---- S-curve and histogram ----------------------------------------------------------------


def test_s_curve_marks_plan_p50_p80_deadline_and_contingency(crm):
    ax = plots.s_curve(crm, dates=False)
    for lv in (50, 80):
        (marker,) = by_gid(ax, f"pmrisk-p{lv}")
        assert marker.get_xdata()[0] == crm.percentile(lv)
        assert marker.get_ydata()[0] == lv / 100
    plan = crm.deterministic["duration"]
    (pm,) = by_gid(ax, "pmrisk-plan")
    assert pm.get_xdata()[0] == pytest.approx(plan)
    assert pm.get_ydata()[0] == crm.probability(duration=plan)
    (line,) = by_gid(ax, "pmrisk-target")
    assert line.get_xdata()[0] == crm.project.deadline
    (tm,) = by_gid(ax, "pmrisk-target-probability")
    assert tm.get_ydata()[0] == crm.probability(duration=crm.project.deadline)
    (arrow,) = by_gid(ax, "pmrisk-contingency")
    assert arrow.xy[0] == pytest.approx(crm.percentile(80)) and arrow.xyann[0] == pytest.approx(plan)
    contingency = crm.percentile(80) - plan
    assert f"+{contingency:.1f}".removesuffix(".0") in texts(ax)
    assert "41%" in texts(ax) or f"{100 * crm.probability(duration=crm.project.deadline):.0f}%" in texts(ax)
    assert ax.get_xlabel() == "Project duration (working days)"


def test_s_curve_step_is_the_empirical_cdf(crm):
    ax = plots.s_curve(crm, dates=False)
    (cdf,) = by_gid(ax, "pmrisk-cdf")
    x, y = np.asarray(cdf.get_xdata()), np.asarray(cdf.get_ydata())
    for k in (10, 500, len(x) - 1):
        assert y[k] == pytest.approx(np.mean(crm.durations <= x[k]))


def test_s_curve_shows_finish_dates_when_the_project_has_a_start(crm):
    ax = plots.s_curve(crm)                      # default: dates, since the project has a start
    (marker,) = by_gid(ax, "pmrisk-p80")
    assert marker.get_xdata()[0] == date2num(np.datetime64(crm.finish_date(80)))
    (line,) = by_gid(ax, "pmrisk-target")
    assert line.get_xdata()[0] == date2num(np.datetime64(crm.project.deadline_date))
    assert ax.get_xlabel() == "Finish date"
    assert crm.finish_date(80).isoformat() in texts(ax)


def test_cost_s_curve_marks_budget(crm):
    ax = plots.s_curve(crm, "cost")
    (marker,) = by_gid(ax, "pmrisk-p80")
    assert marker.get_xdata()[0] == crm.percentile(80, "cost")
    (line,) = by_gid(ax, "pmrisk-target")
    assert line.get_xdata()[0] == crm.project.budget
    assert "EUR" in ax.get_xlabel()


def test_histogram_lines_and_shares(crm):
    ax = plots.histogram(crm)
    for lv in (10, 50, 80, 90):
        (line,) = by_gid(ax, f"pmrisk-p{lv}")
        assert line.get_xdata()[0] == crm.percentile(lv)
    (line,) = by_gid(ax, "pmrisk-target")
    assert line.get_xdata()[0] == crm.project.deadline
    bars = by_gid(ax, "pmrisk-hist")
    assert sum(b.get_height() for b in bars) == pytest.approx(1.0)     # every iteration counted once


def test_dates_need_a_start(tiny):
    with pytest.raises(ValueError, match="start date"):
        plots.s_curve(tiny, dates=True)


# ---- tornado, risk ranking, criticality, merge bias ------------------------------------------


def test_tornado_bars_are_the_sensitivities_sorted(crm):
    ax = plots.tornado(crm, top=8)
    sens = crm.sensitivity()
    bars = sorted((p for p in ax.patches if str(p.get_gid()).startswith("pmrisk-sensitivity-")),
                  key=lambda p: -p.get_y())
    assert len(bars) == 8
    widths = [b.get_width() for b in bars]
    ids = [b.get_gid().removeprefix("pmrisk-sensitivity-") for b in bars]
    assert widths == [sens[t] for t in ids]
    assert [abs(w) for w in widths] == sorted((abs(w) for w in widths), reverse=True)
    assert ids[0] == sens.drop([t.id for t in crm.project.tasks if t.milestone]).abs().idxmax()
    crit = crm.criticality()
    for t in ids:                                # criticality printed beside each bar
        (label,) = by_gid(ax, f"pmrisk-value-{t}")
        assert plots._pct(crit[t]) in label.get_text()


def test_risk_tornado_bars_are_the_contributions(crm):
    rows = {r["id"]: r for r in crm.risk_rows()}
    for metric in ("P80_delay_contribution", "P80_cost_contribution"):
        ax = plots.risk_tornado(crm, metric=metric, top=5)
        bars = sorted((p for p in ax.patches if str(p.get_gid()).startswith("pmrisk-risk-")),
                      key=lambda p: -p.get_y())
        assert len(bars) == 5
        ids = [b.get_gid().removeprefix("pmrisk-risk-") for b in bars]
        assert [b.get_width() for b in bars] == [rows[i][metric] for i in ids]
        best = max(rows.values(), key=lambda r: abs(r[metric]))
        assert ids[0] == best["id"]
        assert best["title"] in texts(ax)        # risk id and title
    with pytest.raises(ValueError, match="metric"):
        plots.risk_tornado(crm, metric="P80_nonsense")


def test_criticality_bars_and_highlight(crm):
    ax = plots.criticality(crm, top=12)
    crit = crm.criticality()
    on_path = set(crm.deterministic["critical_path"])
    bars = [p for p in ax.patches if str(p.get_gid()).startswith("pmrisk-criticality-")]
    assert len(bars) == 12
    colours = set()
    for b in bars:
        t = b.get_gid().removeprefix("pmrisk-criticality-")
        assert b.get_width() == crit[t]
        assert not crm.project.task(t).milestone
        colours.add((t in on_path, matplotlib.colors.to_hex(b.get_facecolor())))
    assert {c for on, c in colours if on} == {plots.PALETTE["main"].lower()}
    assert {c for on, c in colours if not on} <= {plots.PALETTE["light"].lower()}


def test_merge_bias_bars(crm):
    ax = plots.merge_bias(crm, top=5)
    bars = sorted((p for p in ax.patches if str(p.get_gid()).startswith("pmrisk-merge-")),
                  key=lambda p: -p.get_y())
    assert bars
    ids = [b.get_gid().removeprefix("pmrisk-merge-") for b in bars]
    widths = [b.get_width() for b in bars]
    assert widths == [crm.merge_bias[t]["merge_bias"] for t in ids]
    assert widths == sorted(widths, reverse=True)
    assert ids[0] == max(crm.merge_bias, key=lambda t: crm.merge_bias[t]["merge_bias"])


# ---- joint confidence -----------------------------------------------------------------------


def test_jcl_frontier_at_the_deadline_gives_the_joint_probability(crm):
    p = crm.project
    joint = crm.probability(duration=p.deadline, cost=p.budget)
    ax = plots.jcl_scatter(crm, max_points=1000)
    (frontier,) = by_gid(ax, "pmrisk-frontier")
    x, y = np.asarray(frontier.get_xdata()), np.asarray(frontier.get_ydata())
    (k,) = np.flatnonzero(x == p.deadline)
    c = y[k]
    assert c <= p.budget
    assert np.mean((crm.durations <= p.deadline) & (crm.costs <= c)) == pytest.approx(joint)
    assert np.all(np.diff(y) <= 0)                                  # more time needs less money
    (label,) = by_gid(ax, "pmrisk-joint")
    assert label.get_text() == plots._pct(joint)
    (vline,) = by_gid(ax, "pmrisk-deadline")
    (hline,) = by_gid(ax, "pmrisk-budget")
    assert vline.get_xdata()[0] == p.deadline and hline.get_ydata()[0] == p.budget
    (points,) = by_gid(ax, "pmrisk-iterations")
    assert len(points.get_offsets()) == 1000
    (again,) = by_gid(plots.jcl_scatter(crm, max_points=1000), "pmrisk-iterations")
    assert np.array_equal(points.get_offsets(), again.get_offsets())   # the subsample is fixed


def test_jcl_frontier_is_the_smallest_cost_reaching_the_probability():
    rng = np.random.default_rng(3)
    d = rng.gamma(5, 4, 300)
    c = 10 * d + rng.normal(0, 20, 300)
    for prob in (0.5, 0.8, 1.0):
        fd, fc = plots.jcl_frontier(d, c, prob, points=40, at=[25.0])
        assert 25.0 in fd or np.mean(d <= 25.0) < prob
        for di, ci in zip(fd, fc, strict=True):
            ok = d <= di
            assert np.mean(ok & (c <= ci)) >= prob - 1e-12
            lower = c[ok & (c < ci)]
            if lower.size:                        # the next lower cost no longer reaches it
                assert np.mean(ok & (c <= lower.max())) < prob


def test_jcl_without_targets_draws_the_80_percent_frontier():
    project = pmrisk.Project.from_dict({"tasks": [
        {"id": "A", "duration": {"dist": "uniform", "min": 5, "max": 10}, "cost": {"per_day": 100}},
        {"id": "B", "duration": {"dist": "uniform", "min": 2, "max": 9}, "cost": {"fixed": 50}}]})
    r = pmrisk.simulate(project, iterations=500, rng=1)
    ax = plots.jcl_scatter(r)
    (frontier,) = by_gid(ax, "pmrisk-frontier")
    for di, ci in zip(frontier.get_xdata(), frontier.get_ydata(), strict=True):
        assert np.mean((r.durations <= di) & (r.costs <= ci)) >= 0.8
    assert "80%" in frontier.get_label()


# ---- risk matrix ----------------------------------------------------------------------------


@pytest.mark.parametrize("mitigated", [False, True])
def test_risk_matrix_places_each_risk_in_its_cell(crm, mitigated):
    ax = plots.risk_matrix(crm, mitigated=mitigated)
    m = RiskMatrix.for_project(crm.project)
    for risk in crm.project.risks:
        a = m.assess(risk, mitigated=mitigated, project=crm.project)
        (label,) = by_gid(ax, f"pmrisk-risk-{risk.id}")
        x, y = label.get_position()
        assert label.get_text() == risk.id
        assert abs(x - a.impact_band) < 0.5 and abs(y - a.probability_band) < 0.5, risk.id


def test_risk_matrix_stacks_a_crowded_cell():
    risks = [{"id": f"R{i}", "probability": 0.4, "affects": ["A"], "delay": 7} for i in range(12)]
    project = pmrisk.Project.from_dict({"tasks": [{"id": "A", "duration": 10}], "risks": risks})
    ax = plots.risk_matrix(project)
    spots = set()
    for i in range(12):
        (label,) = by_gid(ax, f"pmrisk-risk-R{i}")
        x, y = label.get_position()
        assert abs(x - 3) < 0.5 and abs(y - 3) < 0.5
        spots.add((round(x, 6), round(y, 6)))
    assert len(spots) == 12                       # none on top of another


# ---- comparisons and calibration ------------------------------------------------------------


def test_compare_s_curves_marks_each_p80(crm):
    post = pmrisk.simulate(crm.project, iterations=2000, rng=42, mitigated=True)
    ax = plots.compare_s_curves({"before": crm, "after": post}, dates=False)
    for i, r in enumerate((crm, post)):
        (marker,) = by_gid(ax, f"pmrisk-p80-{i}")
        assert marker.get_xdata()[0] == r.percentile(80)
    with pytest.raises(ValueError):
        plots.compare_s_curves({})


def test_calibration_plot():
    from scipy import stats

    ranks = np.random.default_rng(0).uniform(size=50)
    ax = plots.calibration_plot(ranks, label="duration")
    (line,) = by_gid(ax, "pmrisk-calibration-0")
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert np.array_equal(x[1:-1], np.sort(ranks)) and y[-2] == 1.0
    (band,) = by_gid(ax, "pmrisk-ks-band")
    verts = band.get_paths()[0].vertices
    eps = stats.kstwo.ppf(0.95, 50)
    mid = verts[np.isclose(verts[:, 0], 0.5)][:, 1]
    assert sorted(mid) == pytest.approx([0.5 - eps, 0.5 + eps])
    ax = plots.calibration_plot({"model A": ranks, "model B": ranks ** 2})
    assert len(by_gid(ax, "pmrisk-calibration-1")) == 1
    assert "model B" in texts(ax)
    with pytest.raises(ValueError, match="percentages"):
        plots.calibration_plot([10, 50, 90])
    assert "No actual" in texts(plots.calibration_plot([]))


# ---- graceful without costs, start, risks ---------------------------------------------------


def test_minimal_project_says_what_is_missing(tiny):
    for ax, words in ((plots.risk_tornado(tiny), "no risks"), (plots.risk_matrix(tiny), "no risks"),
                      (plots.jcl_scatter(tiny), "no costs"), (plots.s_curve(tiny, "cost"), "no costs"),
                      (plots.merge_bias(tiny), "no merge points")):
        assert words in texts(ax).lower()
    assert isinstance(plots.dashboard(tiny), Figure)
    ax = plots.s_curve(tiny)
    assert ax.get_xlabel() == "Project duration (working days)"
    (marker,) = by_gid(ax, "pmrisk-p80")
    assert marker.get_xdata()[0] == tiny.percentile(80)


def test_risk_ranking_not_computed(crm):
    r = pmrisk.simulate(crm.project, iterations=200, rng=1, rank_risks=False)
    assert "not computed" in texts(plots.risk_tornado(r))
    ax = plots.risk_tornado(r, metric="expected_delay")      # needs no ranking
    assert len([p for p in ax.patches if str(p.get_gid()).startswith("pmrisk-risk-")]) == 10


# ---- output ---------------------------------------------------------------------------------


def test_figure_svg_is_valid_and_keeps_text(crm):
    ax = plots.s_curve(crm)
    svg = plots.figure_svg(ax)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    words = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "P80" in words and "Finish date" in words
    assert svg == plots.figure_svg(ax)           # deterministic


def test_risk_title_is_escaped_in_svg():
    title = "<script>alert(1)</script> & costs $5 to $10"
    project = pmrisk.Project.from_dict({"tasks": [{"id": "A", "duration": 10, "cost": {"per_day": 100}}],
                                        "risks": [{"id": "R1", "title": title, "probability": 0.5,
                                                   "affects": ["A"], "delay": 3, "cost": 500}]})
    r = pmrisk.simulate(project, iterations=300, rng=1)
    svg = plots.figure_svg(plots.risk_tornado(r), close=True)
    assert "<script" not in svg
    root = ET.fromstring(svg)
    words = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert any(title in w for w in words)         # shown as the plain text it is


def test_save_and_dashboard(crm, tmp_path):
    fig = plots.dashboard(crm)
    assert isinstance(fig, Figure)
    titles = [a.get_title(loc="left") for a in fig.axes]
    assert sum(bool(t) for t in titles) == 4
    png = plots.save(fig, tmp_path / "dash.png", dpi=40)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = plots.save(plots.tornado(crm), tmp_path / "t.svg")
    ET.parse(svg)
    assert "<text" in svg.read_text()


def test_make_figures_script(tmp_path):
    import runpy

    mod = runpy.run_path(str(ROOT / "docs" / "make_figures.py"), run_name="make_figures")
    written = mod["main"](["-n", "300", "--out", str(tmp_path)])
    assert {p.name for p in written} == {"crm-s-curve.png", "crm-tornado.png", "crm-jcl.png", "crm-risk-matrix.png"}
    assert all(p.stat().st_size > 10_000 for p in written)
