"""The Excel workbook of a simulation: ``pmrisk simulate --excel OUT.xlsx``.

Sheets, in order:

- **Summary**: the headline numbers (plan, P10/P50/P80/P90 and mean of duration, finish date and
  cost; chances of meeting the deadline and budget; contingency to P80) and the facts of the run
  (iterations, seed, version, input file and its SHA-256 checksum).
- **P-levels**: P5 ... P95 of duration (working days), finish date and cost, with S-curve charts.
- **Tasks**: one row per task (:meth:`pmrisk.SimulationResult.to_frame`): plan, simulated mean,
  finish P-levels, criticality, sensitivity, cruciality, schedule sensitivity index, merge bias.
- **Drivers**: the tasks that drive the finish (tornado chart) and the risks ranked by what they
  do to P80 (bar chart).
- **Register** and **Matrix**: the ranked risk register and its probability-impact matrix
  (:func:`pmrisk.risk.register.write_register_excel`), when the project has risks.
- **Iterations** (on request): every iteration's duration and cost, for one's own analysis.

The charts are native Excel charts that read the sheets' cells. Every text cell is stored as text,
never as a formula, whatever it starts with (``=``, ``+``, ``-``, ``@``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmrisk.errors import ProjectError
from pmrisk.risk.matrix import RiskMatrix
from pmrisk.risk.register import (
    _atomic_write,
    _formats,
    _matrix_sheet,
    _register_sheet,
    _summary_sheet,
    _write_value,
    register_rows,
)

if TYPE_CHECKING:  # pragma: no cover
    from pmrisk.results import SimulationResult

__all__ = ["EXCEL_MAX_ROWS", "write_excel_workbook"]

#: Rows an Excel sheet holds (one is the header).
EXCEL_MAX_ROWS = 1_048_576

_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            "nan_inf_to_errors": True}


def write_excel_workbook(result: SimulationResult, path: str | os.PathLike[str], *,
                         before: SimulationResult | None = None, iterations: bool = False,
                         matrix: RiskMatrix | None = None,
                         source_path: str | os.PathLike[str] | None = None) -> Path:
    """Write a simulation's results as an Excel workbook (sheets listed in the module docstring).

    Parameters
    ----------
    result
        A simulation (:func:`pmrisk.simulate`).
    path
        The ``.xlsx`` file (written through a temporary file, then moved into place).
    before
        The same project simulated before its risk responses (same seed), shown beside a
        ``mitigated=True`` result.
    iterations
        Also write every iteration's duration and cost (sheet **Iterations**); at most
        1,048,575 iterations fit an Excel sheet.
    matrix
        The probability-impact band table (default: the project's ``risk_matrix:``).
    source_path
        The input file, for its name and checksum (default: the project's source file).

    Examples
    --------
    >>> import pathlib, tempfile, pmrisk
    >>> from openpyxl import load_workbook
    >>> p = pmrisk.Project.from_dict({"tasks": [{"id": "A", "name": "=1+1", "duration": {
    ...     "dist": "triangular", "min": 2, "likely": 3, "max": 6}}]})
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "run.xlsx"
    >>> _ = write_excel_workbook(pmrisk.simulate(p, iterations=500, rng=1), f)
    >>> wb = load_workbook(f)
    >>> wb.sheetnames, wb["Tasks"]["B2"].value, wb["Tasks"]["B2"].data_type
    (['Summary', 'P-levels', 'Tasks', 'Drivers'], '=1+1', 's')
    """
    import xlsxwriter

    from pmrisk.report.html import shareable

    if iterations and result.iterations > EXCEL_MAX_ROWS - 1:
        raise ProjectError(f"{path}: {result.iterations:,} iterations do not fit an Excel sheet (at most "
                           f"{EXCEL_MAX_ROWS - 1:,} rows); run fewer iterations, or leave out --excel-iterations "
                           "and use --json for the summary.")
    p = result.project
    summary = result.summary()
    if before is not None:
        b = before.summary()
        summary["unmitigated"] = {k: b[k] for k in ("duration", "cost")}
    src = Path(source_path) if source_path is not None else (
        Path(p.source) if p.source and Path(p.source).is_file() else None)
    m = matrix or RiskMatrix.for_project(p)

    def write(tmp: str) -> None:
        wb = xlsxwriter.Workbook(tmp, _OPTIONS)
        try:
            f = _formats(wb)
            f["date_cell"] = wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
            f["ratio"] = wb.add_format({"num_format": "0.00", "valign": "top"})
            _summary_sheet(wb, f, summary)
            _about(wb.get_worksheet_by_name("Summary"), f, result, src)
            _plevels_sheet(wb, f, result, before)
            _tasks_sheet(wb, f, result)
            _drivers_sheet(wb, f, result)
            if p.risks:
                rows = register_rows(p, result, m)
                _register_sheet(wb, f, rows, m)
                _matrix_sheet(wb, f, rows, m, p.currency)
            if iterations:
                _iterations_sheet(wb, f, result)
        finally:
            wb.close()
        shareable(tmp)

    return _atomic_write(path, write)


def _about(ws: Any, f: Mapping[str, Any], result: SimulationResult, src: Path | None) -> None:
    """Append the facts of the run below the summary that :func:`_summary_sheet` wrote."""
    from pmrisk.report.html import input_facts

    r = int(getattr(ws, "dim_rowmax", None) or 20) + 2
    ws.write_string(r, 0, "About this run", f["bold"])
    r += 1
    facts: list[tuple[str, Any]] = list(input_facts(src)) if src is not None else []
    facts += [("Engine", result.engine), ("Generated", dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")),
              ("Units", "durations in working days" + (f"; costs in {result.project.currency}"
                                                        if result.project.currency else ""))]
    cal = result.calibration
    facts.append(("History calibration", f"{cal.get('reference')} ({cal.get('n')} past plans)" if cal else "none"))
    for k, v in facts:
        ws.write_string(r, 0, k)
        _write_value(ws, r, 1, v, f["general"])
        r += 1
    r += 1
    for line in ("How to read it: P80 is the value not exceeded in 80% of the simulated runs (\"80% sure\"); the "
                 "plan is every estimate at its most likely value with no risk occurring;",
                 "the contingency to P80 is P80 minus the plan. Sheets: P-levels (S-curves), Tasks, Drivers "
                 "(tornado and risk ranking), Register and Matrix."):
        ws.write_string(r, 0, line, f["note"])
        r += 1


def _date(ws: Any, r: int, c: int, d: dt.date | None, fmt: Any) -> None:
    if d is None:
        ws.write_blank(r, c, None, fmt)
    else:
        ws.write_datetime(r, c, dt.datetime(d.year, d.month, d.day), fmt)


def _plevels_sheet(wb: Any, f: Mapping[str, Any], result: SimulationResult, before: SimulationResult | None) -> None:
    p = result.project
    ws = wb.add_worksheet("P-levels")
    cur = p.currency
    dur = result.percentiles("duration")
    cost = result.percentiles("cost")
    heads = ["P-level", "Share of runs at or below", "Duration (working days)"]
    if p.start is not None:
        heads.append("Finish date")
    heads.append(f"Cost{f' ({cur})' if cur else ''}")
    if before is not None:
        heads += ["Duration before the responses", "Cost before the responses"]
        bdur, bcost = before.percentiles("duration"), before.percentiles("cost")
    for j, h in enumerate(heads):
        ws.write_string(0, j, h, f["header"])
    ws.set_row(0, 32)
    ws.set_column(0, 0, 9)
    ws.set_column(1, len(heads) - 1, 16)
    n = len(dur)
    for i, level in enumerate(dur.index, start=1):
        c = 0
        ws.write_string(i, c, str(level))
        ws.write_number(i, c + 1, int(str(level)[1:]) / 100, f["pct"])
        ws.write_number(i, c + 2, float(dur[level]), f["days"])
        c = 3
        if p.start is not None:
            _date(ws, i, c, p.finish_date(float(dur[level])), f["date_cell"])
            c += 1
        ws.write_number(i, c, float(cost[level]), f["money"])
        if before is not None:
            ws.write_number(i, c + 1, float(bdur[level]), f["days"])
            ws.write_number(i, c + 2, float(bcost[level]), f["money"])
    ws.freeze_panes(1, 1)
    cost_col = 4 if p.start is not None else 3
    note = n + 2
    ws.write_string(note, 0, "Read a row as: in that share of the simulated runs the project took at most this many "
                    "working days (finished by this date) and cost at most this much.", f["note"])
    # S-curves: probability (up) against the outcome (across), as people read them
    for k, (col, label, bcol, numfmt) in enumerate((
            (2, "Duration (working days)", cost_col + 1 if before is not None else None, "#,##0"),
            (cost_col, f"Cost{f' ({cur})' if cur else ''}", cost_col + 2 if before is not None else None,
             "#,##0"))):
        chart = wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
        name = "After the responses" if before is not None else "Simulated"
        chart.add_series({"name": name, "categories": ["P-levels", 1, col, n, col],
                          "values": ["P-levels", 1, 1, n, 1], "marker": {"type": "circle", "size": 4},
                          "line": {"color": "#1F4E78", "width": 2}})
        if bcol is not None:
            chart.add_series({"name": "Before the responses", "categories": ["P-levels", 1, bcol, n, bcol],
                              "values": ["P-levels", 1, 1, n, 1], "marker": {"type": "circle", "size": 4},
                              "line": {"color": "#C00000", "width": 1.5, "dash_type": "dash"}})
        chart.set_title({"name": f"S-curve: {label.split(' (')[0].lower()}", "name_font": {"size": 12}})
        chart.set_x_axis({"name": label, "num_format": numfmt, "major_gridlines": {"visible": True,
                                                                                   "line": {"color": "#E0E0E0"}}})
        chart.set_y_axis({"name": "Chance of at most this", "min": 0, "max": 1, "num_format": "0%"})
        chart.set_legend({"position": "bottom" if bcol is not None else "none"})
        chart.set_size({"width": 620, "height": 330})
        ws.insert_chart(1 + k * 17, len(heads) + 1, chart)


_TASK_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (to_frame column, header, format)
    ("name", "Name", "wrap"), ("milestone", "Milestone", "general"),
    ("duration_likely", "Likely duration (days)", "days"), ("duration_mean", "Simulated mean (days)", "days"),
    ("duration_sd", "Simulated sd (days)", "days"), ("planned_start", "Planned start (day)", "days"),
    ("planned_finish", "Planned finish (day)", "days"), ("finish_P10", "Finish P10 (day)", "days"),
    ("finish_P50", "Finish P50 (day)", "days"), ("finish_P80", "Finish P80 (day)", "days"),
    ("finish_P90", "Finish P90 (day)", "days"), ("criticality", "Criticality", "pct"),
    ("sensitivity", "Sensitivity", "ratio"), ("cruciality", "Cruciality", "ratio"), ("ssi", "SSI", "ratio"),
    ("merge_bias", "Merge bias (days)", "days"), ("on_planned_critical_path", "On the plan's critical path", "general"),
)


def _tasks_sheet(wb: Any, f: Mapping[str, Any], result: SimulationResult) -> None:
    p = result.project
    frame = result.to_frame()
    ws = wb.add_worksheet("Tasks")
    cols: list[tuple[str, str, str]] = [("id", "ID", "general"), *_TASK_COLUMNS]
    dated = p.start is not None
    if dated:
        at = [c[0] for c in cols].index("finish_P90") + 1
        cols[at:at] = [("planned_finish_date", "Planned finish date", "date_cell"),
                       ("finish_date_P50", "Finish P50 date", "date_cell"),
                       ("finish_date_P80", "Finish P80 date", "date_cell")]
    for i, (tid, row) in enumerate(frame.iterrows(), start=1):
        for j, (key, _, fmt) in enumerate(cols):
            if key == "id":
                ws.write_string(i, j, str(tid), f["general"])
            elif key.endswith("_date") or "_date_" in key:
                src = {"planned_finish_date": "planned_finish", "finish_date_P50": "finish_P50",
                       "finish_date_P80": "finish_P80"}[key]
                _date(ws, i, j, p.finish_date(float(row[src])), f[fmt])
            else:
                v = row[key]
                _write_value(ws, i, j, v.item() if hasattr(v, "item") else v, f[fmt])
    n = len(frame)
    ws.add_table(0, 0, max(n, 1), len(cols) - 1, {
        "name": "Tasks", "style": "Table Style Medium 2", "autofilter": True,
        "columns": [{"header": h, "header_format": f["header"]} for _, h, _ in cols]})
    ws.set_row(0, 32)
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 36)
    ws.set_column(2, len(cols) - 1, 12)
    ws.freeze_panes(1, 2)
    ws.write_string(n + 2, 0, "Days are working days from the project start (day 0). Criticality: share of runs in "
                    "which the task was on a critical path. Sensitivity: Spearman rank correlation of its duration "
                    "with the project's. Cruciality = criticality x sensitivity; SSI = criticality x task sd / "
                    "project sd.", f["note"])


def _drivers_sheet(wb: Any, f: Mapping[str, Any], result: SimulationResult) -> None:
    ws = wb.add_worksheet("Drivers")
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 36)
    ws.set_column(2, 3, 13)
    ws.write_string(0, 0, "What drives the finish date", f["title"])
    ws.write_string(1, 0, "Tasks ordered by how strongly their duration moves the project's finish (Spearman rank "
                    "correlation, -1 to +1).", f["note"])
    heads = ["Task", "Name", "Sensitivity", "Criticality"]
    for j, h in enumerate(heads):
        ws.write_string(3, j, h, f["header"])
    rows = result.tornado_rows(top=15)
    for i, r in enumerate(rows, start=4):
        ws.write_string(i, 0, str(r["id"]))
        ws.write_string(i, 1, str(r["name"]), f["general"])
        ws.write_number(i, 2, float(r["sensitivity"]), f["ratio"])
        ws.write_number(i, 3, float(r["criticality"]), f["pct"])
    last = 3 + len(rows)
    if rows:
        chart = wb.add_chart({"type": "bar"})
        chart.add_series({"name": "Sensitivity", "categories": ["Drivers", 4, 1, last, 1],
                          "values": ["Drivers", 4, 2, last, 2], "fill": {"color": "#4F81BD"}, "gap": 40})
        chart.set_title({"name": "Tornado: tasks that drive the finish", "name_font": {"size": 12}})
        chart.set_y_axis({"reverse": True, "label_position": "low"})       # the category axis of a bar chart
        chart.set_x_axis({"name": "Sensitivity (rank correlation with the finish)", "min": -1 if any(
            r["sensitivity"] < 0 for r in rows) else 0, "max": 1, "num_format": "0.0",
            "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        chart.set_legend({"none": True})
        chart.set_size({"width": 640, "height": 60 + 24 * len(rows)})
        ws.insert_chart(3, 5, chart)
    risks = result.risk_rows()
    if not risks:
        return
    top = max(last + 3, 3 + (60 + 24 * len(rows)) // 20 + 3)
    ws.write_string(top, 0, "Risks ranked by what each does to P80", f["title"])
    ws.write_string(top + 1, 0, "How much the project's P80 would drop if the risk alone were removed (same random "
                    "numbers).", f["note"])
    heads = ["Risk", "Title", "P80 delay (days)", "P80 cost"]
    for j, h in enumerate(heads):
        ws.write_string(top + 3, j, h, f["header"])
    for i, r in enumerate(risks, start=top + 4):
        ws.write_string(i, 0, str(r["id"]))
        ws.write_string(i, 1, str(r["title"] or ""), f["general"])
        _write_value(ws, i, 2, r["P80_delay_contribution"], f["days"])
        _write_value(ws, i, 3, r["P80_cost_contribution"], f["money"])
    first, end = top + 4, top + 3 + len(risks)
    if any(r["P80_delay_contribution"] == r["P80_delay_contribution"] for r in risks):
        chart = wb.add_chart({"type": "bar"})
        chart.add_series({"name": "P80 delay (days)", "categories": ["Drivers", first, 1, end, 1],
                          "values": ["Drivers", first, 2, end, 2], "fill": {"color": "#ED7D31"}, "gap": 40})
        chart.set_title({"name": "Risk ranking: P80 delay (working days)", "name_font": {"size": 12}})
        chart.set_y_axis({"reverse": True, "label_position": "low"})
        chart.set_x_axis({"num_format": "0", "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        chart.set_legend({"none": True})
        chart.set_size({"width": 640, "height": 60 + 24 * len(risks)})
        ws.insert_chart(top + 3, 5, chart)


def _iterations_sheet(wb: Any, f: Mapping[str, Any], result: SimulationResult) -> None:
    ws = wb.add_worksheet("Iterations")
    cur = result.project.currency
    for j, h in enumerate(("Iteration", "Duration (working days)", f"Cost{f' ({cur})' if cur else ''}")):
        ws.write_string(0, j, h, f["header"])
    ws.set_row(0, 32)
    ws.set_column(0, 2, 16)
    ws.freeze_panes(1, 0)
    write_row = ws.write_row
    for i, (d, c) in enumerate(zip(result.durations.tolist(), result.costs.tolist(), strict=True)):
        write_row(i + 1, 0, (i, d, c))
    ws.autofilter(0, 0, result.iterations, 2)
