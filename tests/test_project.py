"""The project model and calendar: validation messages, links, dates."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import make_project

from pmrisk.calendar import Calendar
from pmrisk.errors import CyclicDependencyError, ProjectError
from pmrisk.project import Project, parse_link_text


def test_calendar_finish_dates_follow_ms_project_convention():
    cal = Calendar()
    start = dt.date(2027, 1, 4)                       # a Monday
    assert cal.finish_date(start, 10) == dt.date(2027, 1, 15)
    assert cal.finish_date(start, 9.2) == dt.date(2027, 1, 15)
    assert cal.finish_date(start, 0) == start
    assert cal.start_date(start, 10) == dt.date(2027, 1, 18)


def test_calendar_with_holidays_and_custom_workweek():
    cal = Calendar(workdays=("mon", "tue", "wed", "thu", "fri", "sat"), holidays=(dt.date(2027, 1, 6),))
    start = dt.date(2027, 1, 4)
    # Mon 4, Tue 5, (Wed 6 holiday), Thu 7, Fri 8, Sat 9, (Sun 10), Mon 11
    assert cal.finish_date(start, 6) == dt.date(2027, 1, 11)
    assert cal.working_days_through(start, dt.date(2027, 1, 11)) == 6
    assert not cal.is_workday(dt.date(2027, 1, 10)) and cal.is_workday(dt.date(2027, 1, 9))


def test_start_on_a_weekend_rolls_forward_and_date_constraints():
    p = make_project([{"id": "A", "duration": 2, "start_no_earlier_than": "2027-01-13"}], start="2027-01-09",
                     deadline="2027-01-14")
    assert p.start == dt.date(2027, 1, 11)           # Saturday -> Monday
    assert p.tasks[0].start_no_earlier_than == 2     # Wednesday 13 is working day 2
    assert p.deadline == 4                            # Mon..Thu inclusive


def test_deadline_date_needs_a_start():
    with pytest.raises(ProjectError, match="no start date"):
        make_project([{"id": "A", "duration": 2}], deadline="2027-01-14")


def test_link_forms():
    p = make_project([{"id": "A", "duration": 2}, {"id": "PROCESS", "duration": 1},
                      {"id": "B", "duration": 3, "depends_on": "A SS+2; PROCESS"},
                      {"id": "C", "duration": 3, "depends_on": [{"task": "B", "type": "ff", "lag": -1}, "A"]}])
    links = [(lk.pred, lk.succ, lk.type, lk.lag) for lk in p.links]
    assert links == [("A", "B", "SS", 2.0), ("PROCESS", "B", "FS", 0.0), ("B", "C", "FF", -1.0),
                     ("A", "C", "FS", 0.0)]


@pytest.mark.parametrize("text,want", [("REQ", ("REQ", "FS", 0.0)), ("MIGR SS+5", ("MIGR", "SS", 5.0)),
                                       ("B FF-2d", ("B", "FF", -2.0)), ("STAFF", ("STAFF", "FS", 0.0)),
                                       ("X sf +1.5 days", ("X", "SF", 1.5))])
def test_parse_link_text(text, want):
    assert parse_link_text(text) == want


def test_cycle_names_every_task_on_it():
    with pytest.raises(CyclicDependencyError) as exc:
        make_project([{"id": "T3", "duration": 1, "depends_on": ["T9"]},
                      {"id": "T7", "duration": 1, "depends_on": ["T3"]},
                      {"id": "T9", "duration": 1, "depends_on": ["T7"]}, {"id": "Z", "duration": 1}])
    assert "Dependency cycle T3 -> T7 -> T9 -> T3" in str(exc.value)
    assert "Remove one of these links" in str(exc.value)


def test_self_link_is_a_cycle():
    with pytest.raises(CyclicDependencyError, match="A -> A"):
        make_project([{"id": "A", "duration": 1, "depends_on": ["A"]}])


def test_calibration_section_with_an_unknown_key_is_refused():
    data = {"tasks": [{"id": "A", "duration": 1}], "calibration": {"reference": "x.csv", "model_file": "m.json"}}
    with pytest.raises(ProjectError, match="calibration: unknown key 'model_file'"):
        Project.from_dict(data, source="p.yaml")


def test_milestone_rules_and_numeric_ids():
    p = make_project([{"id": 1, "duration": 3}, {"id": "M", "milestone": True, "depends_on": [1]}])
    assert p.task_ids == ["1", "M"] and p.tasks[1].duration.mean() == 0
    with pytest.raises(ProjectError, match="milestone has duration 0"):
        make_project([{"id": "M", "milestone": True, "duration": 4}])
    with pytest.raises(ProjectError, match="no duration"):
        make_project([{"id": "A"}])


def test_unknown_keys_are_named_with_a_suggestion():
    with pytest.raises(ProjectError, match="deadlin.*deadline"):
        Project.from_dict({"project": {"deadlin": 5}, "tasks": [{"id": "A", "duration": 1}]})
    with pytest.raises(ProjectError, match="per_dya.*per_day"):
        make_project([{"id": "A", "duration": 1, "cost": {"per_dya": 5}}])


def test_format_version_and_budget_checks():
    with pytest.raises(ProjectError, match="version"):
        Project.from_dict({"pmrisk": 2, "tasks": [{"id": "A", "duration": 1}]})
    with pytest.raises(ProjectError, match="budget"):
        make_project([{"id": "A", "duration": 1}], budget=-5)
