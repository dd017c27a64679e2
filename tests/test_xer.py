"""Primavera P6 XER reader (pmrisk.io.xer): shared sample files and small files written here."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

import pmrisk
from pmrisk.engine.simulate import deterministic_plan
from pmrisk.errors import ProjectError
from pmrisk.io.xer import read_xer
from pmrisk.project import Project

# --------------------------------------------------------------------------------------------
# Writing XER files
# --------------------------------------------------------------------------------------------

HEADER = "ERMHDR\t8.2.0\t2027-01-01\tProject\tadmin\tAdmin\tdbxDatabaseNoName\tProject Management\tEUR"
EPOCH = dt.date(1899, 12, 30)


def node(name: str, attrs: str = "", *children: str) -> str:
    return f"(0||{name}({attrs})({''.join(children)}))"


def clndr(periods: list[tuple[str, str]], holidays: tuple[dt.date, ...] = (), weekdays=range(2, 7)) -> str:
    """P6 clndr_data: the given periods on the P6 weekdays (1 = Sunday), non-working exceptions."""
    days = [node(str(d), "", *(node(str(k), f"s|{s}|f|{f}") for k, (s, f) in enumerate(periods)))
            if d in weekdays else node(str(d)) for d in range(1, 8)]
    exc = [node(str(k), f"d|{(h - EPOCH).days}") for k, h in enumerate(holidays)]
    return node("CalendarData", "", node("DaysOfWeek", "", *days), node("Exceptions", "", *exc))


def write_xer(path: Path, tables: dict[str, tuple[list[str], list[list]]], *, header: str = HEADER,
              encoding: str = "cp1252") -> Path:
    lines = [header]
    for name, (fields, rows) in tables.items():
        lines += [f"%T\t{name}", "%F\t" + "\t".join(fields)]
        lines += ["%R\t" + "\t".join("" if v is None else str(v) for v in row) for row in rows]
    path.write_bytes(("\r\n".join([*lines, "%E"]) + "\r\n").encode(encoding))
    return path


PROJECT_F = ["proj_id", "proj_short_name", "clndr_id", "last_recalc_date", "plan_start_date", "plan_end_date"]
CAL_F = ["clndr_id", "default_flag", "clndr_name", "proj_id", "base_clndr_id", "clndr_type", "day_hr_cnt",
         "clndr_data"]
WBS_F = ["wbs_id", "proj_id", "proj_node_flag", "wbs_short_name", "wbs_name", "parent_wbs_id"]
TASK_F = ["task_id", "proj_id", "wbs_id", "clndr_id", "task_type", "status_code", "task_code", "task_name",
          "target_drtn_hr_cnt", "remain_drtn_hr_cnt", "act_start_date", "act_end_date", "early_end_date",
          "cstr_type", "cstr_date", "cstr_type2", "cstr_date2"]
PRED_F = ["task_pred_id", "task_id", "pred_task_id", "proj_id", "pred_proj_id", "pred_type", "lag_hr_cnt"]
HOLIDAY = dt.date(2027, 1, 13)         # a Wednesday
EIGHT = clndr([("08:00", "12:00"), ("13:00", "17:00")], (HOLIDAY,))
TEN = clndr([("07:00", "17:00")], (HOLIDAY,))


def task(tid, code, hours, *, typ="TT_Task", status="TK_NotStart", cal=1, remain=None, act=(None, None),
         early_end=None, cstr=(None, None), cstr2=(None, None), wbs=2):
    return [tid, 1, wbs, cal, typ, status, code, f"Activity {code}", hours, hours if remain is None else remain,
            act[0], act[1], early_end, cstr[0], cstr[1], cstr2[0], cstr2[1]]


# The network of the plan test. Early finishes are P6's dates, computed by hand on the project
# calendar (Mon-Fri, 08:00-17:00, holiday Wed 2027-01-13) from the data date Mon 2027-01-04:
# working day 0 = Jan 4 ... 4 = Jan 8, 5 = Jan 11, 6 = Jan 12, 7 = Jan 14, 8 = Jan 15, 9 = Jan 18, 10 = Jan 19.
TASKS = [
    task(1, "A", 40, early_end="2027-01-08 17:00"),                   # 0-5
    task(2, "B", 24, early_end="2027-01-18 17:00"),                   # A FS+16h (2 d): 7-10
    task(3, "C", 16, early_end="2027-01-06 17:00"),                   # A SS+8h: 1-3
    task(4, "D", 24, early_end="2027-01-19 17:00"),                   # B FF+8h: finish 11
    task(5, "E", 16, early_end="2027-01-11 17:00"),                   # C SF+40h: finish >= 1 + 5
    task(6, "G", 50, cal=2, early_end="2027-01-08 17:00"),            # 10-hour calendar: 5 d
    task(7, "H", 16, early_end="2027-01-15 17:00"),                   # G FS+20h (G's calendar: 2 d): 7-9
    task(8, "L", 0, typ="TT_LOE"),                                    # level of effort: dropped, bridged
    task(9, "K", 8, early_end="2027-01-08 17:00"),                    # via L: C FS+8h -> 4-5
    task(10, "W", 80, typ="TT_WBS"),                                  # WBS summary: dropped
    task(11, "P0", 32, status="TK_Complete", remain=0, act=("2026-12-28 08:00", "2026-12-31 17:00")),
    task(12, "Q", 16, early_end="2027-01-06 17:00"),                  # P0 FS+16h from Dec 31: 1-3
    task(13, "R", 80, status="TK_Active", remain=24, act=("2026-12-21 08:00", None),
         early_end="2027-01-06 17:00"),                               # 3 days left: 0-3
    task(14, "S", 8, early_end="2027-01-11 17:00"),                   # R SS+120h from Dec 21: 5-6
    task(15, "T", 8, early_end="2027-01-07 17:00", cstr=("CS_MSOA", "2027-01-07 00:00"),
         cstr2=("CS_MEOB", "2027-01-20 17:00")),                      # start on or after Jan 7: 3-4
    task(16, "U", 8, early_end="2027-01-04 17:00", cstr=("CS_MEOB", "2027-01-05 17:00")),
    task(17, "ST", 0, typ="TT_Mile", early_end="2027-01-04 08:00"),
    task(18, "M", 0, typ="TT_FinMile", early_end="2027-01-19 17:00"),
]
LINKS = [  # succ, pred, type, lag hours
    (2, 1, "PR_FS", 16), (3, 1, "PR_SS", 8), (4, 2, "PR_FF", 8), (5, 3, "PR_SF", 40), (7, 6, "PR_FS", 20),
    (8, 3, "PR_FS", 0), (8, 1, "PR_SS", 0), (9, 8, "PR_SS", 8), (18, 8, "PR_FF", 0),
    (12, 11, "PR_FS", 16), (14, 13, "PR_SS", 120), (11, 1, "PR_FS", 0),
    (18, 4, "PR_FF", 0), (18, 5, "PR_FS", 0), (18, 7, "PR_FS", 0), (18, 9, "PR_FS", 0),
]


def plan_tables(*, lag_option: str | None = None, links=LINKS, tasks=TASKS) -> dict:
    tables = {
        "PROJECT": (PROJECT_F, [[1, "DEMO", 1, "2027-01-04 00:00", "2027-01-04 00:00", None]]),
        "CALENDAR": (CAL_F, [[1, "Y", "Standard 8h", None, None, "CA_Base", 8, EIGHT],
                             [2, "N", "Ten hours", None, None, "CA_Base", 10, TEN]]),
        "PROJWBS": (WBS_F, [[1, 1, "Y", "DEMO", "Demo project", None], [2, 1, "N", "BUILD", "Build", 1]]),
        "TASK": (TASK_F, tasks),
        "TASKPRED": (PRED_F, [[k, s, p, 1, 1, t, lag] for k, (s, p, t, lag) in enumerate(links, 1)]),
    }
    if lag_option:
        tables["SCHEDOPTIONS"] = (["schedoptions_id", "proj_id", "sched_calendar_on_relationship_lag"],
                                  [[1, 1, lag_option]])
    return tables


@pytest.fixture
def plan_file(tmp_path):
    return write_xer(tmp_path / "plan.xer", plan_tables())


def by_id(imp) -> dict:
    return {t["id"]: t for t in imp.data["tasks"]}


def links_of(t) -> set:
    return {(d["task"], d["type"], d["lag"]) for d in t.get("depends_on", [])}


def error(path: Path, **kw) -> str:
    with pytest.raises(ProjectError) as info:
        read_xer(path, **kw)
    return str(info.value)


# --------------------------------------------------------------------------------------------
# Shared samples (MPXJ test data)
# --------------------------------------------------------------------------------------------


def raw_facts(path: Path) -> dict:
    """Counts read straight from the file text: TASK rows by type and status, TASKPRED rows by type."""
    table, fields, facts = None, [], {"TASK": Counter(), "status": Counter(), "TASKPRED": Counter()}
    for line in path.read_bytes().decode("cp1252").splitlines():
        tag, _, rest = line.partition("\t")
        if tag == "%T":
            table = rest.strip()
        elif tag == "%F":
            fields = rest.split("\t")
        elif tag == "%R" and table in ("TASK", "TASKPRED"):
            row = dict(zip(fields, rest.split("\t"), strict=False))
            if table == "TASK":
                facts["TASK"][row["task_type"]] += 1
                facts["status"][row["status_code"]] += 1
            else:
                facts["TASKPRED"][row["pred_type"]] += 1
    return facts


def samples(shared_home) -> list[Path]:
    files = sorted((shared_home / "mspdi-xer-samples").glob("*.xer"))
    assert files, "no .xer sample in the shared datasets"
    return files


def test_every_sample_reads_validates_and_simulates(shared_home):
    for path in samples(shared_home):
        imp = read_xer(path)
        assert imp.fmt == "xer"
        project = Project.from_dict(imp.data, source=str(path))
        facts = raw_facts(path)
        work = sum(n for typ, n in facts["TASK"].items() if typ not in ("TT_LOE", "TT_WBS"))
        assert len(project.tasks) == work, path.name
        assert sum(t.milestone for t in project.tasks) == facts["TASK"]["TT_Mile"] + facts["TASK"]["TT_FinMile"]
        assert len(project.links) <= sum(facts["TASKPRED"].values())
        assert Counter(imp.extra["status"].values())["complete"] == facts["status"]["TK_Complete"]
        result = pmrisk.simulate(project, iterations=200, rng=1)
        assert result.summary()["iterations"] == 200
        plan = deterministic_plan(project)
        if imp.extra["planned_duration"] is not None:   # P6's own early finish, from the file's dates
            assert plan["duration"] == pytest.approx(imp.extra["planned_duration"]), path.name


def test_percent_complete_sample(shared_home):
    """Not started: 800 h = 100 d; in progress: remaining hours (600, 200, 0, ...) over 8 h/day."""
    imp = read_xer(shared_home / "mspdi-xer-samples" / "percent-complete-8.4.xer")
    d = {t["id"]: t["duration"] for t in imp.data["tasks"]}
    assert (d["A1000"], d["A1010"], d["A1020"], d["A1030"], d["A1050"]) == (100, 75, 25, 0, 100)
    assert imp.data["project"]["start"] == dt.date(2015, 2, 24)
    assert imp.extra["planned_finish"] == "2015-07-13"
    project = Project.from_dict(imp.data)
    assert project.finish_date(deterministic_plan(project)["duration"]) == dt.date(2015, 7, 13)
    assert any(n.startswith("11 activities have a fixed duration") for n in imp.notes)   # A1030: 0 h left


def test_resource_rates_sample_costs(shared_home):
    """Five labour assignments, remaining cost 240 + 480 + 1440 + 1680 + 23760 = 27600 over 30 days."""
    imp = read_xer(shared_home / "mspdi-xer-samples" / "resource-rates-test.xer")
    (t,) = imp.data["tasks"]
    assert t["duration"] == 30 and t["cost"] == {"fixed": 0, "per_day": 920}
    assert deterministic_plan(Project.from_dict(imp.data))["cost"] == pytest.approx(27600)


def test_completed_sample_and_its_calendar(shared_home):
    imp = read_xer(shared_home / "mspdi-xer-samples" / "PredecessorCalendar.xer")
    assert imp.data["tasks"][0]["duration"] == 0
    assert imp.extra["lag_calendar"] == "predecessor"
    assert imp.extra["planned_duration"] == 0
    cal = imp.data["project"]["calendar"]
    assert dt.date(2019, 7, 4) in cal["holidays"] and dt.date(2019, 12, 25) in cal["holidays"]  # Excel 43650, ...


# --------------------------------------------------------------------------------------------
# Hand-written files
# --------------------------------------------------------------------------------------------


def test_plan_equals_hand_computed_p6_dates(plan_file):
    imp = read_xer(plan_file)
    project = Project.from_dict(imp.data)
    plan = deterministic_plan(project)
    rows = {r[6]: r for r in TASKS}
    for tid, finish in plan["finish"].items():
        p6 = rows[tid][12]
        if p6 is None:        # the completed activity
            continue
        assert project.finish_date(finish) == dt.date.fromisoformat(p6[:10]), tid
        assert imp.extra["planned_finish_days"][tid] == pytest.approx(finish), tid
    assert plan["duration"] == 11 == imp.extra["planned_duration"]
    assert project.finish_date(plan["duration"]) == dt.date(2027, 1, 19)
    assert plan["start"]["B"] == 7 and plan["start"]["S"] == 5 and plan["start"]["Q"] == 1
    assert pmrisk.simulate(project, iterations=200, rng=1).summary()["duration"]["P50"] == 11


def test_every_link_type_and_lag_in_working_days(plan_file):
    t = by_id(read_xer(plan_file))
    assert links_of(t["B"]) == {("A", "FS", 2)}
    assert links_of(t["C"]) == {("A", "SS", 1)}
    assert links_of(t["D"]) == {("B", "FF", 1)}
    assert links_of(t["E"]) == {("C", "SF", 5)}
    assert t["A"]["duration"] == 5 and t["G"]["duration"] == 5        # 40 h at 8 h/day, 50 h at 10 h/day


@pytest.mark.parametrize(("option", "lag"), [(None, 2), ("rcal_Predecessor", 2), ("rcal_Successor", 2.5),
                                             ("rcal_ProjDefault", 2.5), ("rcal_24Hour", round(20 / 24 * 5 / 7, 6))])
def test_lag_calendar_option_with_a_ten_hour_calendar(tmp_path, option, lag):
    """G (10 h/day) -FS 20 h-> H (8 h/day): P6 converts the lag with the calendar its option names."""
    imp = read_xer(write_xer(tmp_path / "lag.xer", plan_tables(lag_option=option)))
    assert links_of(by_id(imp)["H"]) == {("G", "FS", lag)}
    assert any("Lags converted" in n for n in imp.notes)
    assert any("Ten hours" in n and "G" in n for n in imp.notes)       # G is on another calendar


def test_level_of_effort_and_wbs_summary_dropped_and_bridged(plan_file):
    imp = read_xer(plan_file)
    t = by_id(imp)
    assert "L" not in t and "W" not in t
    assert imp.extra["dropped"] == {"L": "level-of-effort", "W": "WBS-summary"}
    # C -FS-> L(start) -SS+8h-> K and A -SS-> L(start) -SS+8h-> K; L -FF-> M meets L's finish: left out
    assert links_of(t["K"]) == {("C", "FS", 1), ("A", "SS", 1)}
    assert not any(d["task"] == "L" for d in t["M"]["depends_on"])
    notes = " ".join(imp.notes)
    assert "level-of-effort activity (L)" in notes and "WBS-summary activity (W)" in notes
    assert "2 predecessor-successor link(s) made" in notes and "1 link(s)" in notes


def test_links_bridged_through_a_chain_of_dropped_activities(tmp_path):
    tasks = [task(1, "P", 8), task(2, "L1", 0, typ="TT_LOE"), task(3, "L2", 0, typ="TT_WBS"), task(4, "S", 8)]
    links = [(2, 1, "PR_FF", 8), (3, 2, "PR_FS", 8), (4, 3, "PR_SS", 8)]
    imp = read_xer(write_xer(tmp_path / "chain.xer", plan_tables(tasks=tasks, links=links)))
    assert links_of(by_id(imp)["S"]) == {("P", "FS", 3)}     # P finish -> L1 finish -> L2 start -> S start


def test_activity_codes_and_data_date_at_the_end_of_a_day(tmp_path):
    tables = plan_tables(tasks=[task(1, "A", 8)], links=[])
    tables["PROJECT"][1][0][3] = "2027-01-08 17:00"                # Friday evening: day 0 is Monday
    tables["ACTVTYPE"] = (["actv_code_type_id", "actv_code_type", "proj_id"], [[5, "Phase", 1]])
    tables["ACTVCODE"] = (["actv_code_id", "actv_code_type_id", "short_name", "actv_code_name"],
                          [[50, 5, "DES", "Design"]])
    tables["TASKACTV"] = (["task_id", "actv_code_type_id", "actv_code_id", "proj_id"], [[1, 5, 50, 1]])
    imp = read_xer(write_xer(tmp_path / "codes.xer", tables))
    assert by_id(imp)["A"]["tags"] == ["DEMO", "DEMO.BUILD", "Phase:DES"]
    assert imp.extra["activity_codes"] == {"A": {"Phase": "DES"}}
    assert imp.data["project"]["start"] == dt.date(2027, 1, 11)


def test_completed_and_in_progress_activities(plan_file):
    imp = read_xer(plan_file)
    t = by_id(imp)
    assert t["P0"]["duration"] == 0 and "depends_on" not in t["P0"]      # link into completed work dropped
    assert t["R"]["duration"] == 3                                        # 24 h remaining
    assert links_of(t["Q"]) == {("P0", "FS", 1)}   # 2 d lag from Dec 31: one of them (Jan 1) already passed
    assert links_of(t["S"]) == {("R", "SS", 5)}    # 15 d lag from Dec 21: 10 passed before the data date
    assert imp.extra["status"]["P0"] == "complete" and imp.extra["status"]["R"] == "in progress"
    assert imp.extra["actual_finish"] == {"P0": "2026-12-31T17:00"}
    assert imp.data["project"]["start"] == dt.date(2027, 1, 4)
    assert any("Completed activities (1)" in n and "(R)" in n for n in imp.notes)


def test_constraints(plan_file):
    imp = read_xer(plan_file)
    t = by_id(imp)
    assert t["T"]["start_no_earlier_than"] == 3 and "start_no_earlier_than" not in t["U"]
    note = next(n for n in imp.notes if "CS_MEOB" in n)
    assert "not honoured" in note and "T" in note and "U" in note


def test_tags_calendar_and_project(plan_file):
    imp = read_xer(plan_file)
    assert by_id(imp)["A"]["tags"] == ["DEMO", "DEMO.BUILD"]
    assert imp.extra["wbs"]["A"] == "DEMO.BUILD"
    proj = imp.data["project"]
    assert proj["name"] == "Demo project" and proj["currency"] == "EUR"
    assert proj["calendar"] == {"workdays": ["mon", "tue", "wed", "thu", "fri"], "holidays": [HOLIDAY]}
    assert imp.extra["hours_per_day"] == {"Standard 8h": 8, "Ten hours": 10}


def test_project_calendar_inherits_from_its_base_calendar(tmp_path):
    tables = plan_tables(tasks=[task(1, "A", 8, cal=3)], links=[])
    tables["PROJECT"][1][0][2] = 3
    own = node("CalendarData", "", node("Exceptions", "", node("0", f"d|{(dt.date(2027, 1, 5) - EPOCH).days}")))
    tables["CALENDAR"][1].append([3, "N", "Project", 1, 1, "CA_Project", 8, own])
    cal = read_xer(write_xer(tmp_path / "base.xer", tables)).data["project"]["calendar"]
    assert cal == {"workdays": ["mon", "tue", "wed", "thu", "fri"], "holidays": [dt.date(2027, 1, 5), HOLIDAY]}


def test_costs_from_assignments_and_expenses(tmp_path):
    tables = plan_tables()
    tables["RSRC"] = (["rsrc_id", "rsrc_type"], [[1, "RT_Labor"], [2, "RT_Mat"]])
    tables["TASKRSRC"] = (["taskrsrc_id", "task_id", "proj_id", "rsrc_id", "target_cost", "act_reg_cost",
                           "act_ot_cost", "remain_cost"],
                          [[1, 13, 1, 1, 1000, 500, 0, 300],        # R: 500 spent, 300 over 3 days left
                           [2, 1, 1, 2, 700, 0, 0, 700],            # A: material, fixed
                           [3, 1, 1, 1, 400, 0, 0, 400]])           # A: labour over 5 days
    tables["PROJCOST"] = (["cost_item_id", "task_id", "proj_id", "target_cost", "act_cost", "remain_cost"],
                          [[1, 2, 1, 250, 0, 250]])
    imp = read_xer(write_xer(tmp_path / "cost.xer", tables))
    t = by_id(imp)
    assert t["R"]["cost"] == {"fixed": 500, "per_day": 100}
    assert t["A"]["cost"] == {"fixed": 700, "per_day": 80}
    assert t["B"]["cost"] == {"fixed": 250, "per_day": 0}
    assert deterministic_plan(Project.from_dict(imp.data))["cost"] == pytest.approx(500 + 300 + 700 + 400 + 250)


def test_ranges_from_udfs_and_template(tmp_path):
    tables = plan_tables()
    tables["UDFTYPE"] = (["udf_type_id", "table_name", "udf_type_name", "udf_type_label", "logical_data_type"],
                         [[1, "TASK", "user_field_1", "Min Dur", "FT_FLOAT_2_DECIMALS"],
                          [2, "TASK", "user_field_2", "ML Dur", "FT_FLOAT_2_DECIMALS"],
                          [3, "TASK", "user_field_3", "Max Dur", "FT_FLOAT_2_DECIMALS"]])
    tables["UDFVALUE"] = (["udf_type_id", "fk_id", "proj_id", "udf_date", "udf_number", "udf_text"],
                          [[1, 1, 1, None, 4, None], [2, 1, 1, None, 5, None], [3, 1, 1, None, 8, None],
                           [1, 13, 1, None, 8, None], [2, 13, 1, None, 10, None], [3, 13, 1, None, 15, None]])
    path = write_xer(tmp_path / "udf.xer", tables)
    imp = read_xer(path, ranges=("Min Dur", "ML Dur", "Max Dur"))
    t = by_id(imp)
    assert t["A"]["duration"] == {"dist": "triangular", "min": 4, "likely": 5, "max": 8}
    # in progress: the range scaled by remaining / planned (3 / 10)
    assert t["R"]["duration"] == {"dist": "triangular", "min": 2.4, "likely": 3, "max": 4.5}
    assert t["B"]["duration"] == 3 and any(n.startswith("11 activities have a fixed duration") for n in imp.notes)
    both = by_id(read_xer(path, ranges={"min": "user_field_1", "likely": None, "max": "Max Dur"},
                          template=(-0.1, 0.25)))
    assert both["A"]["duration"] == {"dist": "triangular", "min": 4, "likely": 5, "max": 8}
    assert both["B"]["duration"] == {"dist": "triangular", "min": 2.7, "likely": 3, "max": 3.75}
    by_tag = by_id(read_xer(path, template={"G": (0, 0.5), "*": (-0.2, 0.2)}))
    assert by_tag["G"]["duration"]["max"] == 7.5 and by_tag["A"]["duration"]["min"] == 4
    Project.from_dict(read_xer(path, template=(-0.1, 0.25)).data)
    assert "UDFs are: ML Dur, Max Dur, Min Dur" in error(path, ranges=("Lowest", "ML Dur", "Max Dur"))
    assert "template" in error(path, template=(0.1, 0.2))


def test_several_projects(tmp_path):
    tables = plan_tables()
    tables["PROJECT"][1].append([2, "OTHER", 1, "2027-01-04 00:00", None, "2027-03-31 17:00"])
    tables["TASK"] = (TASK_F, [*TASKS, [99, 2, None, 1, "TT_Task", "TK_NotStart", "X1", "Other", 16, 16,
                                       None, None, None, None, None, None, None]])
    tables["TASKPRED"][1].append([99, 99, 1, 2, 1, "PR_FS", 0])               # a link between the projects
    path = write_xer(tmp_path / "two.xer", tables)
    msg = error(path)
    assert "2 projects" in msg and "DEMO (proj_id 1)" in msg and "OTHER (proj_id 2)" in msg
    other = read_xer(path, project="OTHER")
    assert [t["id"] for t in other.data["tasks"]] == ["X1"] and "depends_on" not in other.data["tasks"][0]
    assert other.data["project"]["deadline"] == dt.date(2027, 3, 31)
    assert any("other projects" in n for n in other.notes)
    assert len(read_xer(path, project=1).data["tasks"]) == 16
    assert "no project 'NOPE'" in error(path, project="NOPE")


def test_encodings(tmp_path):
    tables = plan_tables()
    tables["TASK"] = (TASK_F, [task(1, "A", 8), task(2, "B", 8)])
    tables["TASK"][1][1][7] = "Café – test"
    tables["TASKPRED"] = (PRED_F, [])
    assert by_id(read_xer(write_xer(tmp_path / "w.xer", tables)))["B"]["name"] == "Café – test"
    assert by_id(read_xer(write_xer(tmp_path / "u.xer", tables, encoding="utf-8")))["B"]["name"] == "Café – test"
    bad = tmp_path / "bad.xer"
    bad.write_bytes(write_xer(tmp_path / "x.xer", tables).read_bytes().replace("é".encode("cp1252"), b"\x81"))
    msg = error(bad)
    assert "byte 0x81" in msg and "line " in msg and "encoding=" in msg
    assert by_id(read_xer(bad, encoding="latin-1"))["B"]["name"] == "Caf\x81 \x96 test"


# --------------------------------------------------------------------------------------------
# Malformed files
# --------------------------------------------------------------------------------------------


def lines_of(path: Path) -> list[str]:
    return path.read_bytes().decode("cp1252").split("\r\n")


def row_index(lines: list[str], table: str, first: object) -> int:
    """Index in ``lines`` of the row of ``table`` whose first value is ``first``."""
    k = lines.index(f"%T\t{table}")
    return next(i for i in range(k, len(lines)) if lines[i].startswith(f"%R\t{first}\t"))


def rewrite(path: Path, lines: list[str]) -> Path:
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    return path


def test_missing_field_list(plan_file):
    lines = lines_of(plan_file)
    k = lines.index("%T\tTASK")
    del lines[k + 1]
    msg = error(rewrite(plan_file, lines))
    assert "table TASK" in msg and f"line {k + 2}" in msg and "%F" in msg


def test_wrong_field_count(plan_file):
    lines = lines_of(plan_file)
    k = row_index(lines, "TASK", 3)
    lines[k] += "\textra\tvalues"
    msg = error(rewrite(plan_file, lines))
    assert "table TASK" in msg and f"line {k + 1}" in msg and f"{len(TASK_F) + 2} values" in msg


def test_short_rows_are_padded(plan_file):
    """P6 leaves out trailing empty values; the missing fields read as empty."""
    lines = lines_of(plan_file)
    k = row_index(lines, "TASK", 1)
    lines[k] = "\t".join(lines[k].split("\t")[:14])
    assert by_id(read_xer(rewrite(plan_file, lines)))["A"]["duration"] == 5


def test_unknown_predecessor(tmp_path):
    path = write_xer(tmp_path / "p.xer", plan_tables(links=[*LINKS, (2, 777, "PR_FS", 0)]))
    msg = error(path)
    k = row_index(lines_of(path), "TASKPRED", len(LINKS) + 1)
    assert f"table TASKPRED, line {k + 1}" in msg and "predecessor task_id '777'" in msg


def test_other_malformed_files(tmp_path, plan_file):
    assert "not a Primavera P6 XER" in error(rewrite(tmp_path / "a.xer", ["id,name", "A,x"]))
    assert "empty" in error(rewrite(tmp_path / "e.xer", ["", ""]))
    assert "no such file" in error(tmp_path / "missing.xer")
    lines = lines_of(plan_file)
    k = row_index(lines, "TASK", 2)
    bad = lines[k].split("\t")
    bad[TASK_F.index("target_drtn_hr_cnt") + 1] = bad[TASK_F.index("remain_drtn_hr_cnt") + 1] = "2 days"
    msg = error(rewrite(tmp_path / "n.xer", [*lines[:k], "\t".join(bad), *lines[k + 1:]]))
    assert f"table TASK, line {k + 1}" in msg and "target_drtn_hr_cnt" in msg and "not a number" in msg
    msg = error(rewrite(tmp_path / "f.xer", [HEADER, "%F\ttask_id", "%R\t1"]))
    assert "line 2" in msg and "before any %T" in msg
    msg = error(rewrite(tmp_path / "s.xer", [*lines[:k], "garbage line", *lines[k:]]))
    assert f"line {k + 1}" in msg and "unexpected line" in msg
    tables = plan_tables(links=[(2, 1, "PR_XX", 0)])
    assert "relationship type 'PR_XX'" in error(write_xer(tmp_path / "t.xer", tables))
    no_end = rewrite(tmp_path / "cut.xer", [line for line in lines if line != "%E"])
    assert any("no %E" in n for n in read_xer(no_end).notes)
