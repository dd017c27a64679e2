"""pmrisk.history.datasets: every shared dataset loads as its PROVENANCE.md says; bad input is named.

Tests that read the shared data skip when it is absent, except under CI=true, where they fail.
Expected counts and column names come from the PROVENANCE.md files (read at test time, or
transcribed below from their "Columns / fields" sections), never from the loader.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pmrisk.errors import PmriskError, PmriskWarning
from pmrisk.history import datasets as ds
from pmrisk.history.datasets import (
    ChecksumMismatchError,
    DataFileNotFoundError,
    HistoryDataError,
    data_home,
    dataset_card,
    list_datasets,
    load_dataset,
    load_history,
    ratios,
)

NAMES = list_datasets()
#: Folders of shared/datasets that are schedules (another issue), not history.
NOT_HISTORY = {"mspdi-xer-samples", "psplib"}

#: Column names as listed in each PROVENANCE.md ("Columns / fields and units"), transcribed.
PROVENANCE_COLUMNS = {
    "albrecht": {"Input", "Output", "Inquiry", "File", "FPAdj", "RawFPcounts", "AdjFP", "Effort"},
    "china": {"ID", "AFP", "Input", "Output", "Enquiry", "File", "Interface", "Added", "Changed", "Deleted", "PDR_AFP",
              "PDR_UFP", "NPDR_AFP", "NPDU_UFP", "Resource", "Dev.Type", "Duration", "N_effort", "Effort"},
    "cocomo81": {"rely", "data", "cplx", "time", "stor", "virt", "turn", "acap", "aexp", "pcap", "vexp", "lexp", "modp",
                 "tool", "sced", "loc", "actual"},
    "cosmic-promise": {"FS", "N_effort", "S_effort", "E_Plan", "E_Specify", "E_Design", "E_Build", "E_Test",
                       "E_Implement", "E_Unrecorded"},
    "desharnais": {"Project", "TeamExp", "ManagerExp", "YearEnd", "Length", "Effort", "Transactions", "Entities",
                   "PointsAdjust", "Envergure", "PointsNonAjust", "Language"},
    "finnish": {"ID", "dev.eff.hrs.", "hw", "at", "co", "FP", "prod", "lnsize", "lneff"},  # names stripped
    "huijgens-ebspm": {"Project_ID", "Organization", "Short_project_description", "Year_technical_go_live",
                       "Organisation_profile", "Business_domain", "Development_method", "Primary_programming_language",
                       "Development_class", "Functional_size_FP", "Actual_duration_months", "Actual_cost_EUR",
                       "Actual_effort_hours", "Defects_process", "Defects_first_month", "Perceived_value_overall",
                       "Release_based_working", "Pilot_or_proof_of_concept"},
    "isbsg10-promise": {"FS", "N_effort", "S_effort", "N_PDR", "SDR", "Year", "IS", "OT", "AT", "DT", "DP", "LT", "PPL",
                        "RS", "PET", "PIT", "Resource_Level", "MTS", "ATS"},
    "kemerer": {"ID", "Language", "Hardware", "Duration", "KSLOC", "AdjFP", "RAWFP", "EffortMM"},
    "miyazaki94": {"ID", "KLOC", "SCRN", "FORM", "FILE", "ESCRN", "EFORM", "EFILE", "MM"},
    "nasa-cocomo2-124": {"RecordNumber", "Unusual Flag", "Nasa60?", "ProjectID", "PARENT", "ELEMENT", "Category",
                         "F or G", "Center", "Start Year", "Language", "New KLOC", "Reused KLOC", "Modified KLOC",
                         "Logical EKLOC", "Delivered Logical KLOC", "Physical Delivered KLOC", "Ported KLOC", "%DM",
                         "%CM", "%IM", "Physical EKLOC", "ACT_EFFORT", "Model", "prec", "flex", "resl", "team", "pmat",
                         "rely", "docu", "Start Date", "End Date", "Actual Schedule", "productivity per day"},
    "nasa93": {"recordnumber", "projectname", "cat2", "forg", "center", "year", "mode", "equivphyskloc", "act_effort"},
    "nasa93-dem": {"id", "prec", "sced", "kloc", "effort", "defects", "months"},
    "subbiah-fp": {"Project", "ExternalInputs", "ExternalOutputs", "ExternalQueries", "ExternalInterface",
                   "InternalLogicalFiles", "TotalUFP", "Adjustment", "HoursToCount", "TotalLaborCost", "CostPerFP",
                   "Actual des"},
    "ucp-silhavy": {"Project_No", "UAW", "UUCW", "TCF", "ECF", "Real_P20", "Real_Effort_Person_Hours", "Sector",
                    "Language", "Methodology", "ApplicationType", "DataDonator"},
    "valdes-souto-cosmic": {"Projct", "BASE", "ID", "COSMIC_FP", "Effort", "HH_CFP"},
    "jorgensen-1997": {"Id", "Dev-env", "Size", "Effort", "Productivity"},
    "jorgensen-tasks-49": {"Task id", "Estimated effort", "Actual effort", "Reasons"},
    "sip-tasks": {"TaskNumber", "Summary", "Priority", "RaisedByID", "AssignedToID", "AuthorisedByID", "StatusCode",
                  "ProjectCode", "ProjectBreakdownCode", "Category", "SubCategory", "HoursEstimate", "HoursActual",
                  "TaskPerformance", "EstimateOn", "StartedOn", "CompletedOn"},  # per-developer columns dropped
    "cesaw": {"project_key", "person_key", "team_key", "wbs_element_key", "plan_item_key", "task_actual_start_date",
              "task_actual_complete_date", "task_actual_time_minutes", "task_plan_time_minutes", "phase_key",
              "phase_short_name", "process_name"},
    "renzo-pomodoro": {"X.words", "word_cnt", "description", "DONE", "date", "estimate", "actual"},
    "project-22": {"D1", "D2", "D3", "Total", "StoryPoints", "Branch", "IsMCO", "Is.Programming",
                   "Is.Programming.Notes", "Phase"},
    "dslib-real-projects": {"code", "project_name", "sector", "keywords", "authenticity_project",
                            "authenticity_tracking", "n_activities", "planned_duration_days", "bac_eur",
                            "has_resources", "n_renewable_resources", "n_consumable_resources", "early_late_frac",
                            "cost_dev_frac", "SP", "AD", "LA", "TF", "RI", "regularity", "real_duration_days",
                            "real_cost_eur"},
}

#: Columns each PROVENANCE.md says leak the target or are known only afterwards.
PROVENANCE_POST = {
    "china": {"PDR_AFP", "PDR_UFP", "NPDR_AFP", "NPDU_UFP", "Duration", "N_effort"},
    "desharnais": {"Length"},
    "finnish": {"prod", "lneff"},
    "kemerer": {"Duration"},
    "isbsg10-promise": {"N_PDR", "SDR", "PET", "PIT"},
    "nasa-cocomo2-124": {"Actual Schedule", "productivity per day"},
    "nasa93-dem": {"defects", "months"},
    "subbiah-fp": {"CostPerFP"},
    "ucp-silhavy": {"Real_P20"},
    "valdes-souto-cosmic": {"HH_CFP"},
    "jorgensen-1997": {"Productivity"},
    "dslib-real-projects": {"early_late_frac", "cost_dev_frac", "real_duration_days", "real_cost_eur"},
}

#: (estimate, actual) pairs named in the PROVENANCE.md files of the planned-vs-actual data.
PROVENANCE_ESTIMATES = {
    "sip-tasks": ("HoursEstimate", "HoursActual"),
    "cesaw": ("task_plan_time_minutes", "task_actual_time_minutes"),
    "renzo-pomodoro": ("estimate", "actual"),
    "project-22": ("StoryPoints", "Total"),
    "jorgensen-tasks-49": ("Estimated effort", "Actual effort"),
    "dslib-real-projects": ("planned_duration_days", "real_duration_days"),
}


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def home(shared_home) -> Path:
    """The shared data home (conftest's ``shared_home``: a skip without it, a failure under CI=true)."""
    return shared_home


def provenance_text(home: Path, folder: str) -> str:
    return (home / folder / "PROVENANCE.md").read_text(encoding="utf-8")


def provenance_files(home: Path, folder: str) -> dict[str, tuple[int | None, str]]:
    """file -> (data rows, sha256) from the PROVENANCE.md table."""
    files = {}
    for m in re.finditer(r"^\| `([^`]+)` \| .*? \| (.*?) \| `([0-9a-f]{64})` \|$", provenance_text(home, folder),
                         flags=re.M):
        rows = re.match(r"(\d+) data rows", m.group(2))
        files[m.group(1)] = (int(rows.group(1)) if rows else None, m.group(3))
    return files


def main_file(card: dict) -> dict:
    return next(f for f in card["files"] if f["read"])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def no_data_home(monkeypatch, tmp_path):
    """An empty data home (so no shared data is read)."""
    monkeypatch.setenv(ds.DATA_HOME_ENV, str(tmp_path))
    return tmp_path


# --------------------------------------------------------------------------------------------
# Cards (no shared data needed)
# --------------------------------------------------------------------------------------------


def test_cards_are_well_formed():
    assert len(NAMES) == 23
    for name in NAMES:
        card = dataset_card(name)
        columns = card["columns"]
        assert card["level"] in ("project", "task"), name
        assert columns[card["target"]]["role"] == "target", name
        assert all(spec["role"] in ds.ROLES for spec in columns.values()), name
        assert all(spec["why"] for spec in columns.values() if spec["role"] == "post_project"), name
        assert all(re.fullmatch(r"[0-9a-f]{64}", f["sha256"]) for f in card["files"]), name
        assert card["citation"] and card["licence"] and card["source"], name
        for column, spec in columns.items():
            if spec["role"] == "estimate":
                assert columns[spec["estimate_for"]]["role"] == "target", (name, column)
        for feature in card.get("default_features", []):
            assert columns[feature]["role"] in ("feature", "estimate"), (name, feature)


def test_cards_are_package_data():
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert "history/cards/*.json" in pyproject
    folder = Path(ds.__file__).parent / "cards"
    assert sorted(p.stem for p in folder.glob("*.json")) == NAMES
    for path in folder.glob("*.json"):
        assert json.loads(path.read_text(encoding="utf-8"))["name"] == path.stem


def test_unknown_dataset_suggests_a_name():
    with pytest.raises(HistoryDataError, match="Did you mean 'desharnais'"):
        dataset_card("desharnias")
    with pytest.raises(PmriskError):
        load_dataset("no-such-data")


def test_list_datasets_by_level():
    assert set(list_datasets("task")) == {"sip-tasks", "cesaw", "renzo-pomodoro", "project-22", "jorgensen-tasks-49"}
    assert set(list_datasets("project")) | set(list_datasets("task")) == set(NAMES)
    with pytest.raises(HistoryDataError):
        list_datasets("portfolio")


# --------------------------------------------------------------------------------------------
# Data home and checksums (no shared data needed)
# --------------------------------------------------------------------------------------------


def test_data_home_env_must_be_a_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(ds.DATA_HOME_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(DataFileNotFoundError, match="PMRISK_DATA_HOME"):
        data_home()


def test_data_home_found_walking_up_from_cwd(monkeypatch, tmp_path):
    (tmp_path / "shared" / "datasets").mkdir(parents=True)
    (tmp_path / "work" / "main").mkdir(parents=True)
    monkeypatch.delenv(ds.DATA_HOME_ENV, raising=False)
    monkeypatch.chdir(tmp_path / "work" / "main")
    assert data_home() == tmp_path / "shared" / "datasets"


def test_missing_file_is_named(no_data_home):
    with pytest.raises(DataFileNotFoundError, match=r"kemerer\.arff does not exist") as info:
        load_dataset("kemerer")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, PmriskError)


def test_changed_file_fails_its_checksum(no_data_home):
    (no_data_home / "kemerer").mkdir()
    changed = no_data_home / "kemerer" / "kemerer.arff"
    changed.write_text("@relation kemerer\n@attribute ID numeric\n@data\n1\n")
    expected = main_file(dataset_card("kemerer"))["sha256"]
    with pytest.raises(ChecksumMismatchError) as info:
        load_dataset("kemerer")
    message = str(info.value)
    assert str(changed) in message and expected in message and sha256(changed) in message
    assert "restore the original" in message


# --------------------------------------------------------------------------------------------
# The shared datasets
# --------------------------------------------------------------------------------------------


def test_every_history_folder_has_a_card(home):
    folders = {p.parent.name for p in home.glob("*/PROVENANCE.md")} - NOT_HISTORY
    assert folders == {dataset_card(n)["folder"] for n in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_card_matches_provenance_and_files(home, name):
    card = dataset_card(name)
    table = provenance_files(home, card["folder"])
    for entry in card["files"]:
        rows, digest = table[entry["path"]]
        assert entry["sha256"] == digest, entry["path"]
        assert entry["rows"] == rows, entry["path"]
        assert sha256(home / card["folder"] / entry["path"]) == digest, entry["path"]


@pytest.mark.parametrize("name", NAMES)
def test_dataset_loads_as_provenance_says(home, name):
    card = dataset_card(name)
    data = load_dataset(name)
    frame = data.frame
    # every row of the file is either loaded or dropped for a stated reason
    rows, _ = provenance_files(home, card["folder"])[main_file(card)["path"]]
    assert len(frame) + sum(data.dropped.values()) == rows
    assert len(frame) >= ds.MIN_ROWS
    assert PROVENANCE_COLUMNS[name] <= set(frame.columns)
    counts = [int(n) for n in re.findall(r"(\d+) (?:attributes|columns)", provenance_text(home, card["folder"]))]
    if counts:  # "86 attributes", "50 columns", ...
        assert len(card["columns"]) in counts, counts
    # the target is numeric and present; features are known beforehand
    assert pd.api.types.is_float_dtype(frame[data.target]) and frame[data.target].notna().all()
    assert data.target in data.units
    assert not set(data.features) & set(data.post_project)
    assert PROVENANCE_POST.get(name, set()) <= set(data.post_project)
    assert data.estimate not in data.features
    if name in PROVENANCE_ESTIMATES:
        assert (data.estimate, data.target) == PROVENANCE_ESTIMATES[name]
    for column in data.features:
        if column not in data.categorical and card["columns"][column]["type"] in ("numeric", "ordinal"):
            assert pd.api.types.is_float_dtype(frame[column]), column
    assert data.X.shape == (len(frame), len(data.features)) and data.y.name == data.target


def test_desharnais_complete_cases(home):
    data = load_dataset("desharnais")
    assert len(data.frame) == 81 and len(data.complete().frame) == 77  # PROVENANCE: 4 projects miss values
    missing = data.frame.loc[data.frame[data.features].isna().any(axis=1), "Project"]
    assert sorted(missing.astype(int)) == [38, 44, 66, 75]


@pytest.mark.parametrize(("name", "column"), [("desharnais", "YearEnd"), ("huijgens-ebspm", "Year_technical_go_live"),
                                            ("isbsg10-promise", "Year"), ("cosmic-promise", "Year")])
def test_actual_completion_years_are_not_features(home, name, column):
    """The year a project actually ended (went live, was implemented) is known only afterwards."""
    data = load_dataset(name)
    assert column in data.post_project and column not in data.features
    with pytest.raises(HistoryDataError, match=f"feature '{column}' is known only after the project ended"):
        load_dataset(name, features=[column])


def test_nasa_cocomo2_drops_rollups_and_estimated_efforts(home):
    raw = pd.read_csv(home / "nasa-cocomo2-124" / "coc2000.csv.xz")
    data = load_dataset("nasa-cocomo2-124")
    assert len(raw) == 124
    assert data.dropped == {"rollup of other rows": 3, "effort is an estimate": 9}  # PROVENANCE: 9 flagged rows
    assert (raw["Nasa60?"] == 1).sum() == 60  # PROVENANCE: 60 COCOMONASA projects flagged ...
    assert (data.frame["Nasa60?"] == 1).sum() == 57  # ... three of which are the dropped rollups
    assert not data.frame["RecordNumber"].str.startswith("rollup").any()


def test_huijgens_csv_matches_the_workbook(home):
    data = load_dataset("huijgens-ebspm")
    assert len(data.frame) == 492 and data.dropped == {"empty row": 1}  # 493 pandas rows, one empty
    book = pd.read_excel(home / "huijgens-ebspm" / "EBSPM_Research_Repository_v07072017.xlsx",
                         sheet_name="EBSPM_Research_Repository").set_index("Project_ID")
    frame = data.frame.set_index(data.frame["Project_ID"].astype(int))
    for column in ("Functional_size_FP", "Actual_duration_months", "Actual_cost_EUR", "Actual_effort_hours"):
        np.testing.assert_allclose(frame[column].to_numpy(), book.loc[frame.index, column].to_numpy(dtype=float),
                                   atol=0.5, err_msg=column)  # the CSV rounds one size (237.82 -> 238)
    assert data.target == "Actual_cost_EUR"
    assert load_dataset("huijgens-ebspm", target="Actual_effort_hours").frame.shape[0] == 22


def test_sip_one_row_per_task(home):
    raw = pd.read_csv(home / "sip-tasks" / "Sip-task-info.csv", encoding="latin-1")
    data = load_dataset("sip-tasks")
    assert len(raw) == 12299 and len(data.frame) == raw["TaskNumber"].nunique()
    assert data.frame["TaskNumber"].is_unique
    totals = raw.groupby("TaskNumber")["DeveloperHoursActual"].sum()
    np.testing.assert_allclose(data.frame.set_index("TaskNumber")["HoursActual"], totals.loc[data.frame["TaskNumber"]])
    assert data.frame["EstimateOn"].notna().all()


def test_dslib_ratios_follow_the_provenance_sign_convention(home):
    r = ratios("dslib-real-projects")
    data = load_dataset("dslib-real-projects")
    late = data.frame["early_late_frac"].to_numpy()
    computed = data.frame["real_duration_days"] / data.frame["planned_duration_days"] - 1
    assert np.nanmedian(np.abs(computed - late)) < 0.01  # "early_late_frac ≈ real_duration/PD − 1"
    cost = ratios("dslib-real-projects", target="real_cost_eur")
    assert cost.attrs["planned"] == "bac_eur" and cost.attrs["unit"] == "EUR"
    assert len(cost) > 140 and (cost["ratio"] > 0).all()  # '€ 458 688,44' and friends read as EUR
    it = r[r["sector"] == "IT"]
    assert 10 <= len(it) <= 31
    assert r["sector"].str.contains("Construction \\(civil\\)").sum() == 0  # spelling variants merged


def test_ratio_columns(home):
    for name, (planned, actual) in PROVENANCE_ESTIMATES.items():
        r = ratios(name)
        assert list(r.columns[:4]) == ["planned", "actual", "ratio", "size_class"], name
        assert (r["planned"] > 0).all() and (r["actual"] > 0).all(), name
        np.testing.assert_allclose(r["ratio"], r["actual"] / r["planned"])
        assert set(r["size_class"]) <= {"small", "medium", "large"}
        assert (r.attrs["planned"], r.attrs["actual"]) == (planned, actual)
    assert "phase_short_name" in ratios("cesaw").columns
    assert ratios("cesaw").attrs["dropped"]["planned or actual not positive"] >= 692  # PROVENANCE-free fact: plan 0
    assert ratios("project-22").attrs["ratio_unit"] == "hours per story point"
    with pytest.raises(HistoryDataError, match="no planned values"):
        ratios("albrecht")


def test_ordinal_ratings_and_stripped_names(home):
    nasa = load_dataset("nasa93")
    assert set(np.unique(nasa.frame["rely"])) <= {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}
    assert "dev.eff.hrs." in load_dataset("finnish").frame.columns


# --------------------------------------------------------------------------------------------
# Bad input on a shared dataset
# --------------------------------------------------------------------------------------------


def test_unknown_target_suggests_close_names(home):
    with pytest.raises(HistoryDataError, match="'Efort' does not exist.*Did you mean 'Effort'"):
        load_dataset("desharnais", target="Efort")


def test_non_numeric_target(home):
    with pytest.raises(HistoryDataError, match="not numeric"):
        load_dataset("sip-tasks", target="Category")


def test_post_project_feature_is_refused_with_the_reason(home):
    with pytest.raises(HistoryDataError, match="'Length' is known only after the project ended.*actual duration"):
        load_dataset("desharnais", features=["TeamExp", "Length"])
    with pytest.raises(HistoryDataError, match="'Real_P20'.*leaks the target"):
        load_dataset("ucp-silhavy", features=["UUCW", "Real_P20"])
    with pytest.raises(HistoryDataError, match="'Productivity'"):
        load_dataset("jorgensen-1997", features=["Productivity"])
    with pytest.raises(HistoryDataError, match="'Effort' is the target"):
        load_dataset("desharnais", features=["Effort"])


def test_other_target_and_its_estimate(home):
    data = load_dataset("dslib-real-projects", target="real_cost_eur")
    assert data.estimate == "bac_eur" and "planned_duration_days" in data.features and "bac_eur" not in data.features
    china = load_dataset("china", target="Duration")
    assert china.estimate is None and "Duration" not in china.features


# --------------------------------------------------------------------------------------------
# A user's own history (tmp_path; no shared data)
# --------------------------------------------------------------------------------------------

CSV = "project,size_fp,team,planned_h,actual_h,duration_m\n" + "".join(
    f"P{i},{s},{t},{p},{a},{d}\n" for i, (s, t, p, a, d) in enumerate(
        [(100, "red", 900, 1000, 5), (200, "blue", 1800, 2300, 9), (50, "red", 400, 450, 3), (80, "blue", 700, 720, 4),
         (120, "red", 1000, 1500, 7), (60, "blue", 500, 610, 3)]))


def test_load_history_csv(tmp_path):
    path = tmp_path / "past.csv"
    path.write_text(CSV)
    data = load_history(path, target="actual_h", estimate="planned_h", post_project=["duration_m"])
    assert data.features == ["size_fp", "team"]  # the project id column is left out
    assert data.categorical == ["project", "team"]
    assert data.post_project == ["duration_m", "actual_h"] and data.estimate == "planned_h"
    assert data.frame["actual_h"].dtype == float and len(data.frame) == 6
    r = ratios(data)
    np.testing.assert_allclose(r["ratio"], [1000 / 900, 2300 / 1800, 450 / 400, 720 / 700, 1.5, 610 / 500])
    assert "team" in r.columns


def test_load_history_semicolons_and_decimal_commas(tmp_path):
    path = tmp_path / "past.csv"
    path.write_text(CSV.replace(",", ";").replace(";1000;", ";1000,5;"))
    data = load_history(path, target="actual_h")
    assert data.frame["actual_h"][0] == 1000.5


def test_load_history_excel(tmp_path):
    path = tmp_path / "past.xlsx"
    pd.read_csv(io.StringIO(CSV)).to_excel(path, sheet_name="History", index=False)
    data = load_history(path, target="actual_h", features=["size_fp", "planned_h"], sheet="History")
    assert data.features == ["size_fp", "planned_h"] and len(data.frame) == 6


def test_load_history_arff(tmp_path):
    path = tmp_path / "past.arff"
    path.write_text(
        "% comment\n@relation past\n@attribute 'size fp ' numeric % trailing comment\n"
        "@attribute kind {'new, web',maint}\n@attribute effort real\n@data\n"
        "100,'new, web',1000\n200,maint,2300\n?,maint,450\n80,'new, web',720\n120,maint,1500\n60,maint,?\n")
    with pytest.warns(PmriskWarning, match="1 row"):
        data = load_history(path, target="effort")
    assert list(data.frame.columns) == ["size fp", "kind", "effort"]
    assert data.frame["kind"][0] == "new, web" and np.isnan(data.frame["size fp"][2])
    assert data.dropped == {"missing target": 1} and len(data.frame) == 5


def test_load_history_errors(tmp_path):
    path = tmp_path / "past.csv"
    path.write_text(CSV)
    with pytest.raises(DataFileNotFoundError, match="does not exist"):
        load_history(tmp_path / "nothing.csv", target="actual_h")
    with pytest.raises(HistoryDataError, match="'actual_hours' does not exist.*Did you mean 'actual_h'"):
        load_history(path, target="actual_hours")
    with pytest.raises(HistoryDataError, match="not a number: 'red'.*must hold numbers"):
        load_history(path, target="team")
    with pytest.raises(HistoryDataError, match="'duration_m' is known only after the project ended"):
        load_history(path, target="actual_h", features=["size_fp", "duration_m"], post_project=["duration_m"])
    with pytest.raises(HistoryDataError, match="feature column 'sise_fp' does not exist.*'size_fp'"):
        load_history(path, target="actual_h", features=["sise_fp"])
    short = tmp_path / "short.csv"
    short.write_text("size,effort\n1,10\n2,\n3,30\n4,40\n5,\n6,60\n")
    with pytest.raises(HistoryDataError, match="only 4 row.*at least 5"):
        load_history(short, target="effort")
    thousands = tmp_path / "thousands.csv"
    thousands.write_text('size,effort\n1,"1,234"\n2,20\n3,30\n4,40\n5,50\n')
    with pytest.raises(HistoryDataError, match="not a number: '1,234'.*no thousands separators"):
        load_history(thousands, target="effort")
    odd = tmp_path / "past.json"
    odd.write_text("{}")
    with pytest.raises(HistoryDataError, match=r"\.csv, \.xlsx or \.arff"):
        load_history(odd, target="effort")
    bad = tmp_path / "bad.arff"
    bad.write_text("@relation x\n@attribute a numeric\n@attribute b numeric\n@data\n1,2\n3\n")
    with pytest.raises(HistoryDataError, match="line 6: 1 values for 2 attributes"):
        load_history(bad, target="a")


def test_ratios_of_a_history_without_estimate(tmp_path):
    path = tmp_path / "past.csv"
    path.write_text(CSV)
    with pytest.raises(HistoryDataError, match="no planned values"):
        ratios(load_history(path, target="actual_h"))
