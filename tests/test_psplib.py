"""PSPLIB .sm networks: pmrisk.io.psplib on the shared j30/j60/j120 instances and on files written here."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from pmrisk.engine.simulate import deterministic_plan
from pmrisk.errors import ProjectError
from pmrisk.io.psplib import list_instances, read_psplib
from pmrisk.project import Project

SMALL = """************************************************************************
file with basedata            : tiny.bas
initial value random generator: 1
************************************************************************
projects                      :  1
jobs (incl. supersource/sink ):  6
horizon                       :  40
RESOURCES
  - renewable                 :  2   R
  - nonrenewable              :  0   N
  - doubly constrained        :  0   D
************************************************************************
PROJECT INFORMATION:
pronr.  #jobs rel.date duedate tardcost  MPM-Time
    1      4      0       12        3       12
************************************************************************
PRECEDENCE RELATIONS:
jobnr.    #modes  #successors   successors
   1        1          2           2   3
   2        1          1           4
   3        1          2           4   5
   4        1          1           6
   5        1          1           6
   6        1          0
************************************************************************
REQUESTS/DURATIONS:
jobnr. mode duration  R 1  R 2
------------------------------------------------------------------------
  1      1     0       0    0
  2      1     3       2    0
  3      1     5       0    3
  4      1     7       4    1
  5      1     2       1    1
  6      1     0       0    0
************************************************************************
RESOURCEAVAILABILITIES:
  R 1  R 2
    4    3
************************************************************************
"""


# --------------------------------------------------------------------------------------------
# An independent reading of the raw file and an independent longest path (the test's oracle)
# --------------------------------------------------------------------------------------------


def raw_network(path: Path) -> tuple[dict[int, list[int]], dict[int, int], int]:
    """Successors, durations and MPM-Time, read straight from the text (single-mode files)."""
    lines = path.read_text().splitlines()
    succ: dict[int, list[int]] = {}
    dur: dict[int, int] = {}
    mpm = -1
    for i, line in enumerate(lines):
        if line.startswith("pronr."):
            mpm = int(lines[i + 1].split()[5])
        if line.startswith("PRECEDENCE RELATIONS:"):
            for row in lines[i + 2:]:
                if row.startswith("*"):
                    break
                nums = [int(x) for x in row.split()]
                succ[nums[0]] = nums[3:]
        if line.startswith("REQUESTS/DURATIONS:"):
            for row in lines[i + 3:]:
                if row.startswith("*"):
                    break
                nums = [int(x) for x in row.split()]
                dur[nums[0]] = nums[2]
    return succ, dur, mpm


def longest_path(succ: dict[int, list[int]], dur: dict[int, int]) -> int:
    @functools.cache
    def tail(j: int) -> int:          # longest path from the start of j to the end of the project
        return dur[j] + max((tail(s) for s in succ[j]), default=0)
    return max(tail(j) for j in succ)


@pytest.fixture(scope="module")
def psplib(shared_home: Path) -> Path:
    folder = shared_home / "psplib"
    if not folder.is_dir():
        pytest.skip(f"{folder} does not exist")
    return folder


# j30 and j60: 480 instances each, j120: 600; a spread of them (the parameter classes differ by name)
PICKS = [0, 1, 57, 133, 250, 479]


@pytest.mark.parametrize("folder", ["j30.sm", "j60.sm", "j120.sm"])
def test_deterministic_plan_reproduces_the_critical_path(psplib: Path, folder: str) -> None:
    names = list_instances(psplib / folder)
    assert len(names) == (600 if folder == "j120.sm" else 480)
    size = int(folder[1:-3]) + 2
    for k in PICKS:
        imp = read_psplib(psplib / folder, instance=k)
        file = Path(imp.extra["source"])
        assert file.stem == names[k] == imp.extra["instance"]
        succ, dur, mpm = raw_network(file)
        expected = longest_path(succ, dur)
        assert expected == mpm                                        # the file's own MPM-Time agrees
        plan = deterministic_plan(Project.from_dict(imp.data, source=str(file)))
        assert plan["duration"] == expected == imp.extra["critical_path_length"]
        assert imp.extra["jobs"] == len(imp.data["tasks"]) == size
        assert imp.extra["lower_bound"] >= expected
        assert imp.extra["best_known_makespan"] >= imp.extra.get("best_lower_bound", 0) >= 0
        assert imp.extra["best_known_makespan"] >= imp.extra["lower_bound"]
        tasks = imp.data["tasks"]
        assert tasks[0]["milestone"] and tasks[0]["name"] == "source" and "depends_on" not in tasks[0]
        assert tasks[-1]["milestone"] and tasks[-1]["name"] == "sink"
        links = sum(len(t.get("depends_on", [])) for t in tasks)
        assert links == sum(len(s) for s in succ.values())


def test_instance_selection(psplib: Path) -> None:
    folder = psplib / "j30.sm"
    by_name = read_psplib(folder, instance="j301_2")
    assert read_psplib(folder, instance="j301_2.sm").data == by_name.data
    assert read_psplib(folder / "j301_2.sm").data == by_name.data
    assert read_psplib(folder, instance=1).extra["instance"] == "j301_2"
    with pytest.raises(ProjectError, match="holds 480 instances; choose one with instance="):
        read_psplib(folder)
    with pytest.raises(ProjectError, match="no instance named 'j301_99'. Did you mean"):
        read_psplib(folder, instance="j301_99")
    with pytest.raises(ProjectError, match="positions run from 0 to 479"):
        read_psplib(folder, instance=480)


def test_small_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.sm"
    path.write_text(SMALL)
    imp = read_psplib(path)
    assert imp.fmt == "psplib" and imp.extra["instance"] == "tiny"
    assert [t.get("depends_on", []) for t in imp.data["tasks"]] == [[], ["1"], ["1"], ["2", "3"], ["3"], ["4", "5"]]
    # 1 -> 3 (5) -> 4 (7) -> 6: 12; resources: R1 needs 2*3 + 4*7 + 1*2 = 36 over 4 -> 9
    assert imp.extra["critical_path_length"] == 12 == imp.extra["mpm_time"]
    assert imp.extra["resource_lower_bound"] == 9 and imp.extra["lower_bound"] == 12
    assert imp.extra["resources"] == {"R1": 4, "R2": 3}
    assert imp.extra["requests"]["4"] == {"R1": 4, "R2": 1}
    assert "best_known_makespan" not in imp.extra


def test_template_adds_ranges(tmp_path: Path) -> None:
    path = tmp_path / "tiny.sm"
    path.write_text(SMALL)
    imp = read_psplib(path, template={"dist": "triangular", "min": 0.8, "max": 1.5})
    tasks = {t["id"]: t for t in imp.data["tasks"]}
    assert tasks["4"]["duration"] == {"dist": "triangular", "min": pytest.approx(5.6), "likely": 7, "max": 10.5}
    assert tasks["1"]["duration"] == 0 and tasks["1"]["milestone"]
    assert deterministic_plan(Project.from_dict(imp.data))["duration"] == 12      # the most likely is the file's
    with pytest.raises(ProjectError, match="0 <= min <= likely <= max"):
        read_psplib(path, template={"min": 1.2, "max": 1.1})
    with pytest.raises(ProjectError, match="unknown template key 'mode'"):
        read_psplib(path, template={"mode": 1})


def test_concatenated_and_multi_mode(tmp_path: Path) -> None:
    second = SMALL.replace("tiny.bas", "other.bas").replace("  4      1     7       4    1",
                                                            "  4      1     9       4    1")
    path = tmp_path / "both.sm"
    path.write_text(SMALL + second)
    assert list_instances(path) == ["tiny", "other"]
    assert read_psplib(path, instance="other").extra["critical_path_length"] == 14
    assert read_psplib(path, instance=0).extra["critical_path_length"] == 12
    with pytest.raises(ProjectError, match="holds 2 instances"):
        read_psplib(path)
    multi = SMALL.replace("   3        1          2           4   5", "   3        2          2           4   5")
    mode2 = "         2     2       0    6\n"                      # a second mode of job 3: 2 periods
    multi = multi.replace("  3      1     5       0    3\n", "  3      1     5       0    3\n" + mode2)
    (tmp_path / "multi.mm").write_text(multi)
    imp = read_psplib(tmp_path / "multi.mm")
    assert imp.extra["critical_path_length"] == 12 and imp.extra["modes"]["3"][1] == {
        "duration": 2, "requests": {"R1": 0, "R2": 6}}
    assert any("several modes" in n for n in imp.notes)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("   2        1          1           4", "   2        1          2           4",
     "line 20: a precedence line is 'jobnr #modes #successors successors...'"),
    ("   5        1          1           6", "   5        1          1           9",
     "job 5 has successor 9, which is not a job"),
    ("   5        1          1           6", "   5        1          1           x",
     "line 23: expected whole numbers"),
    ("  4      1     7       4    1", "  4      1     7       4", "line 32: a request line is"),
    ("  5      1     2       1    1\n", "", "job 5 has no line in REQUESTS/DURATIONS"),
    ("jobs (incl. supersource/sink ):  6", "jobs (incl. supersource/sink ):  7", "announces 7 jobs"),
    ("   6        1          0", "   6        1          1           1", "cycle through jobs"),
    ("    4    3\n", "    4\n", "RESOURCEAVAILABILITIES gives 1 values for 2"),
])
def test_malformed_file(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in SMALL
    path = tmp_path / "bad.sm"
    path.write_text(SMALL.replace(old, new))
    with pytest.raises(ProjectError) as info:
        read_psplib(path)
    assert str(path) in str(info.value) and expected in str(info.value), str(info.value)


def test_not_psplib(tmp_path: Path) -> None:
    path = tmp_path / "notes.sm"
    path.write_text("hello world\n")
    with pytest.raises(ProjectError, match="line 1: expected a PSPLIB header"):
        read_psplib(path)
    path.write_text("projects : 1\n")
    with pytest.raises(ProjectError, match="no PRECEDENCE RELATIONS section"):
        read_psplib(path)
    with pytest.raises(ProjectError, match="no such file or folder"):
        read_psplib(tmp_path / "missing.sm")
