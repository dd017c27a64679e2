"""The HTML report and the Excel workbook (pmrisk.report.html, pmrisk.report.excel, the CLI).

The HTML report is checked as a document (structure, numbers, escaping, no external reference) and
in a real browser: headless Chromium (Debian's package, driven by playwright) loads it from disk,
and the test records console errors, every request and any dialog, and looks at a screenshot.
Without Chromium or playwright that test is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import zipfile
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import pmrisk
from pmrisk.cli import main
from pmrisk.report.excel import write_excel_workbook
from pmrisk.report.html import fmt_pct, render_html_report, write_html_report

INJECTED = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("https://example.invalid","click")'
TASK_FORMULA = "=SUM(1,2)"

PROJECT_YAML = f"""\
pmrisk: 1
project:
  name: Report test & <b>demo</b>
  start: 2027-03-01
  currency: EUR
  deadline: 2027-06-30
  budget: 450000
tasks:
  - id: REQ
    name: Requirements
    duration: {{dist: pert, min: 8, likely: 10, max: 16}}
    cost: {{per_day: 2500}}
  - id: API
    name: "{TASK_FORMULA}"
    duration: {{dist: triangular, min: 15, likely: 20, max: 32}}
    depends_on: [REQ]
    cost: {{per_day: 3000}}
  - id: UI
    name: User interface
    duration: {{dist: triangular, min: 15, likely: 20, max: 32}}
    depends_on: [REQ]
    cost: {{per_day: 2800}}
  - id: DATA
    name: "-5 days of data work"
    duration: {{dist: uniform, min: 14, max: 26}}
    depends_on: [REQ]
    cost: {{fixed: 10000, per_day: 1500}}
  - id: TEST
    name: Integration test
    duration: {{dist: pert, min: 8, likely: 10, max: 18}}
    depends_on: [API, UI, DATA]
    cost: {{per_day: 3500}}
  - id: LIVE
    name: Go-live
    milestone: true
    depends_on: [TEST]
risks:
  - id: R1
    title: "{INJECTED}"
    owner: "@owner"
    probability: 0.4
    affects: [API]
    delay: {{dist: triangular, min: 3, likely: 6, max: 12}}
    cost: {{dist: uniform, min: 5000, max: 20000}}
    mitigation:
      action: Stub the API early
      cost: 4000
      probability: 0.15
  - id: R2
    title: '{FORMULA}'
    probability: 0.3
    affects: [TEST]
    delay: {{dist: triangular, min: 2, likely: 5, max: 10}}
    cost: 15000
  - id: R3
    title: "+Opportunity: reuse the old test suite"
    probability: 0.3
    affects: [TEST]
    delay: {{dist: uniform, min: -3, max: -1}}
"""

ITERATIONS = 2000
CHART_IDS = ["s-curve-duration", "s-curve-cost", "histogram", "tornado", "risk-ranking", "risk-ranking-cost",
             "criticality", "jcl", "risk-matrix", "merge-bias", "mitigation", "mitigation-cost"]


# ---- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def project_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "demo.yaml"
    path.write_text(PROJECT_YAML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(project_file):
    project = pmrisk.load_project(project_file)
    after = pmrisk.simulate(project, iterations=ITERATIONS, rng=7, mitigated=True)
    before = pmrisk.simulate(project, iterations=ITERATIONS, rng=7, rank_risks=False)
    return after, before


@pytest.fixture(scope="module")
def report(runs, project_file) -> Path:
    after, before = runs
    return write_html_report(after, project_file.with_name("report.html"), before=before, source_path=project_file)


class _Doc(HTMLParser):
    """Every element with its attributes, the text, and what lies inside figures and tables."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[tuple[str, str | None]] = []       # (tag, id)
        self.svg_in_figure: dict[str, int] = {}
        self.table_text: dict[str, list[str]] = {}
        self.section_text: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if tag == "svg":
            for t, ident in reversed(self.stack):
                if t == "figure" and ident:
                    self.svg_in_figure[ident] = self.svg_in_figure.get(ident, 0) + 1
                    break
        if tag not in ("meta", "br", "link", "img", "input", "hr", "path", "use", "rect", "circle", "line",
                       "polyline", "polygon", "ellipse", "stop") and not self.get_starttag_text().endswith("/>"):
            self.stack.append((tag, a.get("id")))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        self.text.append(data)
        for t, ident in self.stack:
            if ident and t == "table":
                self.table_text.setdefault(ident, []).append(data)
            if ident and t in ("div", "section"):
                self.section_text.setdefault(ident, []).append(data)


def _parse(text: str) -> _Doc:
    doc = _Doc()
    doc.feed(text)
    doc.close()
    return doc


# ---- (a) the document --------------------------------------------------------------------------------

def test_headline_numbers_are_the_summary_values(report, runs):
    after, _ = runs
    s = after.summary()
    doc = _parse(report.read_text(encoding="utf-8"))
    head = " ".join(" ".join(doc.section_text["headline"]).split())
    expected = [s["finish_date"]["P50"], s["finish_date"]["P80"],
                f"{s['cost']['P50']:,.0f}", f"{s['cost']['P80']:,.0f}",
                fmt_pct(s["deadline"]["probability"]), fmt_pct(s["budget"]["probability"]),
                fmt_pct(s["joint_probability"]),
                f"{s['contingency']['duration']['P80']:+,.1f}", f"{s['contingency']['cost']['P80']:+,.0f}",
                fmt_pct(s["deterministic"]["duration_confidence"]), s["deterministic"]["finish_date"],
                f"{s['deterministic']['cost']:,.0f}"]
    for value in expected:
        assert value in head, (value, head)
    plevels = " ".join(doc.table_text["plevels"])
    for lv in ("P10", "P50", "P80", "P90"):
        assert f"{s['duration'][lv]:,.1f}" in plevels and s["finish_date"][lv] in plevels
        assert f"{s['cost'][lv]:,.0f}" in plevels


def test_percentages_never_round_to_a_misleading_zero_or_hundred():
    assert [fmt_pct(x) for x in (0.0, 0.0004, 0.003, 0.25, 0.996, 0.9996, 1.0)] == \
        ["0%", "<0.1%", "0.3%", "25%", "99.6%", ">99.9%", "100%"]


def test_every_chart_is_inline_svg(report):
    doc = _parse(report.read_text(encoding="utf-8"))
    figures = [a.get("id") for t, a in doc.elements if t == "figure"]
    assert figures == CHART_IDS
    for ident in CHART_IDS:
        assert doc.svg_in_figure.get(ident, 0) >= 1, ident
    # each chart is its own SVG document: every id that something refers to (clip paths, glyphs,
    # markers) is defined once on the page, so no chart borrows another's
    raw = report.read_text(encoding="utf-8")
    ids = Counter(a["id"] for _, a in doc.elements if a.get("id"))
    refs = set(re.findall(r'href="#([^"]+)"', raw)) | set(re.findall(r"url\(#([^)]+)\)", raw))
    assert refs and all(ids[r] == 1 for r in refs), [r for r in refs if ids[r] != 1]


def test_task_and_risk_tables(report, runs):
    after, _ = runs
    doc = _parse(report.read_text(encoding="utf-8"))
    tasks = " ".join(doc.table_text["task-table"])
    for t in after.project.tasks:
        assert t.id in tasks and t.name in tasks
    risks = " ".join(doc.table_text["risk-table"])
    ranked = [r["id"] for r in after.risk_rows()]
    assert [m for m in re.findall(r"\bR\d\b", risks)] == ranked      # in rank order
    assert INJECTED in risks and FORMULA in risks


def test_assumptions_name_the_input_and_its_checksum(report, project_file):
    doc = _parse(report.read_text(encoding="utf-8"))
    text = " ".join(doc.section_text["assumptions"])
    assert hashlib.sha256(project_file.read_bytes()).hexdigest() in text
    assert "demo.yaml" in text and f"{ITERATIONS:,}" in text and pmrisk.__version__ in text
    assert re.search(r"Random seed\s+7\b", text)


def test_nothing_external_is_referenced(report):
    raw = report.read_text(encoding="utf-8")
    doc = _parse(raw)
    assert not [t for t, _ in doc.elements if t in ("script", "link", "iframe", "object", "embed", "img", "base",
                                                     "form", "audio", "video", "source")]
    for tag, attrs in doc.elements:
        for name, value in attrs.items():
            v = (value or "").strip().lower()
            if name in ("src", "href", "xlink:href", "action", "formaction", "poster", "data", "srcset",
                        "background", "cite", "ping") or name.startswith("on"):
                assert not name.startswith("on"), (tag, name, value)
                assert v.startswith("#") or v.startswith("data:"), (tag, name, value)
            for url in re.findall(r"url\(\s*['\"]?([^'\")\s]+)", v):
                assert url.startswith("#"), (tag, name, value)
    assert "@import" not in raw and "@font-face" not in raw
    for url in re.findall(r"url\(\s*['\"]?([^'\")\s]+)", raw):
        assert url.startswith("#"), url
    # a Content-Security-Policy forbids any fetch should something slip through
    csp = [a for t, a in doc.elements if t == "meta" and (a.get("http-equiv") or "").lower()
           == "content-security-policy"]
    assert csp and "default-src 'none'" in (csp[0].get("content") or "")


def test_project_text_is_escaped(report, runs):
    raw = report.read_text(encoding="utf-8")
    doc = _parse(raw)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert INJECTED not in raw
    assert not [t for t, _ in doc.elements if t == "script"]
    text = "".join(doc.text)
    assert INJECTED in text                       # shown, as text
    assert "Report test & <b>demo</b>" in text and "<b>demo</b>" not in raw
    assert not [t for t, _ in doc.elements if t == "b"]


def test_calibration_is_shown_beside_the_own_estimates(tmp_path):
    past = tmp_path / "past.csv"
    past.write_text("planned,actual\n" + "".join(f"10,{10 * r}\n" for r in (0.9, 1.1, 1.3, 1.6) * 10))
    p = pmrisk.Project.from_dict({"project": {"name": "Calibrated"}, "tasks": [
        {"id": "A", "duration": {"dist": "triangular", "min": 8, "likely": 10, "max": 15}, "cost": {"per_day": 100}},
        {"id": "B", "duration": 5, "depends_on": ["A"], "cost": {"per_day": 100}}]})
    r = pmrisk.simulate(p, iterations=1000, rng=2, calibrate=str(past))
    doc = _parse(render_html_report(r))
    figures = [a.get("id") for t, a in doc.elements if t == "figure"]
    assert "calibration" in figures and "calibration-cost" in figures
    unc = r.summary()["calibration"]["uncalibrated"]["duration"]["P80"]
    assert f"{unc:,.1f}" in " ".join(doc.table_text["calibration"])
    assert "past.csv" in " ".join(doc.section_text["assumptions"])


def test_a_project_without_dates_costs_or_risks(tmp_path):
    p = pmrisk.Project.from_dict({"tasks": [{"id": "A", "duration": {"dist": "uniform", "min": 4, "max": 9}},
                                            {"id": "B", "duration": 3, "depends_on": ["A"]}]})
    r = pmrisk.simulate(p, iterations=500, rng=1)
    out = write_html_report(r, tmp_path / "plain.html")
    doc = _parse(out.read_text(encoding="utf-8"))
    figures = [a.get("id") for t, a in doc.elements if t == "figure"]
    assert figures == ["s-curve-duration", "histogram", "tornado", "criticality"]
    head = " ".join(doc.section_text["headline"])
    assert f"{r.summary()['duration']['P80']:,.1f}" in head and "working days" in head
    assert "risk-table" not in doc.table_text


# ---- (b) in a real browser ------------------------------------------------------------------------------

def _browser() -> tuple[str, object]:
    """The system Chromium and playwright's sync API, or a skip (a failure under CI=true)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    why = None
    try:
        from playwright import sync_api
    except ImportError:
        why = "playwright is not installed (pip install -e '.[dev]')"
    if why is None and exe is None:
        why = "no Chromium on PATH (apt-get install chromium; .ci/run installs it)"
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs headless Chromium for the report test: {why}")
        pytest.skip(why)
    return exe, sync_api


def test_report_in_headless_chromium(report, runs, tmp_path):
    exe, sync_api = _browser()
    url = report.resolve().as_uri()
    requests: list[str] = []
    routed: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []

    def route(r):
        routed.append(r.request.url)
        if r.request.url == url:
            r.continue_()
        else:
            r.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=True)
            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error"
                    else None)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(url, wait_until="load")
            page.wait_for_timeout(300)
            text = page.inner_text("body")
            n_scripts = page.locator("script").count()
            boxes = [page.locator("svg.chart").nth(i).bounding_box() for i in range(page.locator("svg.chart").count())]
            png = page.screenshot(full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert requests == [url], requests                      # the file itself and nothing else
    assert all(u == url for u in routed), routed
    assert dialogs == []
    assert n_scripts == 0
    assert INJECTED in text and runs[0].summary()["finish_date"]["P80"] in text
    assert len(boxes) == len(CHART_IDS)
    assert all(b is not None and b["width"] > 300 and b["height"] > 150 for b in boxes), boxes
    (tmp_path / "report.png").write_bytes(png)
    _assert_not_blank(png)


def _assert_not_blank(png: bytes) -> None:
    import matplotlib.image as mpimg
    import numpy as np

    img = mpimg.imread(io.BytesIO(png), format="png")
    rgb = np.asarray(img)[..., :3].astype(float)
    if rgb.max() > 1.0:
        rgb /= 255.0
    assert rgb.shape[0] > 2000 and rgb.shape[1] >= 1200, rgb.shape       # a full page, not a stub
    assert float(rgb.std()) > 0.05, "the screenshot is (nearly) one flat colour"
    ink = rgb.min(axis=2) < 0.85
    assert ink.mean() > 0.03, f"only {ink.mean():.1%} of the pixels are not white"
    top = rgb[:80]                                   # the header band is dark
    assert float(top.mean()) < 0.6


# ---- (c) the Excel workbook -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workbook(runs, project_file) -> Path:
    after, before = runs
    return write_excel_workbook(after, project_file.with_name("run.xlsx"), before=before, iterations=True,
                                source_path=project_file)


def _find(ws, label):
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == label:
                return cell
    raise AssertionError(f"{label!r} not found in {ws.title}")


def test_workbook_sheets_and_numbers(workbook, runs, project_file):
    from openpyxl import load_workbook

    after, before = runs
    s = after.summary()
    wb = load_workbook(workbook)
    assert wb.sheetnames == ["Summary", "P-levels", "Tasks", "Drivers", "Register", "Matrix", "Iterations"]
    sm = wb["Summary"]
    head = _find(sm, "P50")
    dur = _find(sm, "Duration (working days)")
    cost = _find(sm, "Cost (EUR)")
    assert sm.cell(dur.row, head.column).value == pytest.approx(s["duration"]["P50"], abs=1e-9)
    assert sm.cell(cost.row, head.column + 1).value == pytest.approx(s["cost"]["P80"], abs=1e-6)
    deadline = _find(sm, "Chance of meeting the deadline")
    assert sm.cell(deadline.row, 2).value == pytest.approx(s["deadline"]["probability"])
    sha = _find(sm, "Input file SHA-256")
    assert sm.cell(sha.row, 2).value == hashlib.sha256(project_file.read_bytes()).hexdigest()

    pl = wb["P-levels"]
    header = [c.value for c in pl[1]]
    assert header[:5] == ["P-level", "Share of runs at or below", "Duration (working days)", "Finish date",
                          "Cost (EUR)"]
    rows = {r[0]: r for r in pl.iter_rows(min_row=2, max_row=20, values_only=True)}
    assert list(rows) == [f"P{lv}" for lv in range(5, 100, 5)]
    for lv in (10, 50, 80, 90):
        r = rows[f"P{lv}"]
        assert r[2] == pytest.approx(after.percentile(lv)) and r[4] == pytest.approx(after.percentile(lv, "cost"))
        assert r[3].date().isoformat() == s["finish_date"][f"P{lv}"]
        assert r[5] == pytest.approx(before.percentile(lv))

    tasks = wb["Tasks"]
    frame = after.to_frame()
    ids = [r[0] for r in tasks.iter_rows(min_row=2, max_row=1 + len(frame), values_only=True)]
    assert ids == list(frame.index)
    crit_col = [c.value for c in tasks[1]].index("Criticality") + 1
    for i, tid in enumerate(ids, start=2):
        assert tasks.cell(i, crit_col).value == pytest.approx(frame.loc[tid, "criticality"])

    it = wb["Iterations"]
    assert it.max_row == ITERATIONS + 1
    assert [it.cell(2 + k, 2).value for k in range(5)] == pytest.approx(after.durations[:5].tolist())
    assert [it.cell(2 + k, 3).value for k in range(5)] == pytest.approx(after.costs[:5].tolist())


def test_workbook_text_is_never_a_formula(workbook):
    from openpyxl import load_workbook

    wb = load_workbook(workbook)
    reg = wb["Register"]
    title = _find(reg, FORMULA)
    assert title.data_type == "s"
    assert _find(reg, INJECTED).data_type == "s"
    assert _find(reg, "@owner").data_type == "s"
    assert _find(reg, "+Opportunity: reuse the old test suite").data_type == "s"
    for name in (TASK_FORMULA, "-5 days of data work"):
        assert _find(wb["Tasks"], name).data_type == "s"
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


def test_workbook_has_native_charts(workbook):
    with zipfile.ZipFile(workbook) as z:
        names = z.namelist()
        assert "xl/charts/chart1.xml" in names
        charts = [n for n in names if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        assert len(charts) >= 4                   # two S-curves, the tornado, the risk ranking
        kinds = " ".join(z.read(n).decode("utf-8") for n in charts)
    assert "<c:scatterChart>" in kinds and "<c:barChart>" in kinds


def test_iterations_that_do_not_fit_a_sheet_are_refused(runs, tmp_path, monkeypatch):
    import pmrisk.report.excel as excel

    monkeypatch.setattr(excel, "EXCEL_MAX_ROWS", 100)
    with pytest.raises(pmrisk.errors.ProjectError, match="do not fit an Excel sheet"):
        excel.write_excel_workbook(runs[0], tmp_path / "big.xlsx", iterations=True)
    assert not list(tmp_path.iterdir())


# ---- the command line -----------------------------------------------------------------------------------

def test_simulate_writes_report_and_workbook(project_file, tmp_path):
    out, xl = tmp_path / "r.html", tmp_path / "r.xlsx"
    res = CliRunner().invoke(main, ["simulate", str(project_file), "-n", "400", "--report", str(out),
                                    "--excel", str(xl), "--excel-iterations", "--mitigated"])
    assert res.exit_code == 0, res.output
    assert f"Wrote {out}" in res.output and f"Wrote {xl}" in res.output
    assert "mitigation" in out.read_text(encoding="utf-8")       # the before/after chart
    from openpyxl import load_workbook

    assert "Iterations" in load_workbook(xl).sheetnames


def test_report_command(project_file, tmp_path):
    out = tmp_path / "only.html"
    res = CliRunner().invoke(main, ["report", str(project_file), str(out), "-n", "300", "--seed", "5"])
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert "300 simulated runs" in text and hashlib.sha256(project_file.read_bytes()).hexdigest() in text


@pytest.mark.parametrize(("args", "needle"), [
    (["simulate", "{p}", "--format", "yaml", "--report", "{p}"], "is an input file"),
    (["report", "{p}", "{p}", "--format", "yaml"], "is an input file"),
    (["report", "{p}", "{d}/out.txt"], "ending in .html"),
    (["report", "{p}", "{d}/missing/out.html"], "does not exist"),
    (["simulate", "{p}", "--format", "yaml", "--excel-iterations"], "give --excel"),
])
def test_bad_outputs_are_refused(tmp_path, args, needle):
    src = tmp_path / "p.html"                      # an input whose name looks like a report
    src.write_text(PROJECT_YAML, encoding="utf-8")
    res = CliRunner().invoke(main, [a.format(p=src, d=tmp_path) for a in args])
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert src.read_text(encoding="utf-8") == PROJECT_YAML
