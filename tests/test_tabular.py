"""CSV/TSV and Excel task lists (pmrisk.io.tabular) read through pmrisk.io.load.load_project."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pmrisk.errors import ProjectError
from pmrisk.io.load import load_project
from pmrisk.io.tabular import read_task_table

openpyxl = pytest.importorskip("openpyxl")


def write(tmp_path: Path, name: str, text: str, *, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ProjectError) as info:
        load_project(path)
    return str(info.value)


def fixed_value(dist) -> float:
    assert dist.kind == "fixed"
    return float(dist.value)


PLAN_CSV = """\
# name: CRM pilot
# start: 2027-02-01
# deadline: 2027-04-30
# budget: 250000
# currency: EUR
# workdays: mon, tue, wed, thu, fri
# holidays: 2027-03-26, 2027-03-29
# Exported from the planning sheet: 2027-01-15 10:30 (a plain comment, not a setting)
id,name,dist,min,likely,max,p10,p90,mean,sd,duration,depends_on,fixed cost,cost per day,milestone,tags,snet
REQ,Requirements,,10,15,30,,,,,,,20000,3000,,analysis; core,
VSEL,Vendor selection,lognormal,,,,10,30,,,,REQ SS+5,,1500,no,procurement,
ARCH,Architecture,triangular,5,8,14,,,,,,REQ; VSEL FS-2,,,,,
ENV,Environments,uniform,3,,8,,,,,,VSEL,40000,,,"platform, infra",2027-03-01
BUILD,Build,trigen,,25,,20,40,,,,ARCH; ENV,,4000,,build,
DATA,Data migration,,,,,,,30,6,,ARCH SS+3,,2500,,data,
TEST,Testing,pert,8,10,16,,,,,,BUILD FF-2; DATA,,2800,,,
TRAIN,Training,,,,,,,,,5,TEST SS,7500,,,change,
GOLIVE,Go-live,,,,,,,,,,TEST; TRAIN,,,yes,,
"""


# --------------------------------------------------------------------------------------------
# CSV: tasks, distributions, links, costs, settings
# --------------------------------------------------------------------------------------------


def test_csv_tasks_and_names(tmp_path):
    p = load_project(write(tmp_path, "plan.csv", PLAN_CSV))
    assert p.task_ids == ["REQ", "VSEL", "ARCH", "ENV", "BUILD", "DATA", "TEST", "TRAIN", "GOLIVE"]
    assert p.task("REQ").name == "Requirements"
    assert p.task("GOLIVE").name == "Go-live"
    assert p.source is not None and p.source.endswith("plan.csv")


def test_csv_distributions(tmp_path):
    path = write(tmp_path, "plan.csv", PLAN_CSV)
    p = load_project(path)
    kinds = {t.id: t.duration.kind for t in p.tasks}
    assert kinds == {"REQ": "pert", "VSEL": "lognormal", "ARCH": "triangular", "ENV": "uniform",
                     "BUILD": "trigen", "DATA": "normal", "TEST": "pert", "TRAIN": "fixed",
                     "GOLIVE": "fixed"}
    assert fixed_value(p.task("TRAIN").duration) == 5
    assert fixed_value(p.task("GOLIVE").duration) == 0
    # the parameters of the validated distributions
    specs = {t.id: t.duration.to_spec() for t in p.tasks}
    assert specs["REQ"] == {"dist": "pert", "min": 10, "likely": 15, "max": 30, "lambda": 4}
    assert specs["VSEL"] == {"dist": "lognormal", "p10": 10, "p90": 30}
    assert specs["ARCH"] == {"dist": "triangular", "min": 5, "likely": 8, "max": 14}
    assert specs["ENV"] == {"dist": "uniform", "min": 3, "max": 8}
    assert specs["BUILD"] == {"dist": "trigen", "p10": 20, "likely": 25, "p90": 40}
    assert specs["DATA"] == {"dist": "normal", "mean": 30, "sd": 6}
    assert p.task("REQ").duration.mean() == pytest.approx((10 + 4 * 15 + 30) / 6)
    assert p.task("ARCH").duration.mean() == pytest.approx((5 + 8 + 14) / 3)
    # the parameters handed to the distribution parser
    data, _ = read_task_table(path)
    spec = {t["id"]: t.get("duration") for t in data["tasks"]}
    assert spec["REQ"] == {"dist": "pert", "min": 10, "likely": 15, "max": 30}
    assert spec["VSEL"] == {"dist": "lognormal", "p10": 10, "p90": 30}
    assert spec["ARCH"] == {"dist": "triangular", "min": 5, "likely": 8, "max": 14}
    assert spec["ENV"] == {"dist": "uniform", "min": 3, "max": 8}
    assert spec["BUILD"] == {"dist": "trigen", "p10": 20, "likely": 25, "p90": 40}
    assert spec["DATA"] == {"dist": "normal", "mean": 30, "sd": 6}
    assert spec["TRAIN"] == 5
    assert "duration" not in data["tasks"][-1]          # the milestone


def test_csv_links(tmp_path):
    p = load_project(write(tmp_path, "plan.csv", PLAN_CSV))
    links = {(lk.pred, lk.succ): (lk.type, lk.lag) for lk in p.links}
    assert links == {
        ("REQ", "VSEL"): ("SS", 5.0),
        ("REQ", "ARCH"): ("FS", 0.0),
        ("VSEL", "ARCH"): ("FS", -2.0),
        ("VSEL", "ENV"): ("FS", 0.0),
        ("ARCH", "BUILD"): ("FS", 0.0),
        ("ENV", "BUILD"): ("FS", 0.0),
        ("ARCH", "DATA"): ("SS", 3.0),
        ("BUILD", "TEST"): ("FF", -2.0),
        ("DATA", "TEST"): ("FS", 0.0),
        ("TEST", "TRAIN"): ("SS", 0.0),
        ("TEST", "GOLIVE"): ("FS", 0.0),
        ("TRAIN", "GOLIVE"): ("FS", 0.0),
    }


def test_csv_costs_milestones_tags_constraints(tmp_path):
    p = load_project(write(tmp_path, "plan.csv", PLAN_CSV))
    req = p.task("REQ")
    assert fixed_value(req.fixed_cost) == 20000 and fixed_value(req.per_day_cost) == 3000
    assert fixed_value(p.task("ENV").fixed_cost) == 40000 and fixed_value(p.task("ENV").per_day_cost) == 0
    assert not p.task("ARCH").has_cost
    assert [t.id for t in p.tasks if t.milestone] == ["GOLIVE"]
    assert req.tags == ("analysis", "core")
    assert p.task("ENV").tags == ("platform", "infra")
    assert p.task("GOLIVE").tags == ()
    # 2027-03-01 is 20 working days after Monday 2027-02-01
    assert p.task("ENV").start_no_earlier_than == 20
    assert p.task("BUILD").start_no_earlier_than is None


def test_csv_project_settings_from_comment_lines(tmp_path):
    p = load_project(write(tmp_path, "plan.csv", PLAN_CSV))
    assert p.name == "CRM pilot"
    assert p.start == dt.date(2027, 2, 1)
    assert p.deadline_date == dt.date(2027, 4, 30)
    assert p.budget == 250000
    assert p.currency == "EUR"
    assert p.calendar.workdays == ("mon", "tue", "wed", "thu", "fri")
    assert p.calendar.holidays == (dt.date(2027, 3, 26), dt.date(2027, 3, 29))
    # 65 weekdays from Mon 2027-02-01 through Fri 2027-04-30, less the two Easter holidays
    assert p.deadline == 63


def test_csv_lines_map_and_task_lines(tmp_path):
    path = write(tmp_path, "plan.csv", PLAN_CSV)
    data, lines = read_task_table(path)
    assert data["pmrisk"] == 1
    assert lines[0] == 10 and lines[8] == 18          # 8 comment lines, header on line 9
    assert load_project(path).task("GOLIVE").line == 18


def test_name_defaults_to_file_stem_and_no_settings(tmp_path):
    p = load_project(write(tmp_path, "my-plan.csv", "id,duration\nA,5\nB,3\n"))
    assert p.name == "my-plan"
    assert p.start is None and p.deadline is None and p.budget is None
    assert [fixed_value(t.duration) for t in p.tasks] == [5, 3]
    _, lines = read_task_table(tmp_path / "my-plan.csv")
    assert lines == {0: 2, 1: 3}                        # header = line 1


def test_deadline_in_working_days(tmp_path):
    p = load_project(write(tmp_path, "p.csv", "# deadline: 45\n# budget: 1000.5\nid,duration\nA,5\n"))
    assert p.deadline == 45 and p.deadline_date is None
    assert p.budget == 1000.5


def test_header_aliases(tmp_path):
    text = ("Task ID;Task Name;Optimistic;Most Likely;Pessimistic;Predecessors;Fixed Cost;Daily Rate;"
            "Milestone;Labels;Not before;Comments\n"
            "A;Analysis;2;3.5;6;;1000;500;;x;3;first task\n"
            'B;Build;5;8;13;"A SS+1, A FF+2";;800;;;;\n'
            "M;Done;;;;B;;;Y;;;\n")
    p = load_project(write(tmp_path, "aliases.csv", text))
    a = p.task("A")
    assert a.name == "Analysis" and a.duration.kind == "pert"
    assert fixed_value(a.per_day_cost) == 500 and a.tags == ("x",)
    assert a.start_no_earlier_than == 3
    assert [(lk.type, lk.lag) for lk in p.task("B").predecessors] == [("SS", 1.0), ("FF", 2.0)]
    assert p.task("M").milestone
    data, _ = read_task_table(tmp_path / "aliases.csv")
    assert data["tasks"][0]["duration"] == {"dist": "pert", "min": 2, "likely": 3.5, "max": 6}
    assert data["tasks"][0]["notes"] == "first task"


@pytest.mark.parametrize("header", ["ID,Min (days),Likely (days),Max (days)",
                                    "task_id, MIN ,most_likely,  Max",
                                    "Activity ID,best,mode,worst"])
def test_header_matching_ignores_case_spaces_units(tmp_path, header):
    p = load_project(write(tmp_path, "h.csv", f"{header}\nA,1,2,4\n"))
    assert p.task("A").duration.kind == "pert"


def test_semicolon_tab_bom_and_crlf(tmp_path):
    semi = load_project(write(tmp_path, "semi.csv", "\ufeffid;min;likely;max;depends_on\r\nA;1;2;3;\r\n"
                                                     "B;2;3;5;A\r\n"))
    assert semi.task_ids == ["A", "B"] and semi.links[0].pred == "A"
    tsv = load_project(write(tmp_path, "tab.tsv", "id\tduration\tpredecessors\nA\t4\t\nB\t2\tA, A SS\n"))
    assert [(lk.type) for lk in tsv.links] == ["FS", "SS"]
    tab_csv = load_project(write(tmp_path, "tab.csv", "id\tname\tduration\nA\tAlpha, beta\t4\n"))
    assert tab_csv.task("A").name == "Alpha, beta"


def test_default_distribution_setting_and_pert_lambda(tmp_path):
    text = "# dist: triangular\nid,min,likely,max,dist,lambda\nA,1,2,4,,\nB,1,2,4,pert,3\n"
    path = write(tmp_path, "d.csv", text)
    p = load_project(path)
    assert p.task("A").duration.kind == "triangular"
    assert p.task("B").duration.kind == "pert"
    data, _ = read_task_table(path)
    assert data["tasks"][1]["duration"] == {"dist": "pert", "min": 1, "likely": 2, "max": 4, "lambda": 3}
    assert p.task("B").duration.to_spec()["lambda"] == 3


def test_duration_column_is_the_likely_value_of_a_range(tmp_path):
    path = write(tmp_path, "d.csv", "id,duration,min,max\nA,10,8,15\nB,4,,\n")
    data, _ = read_task_table(path)
    assert data["tasks"][0]["duration"] == {"dist": "pert", "min": 8, "likely": 10, "max": 15}
    assert data["tasks"][1]["duration"] == 4


def test_blank_and_commented_rows_are_skipped(tmp_path):
    text = "id,duration,depends_on\nA,3,\n,,\n\n# B,4,A\nC,2,A\n"
    path = write(tmp_path, "b.csv", text)
    p = load_project(path)
    assert p.task_ids == ["A", "C"]
    assert read_task_table(path)[1] == {0: 2, 1: 6}


def test_multiline_cell_keeps_line_numbers(tmp_path):
    path = write(tmp_path, "m.csv", 'id,name,duration\nA,"two\nlines",3\nB,b,x\n')
    assert read_task_table(write(tmp_path, "ok.csv", 'id,name,duration\nA,"two\nlines",3\nB,b,4\n'))[1] \
        == {0: 2, 1: 4}
    assert "line 4" in error_of(path)


def test_ids_ending_in_link_type_letters(tmp_path):
    # "PROCESS" ends in SS and "STAFF" in FF: a plain id must stay a plain finish-to-start link
    text = "id,duration,predecessors\nPROCESS,3,\nSTAFF,2,PROCESS\nTEST,1,STAFF; PROCESS SS+1\n"
    p = load_project(write(tmp_path, "ids.csv", text))
    assert [(lk.pred, lk.type, lk.lag) for lk in p.links] == [
        ("PROCESS", "FS", 0.0), ("STAFF", "FS", 0.0), ("PROCESS", "SS", 1.0)]


def test_numeric_ids(tmp_path):
    p = load_project(write(tmp_path, "n.csv", "id,duration,predecessors\n1,3,\n2,4,1\n3,1,1;2FS+2\n"))
    assert p.task_ids == ["1", "2", "3"]
    assert [(lk.pred, lk.succ, lk.lag) for lk in p.links] == [("1", "2", 0.0), ("1", "3", 0.0), ("2", "3", 2.0)]


def test_quoted_comment_lines_from_spreadsheet_programs(tmp_path):
    # as a spreadsheet program saves comment rows: quoted when they hold the separator, padded
    text = ('"# budget: 1000",,\n'
            "# name: Quoted,,\n"
            '"# holidays: 2027-01-06, 2027-01-07",,\n'
            "id,duration,tags\n"
            "A,1,t\n")
    p = load_project(write(tmp_path, "q.csv", text))
    assert p.budget == 1000 and p.name == "Quoted"
    assert p.calendar.holidays == (dt.date(2027, 1, 6), dt.date(2027, 1, 7))


# --------------------------------------------------------------------------------------------
# CSV errors: file, line, task, what and how
# --------------------------------------------------------------------------------------------


def test_unknown_column(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,name,duraton\nA,a,3\n"))
    assert "plan.csv" in msg and "line 1" in msg
    assert "unknown column 'duraton'" in msg
    assert "Did you mean 'duration'" in msg and "Known columns: id, name" in msg


def test_unknown_column_after_comment_lines_names_its_line(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "# budget: 5\nid,likely,maxx\nA,1,2\n"))
    assert "line 2" in msg and "'maxx'" in msg and "'max'" in msg


def test_bad_number_names_line_task_and_column(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,min,likely,max\nA,1,2,3\nB,2,3,ten\n"))
    assert "plan.csv, line 3 (task B), column 'max'" in msg
    assert "'ten' is not a number" in msg and "plain number" in msg


@pytest.mark.parametrize(("cell", "hint"), [("12,5", "12.5"), ("1,200,000", "1200000")])
def test_bad_number_hints(tmp_path, cell, hint):
    msg = error_of(write(tmp_path, "plan.csv", f'id,duration,cost\nA,3,"{cell}"\n'))
    assert "line 2" in msg and "column 'cost'" in msg and hint in msg


def test_unknown_predecessor_names_the_line(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,duration,depends_on\nREQ,3,\nBUILD,5,REQ; DESGN SS+2\n"))
    assert "plan.csv" in msg and "line 3" in msg
    assert "unknown predecessor 'DESGN'" in msg


def test_unreadable_predecessor(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,duration,depends_on\nA,3,\nB,5,A SS5\n"))
    assert "plan.csv, line 3, task B" in msg and "unknown predecessor 'A SS5'" in msg and "SS+5" in msg


def test_empty_id(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,name,duration\nA,a,3\n,b,4\n"))
    assert "plan.csv, line 3" in msg and "no id" in msg


def test_missing_likely(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,min,likely,max\nA,1,,3\n"))
    assert "plan.csv, line 2 (task A)" in msg
    assert "misses likely" in msg and "fill in 'likely'" in msg


def test_missing_max_without_column(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,min,likely\nA,1,2\n"))
    assert "line 2 (task A)" in msg and "misses max" in msg


def test_row_without_duration(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,min,likely,max\nA,1,2,3\nB,,,\n"))
    assert "line 3 (task B)" in msg and "no duration" in msg and "milestone" in msg


def test_range_and_fixed_duration_conflict(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,duration,min,likely,max\nA,4,1,2,3\n"))
    assert "line 2 (task A)" in msg and "both a fixed duration" in msg


def test_parameters_that_do_not_belong_to_the_distribution(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,dist,min,likely,max,p90\nA,uniform,1,2,3,\nB,pert,1,2,3,9\n"))
    assert "line 2 (task A)" in msg and "likely given but a uniform" in msg


def test_unknown_distribution(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,dist,min,likely,max\nA,trianglar,1,2,3\n"))
    assert "line 2 (task A), column 'dist'" in msg and "'triangular'" in msg


def test_missing_id_column(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "name,duration\nA,3\n"))
    assert "plan.csv, line 1" in msg and "no 'id' column" in msg


def test_missing_duration_columns(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,name,depends_on\nA,a,\n"))
    assert "plan.csv, line 1" in msg and "no duration column" in msg and "min, likely, max" in msg


def test_duplicate_columns(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,cost,fixed cost,duration\nA,1,2,3\n"))
    assert "line 1" in msg and "'cost' and 'fixed cost' both mean 'cost_fixed'" in msg


def test_extra_cells(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,duration\nA,3\nB,4,oops\n"))
    assert "line 3" in msg and "more cells than the header" in msg


def test_bad_milestone_flag(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,duration,milestone\nA,0,maybe\n"))
    assert "line 2 (task A), column 'milestone'" in msg and "yes or no" in msg


def test_bad_settings(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "# start: 1 Feb 2027\nid,duration\nA,3\n"))
    assert "plan.csv, line 1" in msg and "start" in msg and "YYYY-MM-DD" in msg
    msg = error_of(write(tmp_path, "plan.csv", "# name: x\n# deadlin: 2027-05-01\nid,duration\nA,3\n"))
    assert "line 2" in msg and "Did you mean 'deadline'" in msg
    msg = error_of(write(tmp_path, "plan.csv", "# holidays: 2027-01-06, Jan 7\nid,duration\nA,3\n"))
    assert "line 1" in msg and "'Jan'" in msg
    msg = error_of(write(tmp_path, "plan.csv", "# workdays: mon, tue, funday\nid,duration\nA,3\n"))
    assert "line 1" in msg and "funday" in msg
    msg = error_of(write(tmp_path, "plan.csv", "# budget: 1.2M\nid,duration\nA,3\n"))
    assert "line 1" in msg and "setting 'budget'" in msg


def test_duplicate_ids_name_both_lines(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,duration\nA,3\nB,2\nA,4\n"))
    assert "plan.csv" in msg and "line 2" in msg and "line 4" in msg


def test_not_utf8(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,name,duration\nA,Préparation,3\n", encoding="latin-1"))
    assert "plan.csv, line 2" in msg and "UTF-8" in msg


def test_empty_file(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "# just a comment\n\n"))
    assert "plan.csv" in msg and "header" in msg


def test_distribution_errors_name_the_line(tmp_path):
    msg = error_of(write(tmp_path, "plan.csv", "id,min,likely,max\nA,1,2,3\nB,5,2,3\n"))
    assert "plan.csv" in msg and "line 3" in msg and "B" in msg


# --------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------


def make_xlsx(path: Path, rows: list[list], *, sheet: str = "Tasks", project: list[list] | None = None,
              first: str | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws0 = wb.active
    if first is not None:
        ws0.title = first
        ws0.append(["not", "the", "task", "list"])
        ws = wb.create_sheet(sheet)
    else:
        ws0.title = sheet
        ws = ws0
    for r in rows:
        ws.append(r)
    if project is not None:
        ps = wb.create_sheet("Project")
        for r in project:
            ps.append(r)
    wb.save(path)
    return path


XLSX_ROWS = [
    ["ID", "Name", "Distribution", "Min", "Most likely", "Max", "P10", "P90", "Predecessors", "Cost",
     "Per day", "Milestone", "Tags", "SNET"],
    [1, "Requirements", None, 10, 15, 30, None, None, None, 20000, 3000, None, "analysis", None],
    [2, "Build", "triangular", 20, 30.5, 50, None, None, "1 SS+5", None, 4000, False, None,
     dt.datetime(2027, 3, 1)],
    [3, "Migration", "lognormal", None, None, None, 10, 30, "1 FF-2; 2", 5000, None, None, "data; etl", 4],
    [],
    [4, "Go-live", None, None, None, None, None, None, 3, None, None, True, None, None],
]
XLSX_PROJECT = [
    ["Key", "Value"],
    ["Name", "Excel project"],
    ["Start", dt.datetime(2027, 2, 1)],
    ["Deadline", dt.date(2027, 6, 30)],
    ["Budget", 750000],
    ["Currency", "EUR"],
    ["Holidays", dt.datetime(2027, 3, 26), dt.datetime(2027, 3, 29)],
    ["Holidays", "2027-05-06, 2027-05-17"],
    ["Workdays", "mon, tue, wed, thu"],
]


def test_xlsx_tasks_and_project_sheet(tmp_path):
    path = make_xlsx(tmp_path / "plan.xlsx", XLSX_ROWS, project=XLSX_PROJECT, first="Cover")
    p = load_project(path)
    assert p.task_ids == ["1", "2", "3", "4"]
    assert [t.name for t in p.tasks] == ["Requirements", "Build", "Migration", "Go-live"]
    assert [t.duration.kind for t in p.tasks] == ["pert", "triangular", "lognormal", "fixed"]
    assert [(lk.pred, lk.succ, lk.type, lk.lag) for lk in p.links] == [
        ("1", "2", "SS", 5.0), ("1", "3", "FF", -2.0), ("2", "3", "FS", 0.0), ("3", "4", "FS", 0.0)]
    assert fixed_value(p.task("1").fixed_cost) == 20000 and fixed_value(p.task("1").per_day_cost) == 3000
    assert fixed_value(p.task("3").fixed_cost) == 5000
    assert p.task("4").milestone and not p.task("2").milestone
    assert p.task("3").tags == ("data", "etl")
    assert p.task("3").start_no_earlier_than == 4
    assert p.task("2").start_no_earlier_than == 16        # Mon-Thu weeks: 2027-03-01 is working day 16
    assert [t.line for t in p.tasks] == [2, 3, 4, 6]
    assert p.name == "Excel project" and p.start == dt.date(2027, 2, 1)
    assert p.deadline_date == dt.date(2027, 6, 30) and p.budget == 750000 and p.currency == "EUR"
    assert p.calendar.workdays == ("mon", "tue", "wed", "thu")
    assert p.calendar.holidays == (dt.date(2027, 3, 26), dt.date(2027, 3, 29), dt.date(2027, 5, 6),
                                   dt.date(2027, 5, 17))
    data, lines = read_task_table(path)
    assert data["tasks"][1]["duration"] == {"dist": "triangular", "min": 20, "likely": 30.5, "max": 50}
    assert lines == {0: 2, 1: 3, 2: 4, 3: 6}


def test_xlsx_first_sheet_comment_rows_and_sheet_name_case(tmp_path):
    rows = [["# name: From comments"], ["# budget:", 1000], [], ["id", "duration", "depends on"],
            ["A", 3, None], ["B", 2.0, "A"]]
    p = load_project(make_xlsx(tmp_path / "first.xlsx", rows, sheet="Plan"))
    assert p.task_ids == ["A", "B"] and p.name == "From comments" and p.budget == 1000
    assert [t.line for t in p.tasks] == [5, 6]
    p2 = load_project(make_xlsx(tmp_path / "case.xlsm", [["id", "duration"], ["X", 1]], sheet="TASKS",
                                first="Readme"))
    assert p2.task_ids == ["X"] and p2.name == "case"


def test_xlsx_name_defaults_to_stem(tmp_path):
    p = load_project(make_xlsx(tmp_path / "roadmap.xlsx", [["id", "duration"], ["A", 1]]))
    assert p.name == "roadmap"


def test_xlsx_bad_number_names_sheet_row_and_column(tmp_path):
    rows = [["id", "min", "likely", "max"], ["A", 1, 2, 3], ["B", 1, "two", 3]]
    msg = error_of(make_xlsx(tmp_path / "plan.xlsx", rows))
    assert "plan.xlsx, sheet 'Tasks', row 3 (task B), column 'likely' (C)" in msg
    assert "'two' is not a number" in msg


def test_xlsx_date_in_number_column(tmp_path):
    rows = [["id", "duration"], ["A", dt.datetime(2027, 1, 1)]]
    msg = error_of(make_xlsx(tmp_path / "plan.xlsx", rows))
    assert "row 2 (task A), column 'duration' (B)" in msg and "not a number" in msg


def test_xlsx_errors(tmp_path):
    msg = error_of(make_xlsx(tmp_path / "u.xlsx", [["id", "duration", "owner"], ["A", 1, "me"]]))
    assert "u.xlsx, sheet 'Tasks', row 1" in msg and "unknown column 'owner'" in msg
    msg = error_of(make_xlsx(tmp_path / "e.xlsx", [["id", "duration"], ["A", 1], [None, 2]]))
    assert "e.xlsx, sheet 'Tasks', row 3" in msg and "no id" in msg
    msg = error_of(make_xlsx(tmp_path / "m.xlsx", [["id", "min", "likely", "max"], ["A", 1, None, 3]]))
    assert "row 2 (task A)" in msg and "likely" in msg
    msg = error_of(make_xlsx(tmp_path / "p.xlsx", [["id", "duration", "preds"], ["A", 1, None],
                                                   ["B", 1, "C"]]))
    assert "p.xlsx" in msg and "line 3" in msg and "unknown predecessor 'C'" in msg
    msg = error_of(make_xlsx(tmp_path / "s.xlsx", [["id", "duration"], ["A", 1]],
                             project=[["Budgett", 5]]))
    assert "s.xlsx, sheet 'Project', row 1" in msg and "Did you mean 'budget'" in msg


def with_cached_value(path: Path, cached: str) -> Path:
    """Store ``cached`` as the saved result of the workbook's formulas (openpyxl writes none)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"<v />", f"<v>{cached}</v>".encode())
    with zipfile.ZipFile(path, "w") as z:
        for name, blob in parts.items():
            z.writestr(name, blob)
    return path


def test_xlsx_formulas_are_never_evaluated(tmp_path):
    rows = [["id", "duration"], ["A", "=1+2"]]
    # the result Excel saved is read, whatever the formula says
    p = load_project(with_cached_value(make_xlsx(tmp_path / "cached.xlsx", rows), "7"))
    assert fixed_value(p.task("A").duration) == 7
    # a formula without a saved result is an error, not an empty cell
    msg = error_of(make_xlsx(tmp_path / "formula.xlsx", rows))
    assert "formula.xlsx, sheet 'Tasks', row 2" in msg and "B2" in msg and "=1+2" in msg
    assert "never evaluates formulas" in msg


def test_xlsx_not_a_workbook(tmp_path):
    msg = error_of(write(tmp_path, "broken.xlsx", "id,duration\nA,1\n"))
    assert "broken.xlsx" in msg and "Excel" in msg


def test_project_sheet_errors_name_the_project_sheet(tmp_path):
    import openpyxl

    from pmrisk.errors import ProjectError
    from pmrisk.io.load import load_project

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tasks"
    ws.append(["id", "duration"])
    ws.append(["A", 3])
    ps = wb.create_sheet("Project")
    ps.append(["name", "P"])
    ps.append(["budget", "lots"])
    f = tmp_path / "p.xlsx"
    wb.save(f)
    with pytest.raises(ProjectError, match=r"sheet 'Project', row 2"):
        load_project(f)
