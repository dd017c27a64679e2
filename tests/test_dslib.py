"""Ghent DSLIB (ProTrack) workbooks: pmrisk.io.dslib on the shared projects and on workbooks built here."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pmrisk.engine.simulate import deterministic_plan
from pmrisk.errors import ProjectError
from pmrisk.io.dslib import PLAN_TOLERANCE_DAYS, is_dslib_workbook, read_dslib
from pmrisk.project import Project

openpyxl = pytest.importorskip("openpyxl")

# projects whose overview row agrees with the workbook (several calendars, units and sectors):
# C2011-07 IT (a 'manual - absolute' estimate), C2013-14 late start, C2015-10 IT far under budget,
# C2015-32 holidays, C2016-02 seven-day weeks with holidays, C2016-10 fractional days
SHARED = ["C2011-07", "C2013-14", "C2015-10", "C2015-32", "C2016-02", "C2016-10"]


@pytest.fixture(scope="module")
def dslib(shared_home: Path) -> Path:
    folder = shared_home / "dslib-real-projects"
    if not (folder / "projects").is_dir():
        pytest.skip(f"{folder} has no projects/ folder")
    return folder


@pytest.fixture(scope="module")
def overview(dslib: Path) -> dict[str, dict[str, str]]:
    with (dslib / "dslib_overview.csv").open(encoding="utf-8", newline="") as fh:
        return {r["code"]: r for r in csv.DictReader(fh)}


def workbook(folder: Path, code: str) -> Path:
    found = sorted((folder / "projects").glob(f"{code} *.xlsx"))
    assert found, f"no workbook {code} in {folder}"
    return found[0]


# --------------------------------------------------------------------------------------------
# Shared projects
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", SHARED)
def test_shared_workbook_reproduces_its_plan_and_actuals(dslib: Path, overview: dict, code: str) -> None:
    path = workbook(dslib, code)
    assert is_dslib_workbook(path)
    imp = read_dslib(path)
    assert imp.fmt == "dslib"
    project = Project.from_dict(imp.data, source=str(path))           # validates like any project file
    e, row = imp.extra, overview[code]
    assert len(project.tasks) == len(e["baseline"]) > 5
    assert e["has_risk_analysis"]
    assert any(t.duration.kind == "triangular" for t in project.tasks)
    # the baseline schedule (links + baseline starts) reproduces the planned duration
    check = e["plan_check"]
    assert check["matches"] and abs(check["difference"]) <= PLAN_TOLERANCE_DAYS
    base = {**imp.data, "tasks": [{**t, "duration": e["baseline"][t["id"]]["duration"]} for t in imp.data["tasks"]]}
    assert deterministic_plan(Project.from_dict(base))["duration"] == pytest.approx(check["computed_duration"])
    # the overview rounds the planned duration to whole days; its budget is the project row's total cost
    assert abs(e["planned_duration"] - float(row["planned_duration_days"])) <= 1
    assert e["planned_cost"] == pytest.approx(float(row["bac_eur"]), abs=1)
    assert check["cost_matches"] and check["computed_cost"] == pytest.approx(e["planned_cost"], rel=5e-3)
    # actuals of the last tracking period, as the overview reports them
    act = e["actuals"]
    assert act["complete"] and act["tracking_periods"] >= 2
    assert abs(act["finish"] - float(row["real_duration_days"])) <= 1
    assert act["cost"] == pytest.approx(float(row["real_cost_eur"]), abs=1)
    assert set(act["tasks"]) <= set(e["baseline"])
    assert sum(t["cost"] for t in act["tasks"].values()) == pytest.approx(act["cost"], rel=1e-3)


def test_patient_transport_details(dslib: Path) -> None:
    imp = read_dslib(workbook(dslib, "C2011-07"))
    tasks = {t["id"]: t for t in imp.data["tasks"]}
    assert imp.extra["hours_per_day"] == 8 and imp.data["project"]["start"] == dt.date(2010, 1, 1)
    assert imp.data["project"]["calendar"]["workdays"] == ["mon", "tue", "wed", "thu", "fri"]
    assert "50" not in tasks and "0" not in tasks                     # WBS groups and the project row
    # 'manual - absolute' 2h / 3h / 4h on a 2h activity: hours, in 8-hour days
    assert tasks["2"]["duration"] == {"dist": "triangular", "min": 0.25, "likely": 0.375, "max": 0.5}
    assert tasks["1"]["duration"] == {"dist": "triangular", "min": 0.4, "likely": 0.5, "max": 0.6}  # 80/100/120 %
    # '1FS+1w 1d': a week is five working days
    assert tasks["2"]["depends_on"] == [{"task": "1", "type": "FS", "lag": 6}]
    # Registering the technical requirements: 2 days of a coordinator (31.28/h) and the ICT committee (27.62/h)
    assert tasks["6"]["cost"] == {"per_day": pytest.approx(8 * (31.28 + 27.62))}
    assert "start_no_earlier_than" not in tasks["1"] and tasks["6"]["start_no_earlier_than"] > 0
    assert imp.extra["actuals"]["tasks"]["6"] == {**imp.extra["actuals"]["tasks"]["6"], "duration": 3,
                                                   "cost": pytest.approx(1413.6)}


def test_broken_baseline_is_noted(dslib: Path) -> None:
    imp = read_dslib(workbook(dslib, "C2019-06"))
    check = imp.extra["plan_check"]
    assert check["matches"] is False and check["difference"] == pytest.approx(156)
    assert check["broken_links"] > 0
    assert any("+156.00 days" in n and "break" in n for n in imp.notes)


def test_plain_task_list_is_not_dslib(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Tasks"
    wb.active.append(["id", "min", "likely", "max"])
    wb.save(tmp_path / "tasks.xlsx")
    (tmp_path / "text.xlsx").write_text("not a workbook")
    assert not is_dslib_workbook(tmp_path / "tasks.xlsx")
    assert not is_dslib_workbook(tmp_path / "text.xlsx")
    assert not is_dslib_workbook(tmp_path / "missing.xlsx")


# --------------------------------------------------------------------------------------------
# Workbooks built here
# --------------------------------------------------------------------------------------------

BASE_HEADER = ["ID", "Name", "WBS", "Predecessors", "Successors", "Baseline Start", "Baseline End", "Duration",
               "Resource Demand", "Resource Cost", "Fixed Cost", "Cost/Hour", "Variable Cost", "Total Cost"]
TP_HEADER = ["ID", "Name", "Baseline Start", "Baseline End", "Duration", "Resource Demand", "Resource Cost",
             "Fixed Cost", "Cost/Hour", "Variable Cost", "Total Cost", "Actual Start", "Actual Duration", "PAC", "PRC",
             "Remaining Duration", "PAC Dev", "PRC Dev", "Actual Cost", "Remaining Cost", "Percentage Completed"]


def at(day: int, hour: int = 8, month: int = 1) -> dt.datetime:
    return dt.datetime(2024, month, day, hour)


def build(tmp_path: Path, edit: Callable[[Any], None] | None = None) -> Path:
    """A small ProTrack-like workbook: four activities under a project row, Mon-Fri, 8 h a day from
    Monday 2024-01-08; activities 2 and 3 are levelled (start later than their links allow)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Baseline Schedule"
    ws.append(["General", None, None, "Relations", None, "Baseline"])
    ws.append(BASE_HEADER)
    for row in (
        [0, "Small project", "1", None, None, at(8), at(2, 8, 2), "19d", None, None, 0, None, None, 10740],
        [1, "Analysis", "1.1", None, "FS2+2d;SS3+1w", at(8), at(12, 17), "5d", "Dev", 2000, 500, 0, 0, 2500],
        [2, "Build", "1.2", "1FS+2d", "FS4", at(19), at(1, 17, 2), "10d", "Dev[2.00 #2]", 8000, 0, 0, 0, 8000],
        [3, "Docs", "1.3", "1SS+1w", "FF4-1d", at(18), at(22, 17), "3d", None, 0, 0, 10, 240, 240],
        [4, "Release", "1.4", "2FS;3FF-1d", None, at(2, 8, 2), at(2, 8, 2), "0", None, 0, 0, 0, 0, 0],
    ):
        ws.append(row)
    res = wb.create_sheet("Resources")
    res.append(["General"])
    res.append(["ID", "Name", "Type", "Availability", "Cost/Use", "Cost/Unit", "Assigned To", "Total Cost"])
    res.append([1, "Dev", "Renewable", "2 #persons", 0, 50, "1;2", 10000])
    risk = wb.create_sheet("Risk Analysis")
    risk.append(["General"])
    risk.append(["ID", "Name", "Duration", "Description", "Optimistic", "Most Probable", "Pessimistic"])
    risk.append([0, "Small project", "152h", None, None, None, None])
    risk.append([1, "Analysis", "40h", "standard - symmetric", 80, 100, 120])
    risk.append([2, "Build", "80h", "manual - absolute", 64, 80, 120])
    risk.append([3, "Docs", "24h", None, None, None, None])
    agenda = wb.create_sheet("Agenda")
    agenda.append(["Working Hours", None, None, "Working Days", None, None, "Holidays (Optional)"])
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    for h in range(24):
        worked = "Yes" if 8 <= h < 17 and h != 12 else "No"
        day = [days[h], "Yes" if h < 5 else "No"] if h < 7 else [None, None]
        agenda.append([f"{h}:00 - {h + 1}:00", worked, None, *day])
    tp = wb.create_sheet("Project Control - TP1")
    tp.append([None, "TP Status Date", at(31, 17), None, "TP Name", "31/01, 2024"])
    tp.append([])
    tp.append(["General", None, "Baseline"])
    tp.append(TP_HEADER)
    for aid, name, start, dur, cost in ((0, "Small project", None, "19d", 12000), (1, "Analysis", at(8), "6d", 3000),
                                        (2, "Build", at(18), "11d", 8800), (3, "Docs", at(18), "3d", 200),
                                        (4, "Release", at(31), "0", 0)):
        tp.append([aid, name, *[None] * 9, start, dur, *[None] * 5, cost, 0, 1])
    if edit is not None:
        edit(wb)
    path = tmp_path / "C9999-01 Small.xlsx"
    wb.save(path)
    return path


def test_built_workbook(tmp_path: Path) -> None:
    path = build(tmp_path)
    assert is_dslib_workbook(path)
    imp = read_dslib(path)
    tasks = {t["id"]: t for t in imp.data["tasks"]}
    assert list(tasks) == ["1", "2", "3", "4"]
    assert imp.data["project"] == {"name": "Small project", "currency": "EUR", "start": dt.date(2024, 1, 8),
                                   "budget": 10740, "calendar": {"workdays": ["mon", "tue", "wed", "thu", "fri"]}}
    assert tasks["1"]["duration"] == {"dist": "triangular", "min": 4, "likely": 5, "max": 6}
    assert tasks["2"]["duration"] == {"dist": "triangular", "min": 8, "likely": 10, "max": 15}
    assert tasks["3"]["duration"] == 3 and tasks["4"]["milestone"] is True
    assert tasks["2"]["depends_on"] == [{"task": "1", "type": "FS", "lag": 2}]
    assert tasks["3"]["depends_on"] == [{"task": "1", "type": "SS", "lag": 5}]
    assert tasks["4"]["depends_on"] == [{"task": "2", "type": "FS", "lag": 0}, {"task": "3", "type": "FF", "lag": -1}]
    assert [tasks[i].get("start_no_earlier_than") for i in "1234"] == [None, 9, 8, 19]
    assert tasks["1"]["cost"] == {"fixed": 500, "per_day": 400} and tasks["2"]["cost"] == {"per_day": 800}
    assert tasks["3"]["cost"] == {"per_day": 80}
    e = imp.extra
    assert e["planned_duration"] == 19 and e["planned_cost"] == 10740
    assert e["plan_check"] == {**e["plan_check"], "computed_duration": 19, "matches": True, "broken_links": 0,
                               "computed_cost": 10740, "cost_matches": True}
    assert e["most_likely_duration"] == 19
    act = e["actuals"]
    assert (act["duration"], act["cost"], act["finish"], act["complete"]) == (19, 12000, 19, True)
    assert act["tasks"]["2"] == {"duration": 11, "cost": 8800, "percent_complete": 100, "start": 8, "finish": 19}


def test_links_alone_are_shorter_than_the_plan(tmp_path: Path) -> None:
    """Without the baseline starts the links give 17 days, not 19: the starts are what reproduce the plan."""
    imp = read_dslib(build(tmp_path))
    free = {**imp.data, "tasks": [{k: v for k, v in t.items() if k != "start_no_earlier_than"}
                                  for t in imp.data["tasks"]]}
    free["tasks"] = [{**t, "duration": imp.extra["baseline"][t["id"]]["duration"]} for t in free["tasks"]]
    assert deterministic_plan(Project.from_dict(free))["duration"] == 17


def cell_setter(sheet: str, ref: str, value: Any) -> Callable[[Any], None]:
    def edit(wb: Any) -> None:
        wb[sheet][ref] = value
    return edit


@pytest.mark.parametrize(("edit", "expected"), [
    (cell_setter("Baseline Schedule", "H5", "2 weeks-ish"),
     ["sheet 'Baseline Schedule', row 5 (activity 2), column 'Duration' (H)", "'2 weeks-ish' is not a duration"]),
    (cell_setter("Baseline Schedule", "D5", "9FS"),
     ["row 5 (activity 2), column 'Predecessors' (D)", "predecessor 9 is not an ID"]),
    (cell_setter("Baseline Schedule", "D5", "1XY"),
     ["row 5 (activity 2), column 'Predecessors' (D)", "'1XY' cannot be read"]),
    (cell_setter("Baseline Schedule", "D5", "1FS+2q"),
     ["row 5 (activity 2)", "lag '2q'"]),
    (cell_setter("Baseline Schedule", "F6", "someday"),
     ["row 6 (activity 3), column 'Baseline Start' (F)", "'someday' is not a date"]),
    (cell_setter("Baseline Schedule", "K4", "lots"),
     ["row 4 (activity 1), column 'Fixed Cost' (K)", "'lots' is not an amount"]),
    (cell_setter("Baseline Schedule", "A6", 2),
     ["row 6 (activity 2), column 'ID' (A)", "ID 2 is used twice"]),
    (cell_setter("Baseline Schedule", "A6", None),
     ["row 6, column 'ID' (A)", "a name but no ID"]),
    (cell_setter("Baseline Schedule", "H2", "Length"),
     ["sheet 'Baseline Schedule'", "no header row with the columns 'ID' and 'Duration'"]),
    (cell_setter("Risk Analysis", "F4", "high"),
     ["sheet 'Risk Analysis', row 4 (activity 1), column 'Most Probable' (F)", "'high' is not a number"]),
    (cell_setter("Project Control - TP1", "M6", "soon"),
     ["sheet 'Project Control - TP1', row 6 (activity 1), column 'Actual Duration' (M)", "not a duration"]),
    (cell_setter("Agenda", "A10", "morning"),
     ["sheet 'Agenda', row 10", "not an hour slot"]),
    (cell_setter("Baseline Schedule", "D4", "4FS"),
     ["sheet 'Baseline Schedule'", "Dependency cycle"]),
])
def test_malformed_workbook(tmp_path: Path, edit: Callable[[Any], None], expected: list[str]) -> None:
    path = build(tmp_path, edit)
    with pytest.raises(ProjectError) as info:
        read_dslib(path)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message, message


def test_not_a_dslib_workbook(tmp_path: Path) -> None:
    def rename(wb: Any) -> None:
        wb["Baseline Schedule"].title = "Tasks"
    path = build(tmp_path, rename)
    assert not is_dslib_workbook(path)
    with pytest.raises(ProjectError, match="not a DSLIB/ProTrack workbook: it has no sheet 'Baseline Schedule'"):
        read_dslib(path)
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ProjectError, match="cannot be opened as an Excel workbook"):
        read_dslib(tmp_path / "broken.xlsx")


def test_notes_for_missing_sheets_and_odd_rows(tmp_path: Path) -> None:
    def strip(wb: Any) -> None:
        for name in ("Agenda", "Risk Analysis", "Resources", "Project Control - TP1"):
            del wb[name]
        ws = wb["Baseline Schedule"]
        ws.append([None] * 10 + [10740])                                      # a totals row
        ws.append([c.value for c in ws[7]])                                   # an exact copy of activity 4
        ws["I5"] = "Tester"                                                   # not on a Resources sheet
    imp = read_dslib(build(tmp_path, strip))
    text = " ".join(imp.notes)
    assert "No 'Agenda' sheet" in text and "No 'Risk Analysis' sheet" in text
    assert "1 rows repeat an earlier row" in text and "resource cost is not what the Resources sheet" in text
    assert imp.extra["actuals"] is None and not imp.extra["has_risk_analysis"]
    assert all(not isinstance(t["duration"], dict) for t in imp.data["tasks"])
    assert imp.extra["plan_check"]["matches"]
