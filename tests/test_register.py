"""The risk register: import (aliases, bands, errors), merge, rows, CSV/Excel/Markdown export, CLI."""

from __future__ import annotations

import copy
import dataclasses
import json
import warnings

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from openpyxl import load_workbook

import pmrisk
from pmrisk.errors import PmriskWarning, ProjectError
from pmrisk.project import Project
from pmrisk.risk.cli import register
from pmrisk.risk.matrix import RiskMatrix
from pmrisk.risk.register import (
    COLUMNS,
    HEADERS,
    RESULT_COLUMNS,
    merge_register,
    read_register,
    register_frame,
    register_rows,
    write_register_csv,
    write_register_excel,
    write_register_markdown,
)

SMALL = """\
pmrisk: 1
project: {name: Small, currency: EUR, deadline: 30, budget: 100000}
tasks:
  - {id: A, duration: {dist: pert, min: 5, likely: 8, max: 14}, cost: {fixed: 1000, per_day: 2000}}
  - {id: B, duration: {dist: triangular, min: 10, likely: 12, max: 20}, depends_on: [A]}
risks:
  - {id: R1, title: Vendor late, probability: 0.3, affects: [B],
     delay: {dist: triangular, min: 5, likely: 10, max: 20},
     cost: {dist: uniform, min: 10000, max: 30000},
     mitigation: {action: Penalty clause, cost: 15000, probability: 0.1}}
"""

# every shape of risk the register must carry through export and import unchanged
RICH_RISKS = [
    {"id": "R1", "title": "Vendor late", "probability": 0.3, "affects": ["B"],
     "delay": {"dist": "triangular", "min": 5, "likely": 10, "max": 20},
     "cost": {"dist": "uniform", "min": 10000, "max": 30000},
     "mitigation": {"action": "Penalty clause", "cost": 15000, "probability": 0.1}},
    {"id": "R2", "title": "Key tester leaves", "cause": "Tight market", "event": "Resignation",
     "effect": "Testing slows", "category": "People", "owner": "Test lead", "status": "monitoring",
     "probability": 0.15, "affects": ["A", "B"], "delay": {"dist": "pert", "min": 2, "likely": 4, "max": 9},
     "response": "mitigate", "notes": "Line one\nline two",
     "mitigation": {"action": "Cross-train", "cost": {"dist": "uniform", "min": 1000, "max": 3000},
                    "probability": 0.05, "delay": 1, "owner": "PMO", "due": "2027-03-01"}},
    {"id": "R3", "title": "Licence price rise", "probability": 0.123456789, "cost": 7500, "response": "transfer"},
    {"id": "R4", "title": "Lognormal slip", "probability": 0.2, "affects": ["A"],
     "delay": {"dist": "lognormal", "p10": 2, "p90": 9}, "impact": {"dist": "triangular", "min": 1, "likely": 1.1,
                                                                  "max": 1.3}},
    {"id": "O1", "title": "Reuse connector", "probability": 0.4, "affects": ["B"],
     "delay": {"dist": "uniform", "min": -4, "max": -1}, "cost": -2000, "response": "exploit"},
    {"id": "R5", "title": "PERT lambda", "probability": 1.0, "affects": ["A"],
     "delay": {"dist": "pert", "min": 1, "likely": 2, "max": 8, "lambda": 2},
     "mitigation": {"probability": 0.5, "cost_impact": 100, "impact": 1.2}},
]


def small_data(risks=None):
    data = yaml.safe_load(SMALL)
    if risks is not None:
        data["risks"] = copy.deepcopy(risks)
    return data


def no_lines(project):
    return {r.id: dataclasses.replace(r, line=None) for r in project.risks}


@pytest.fixture(scope="module")
def rich():
    return Project.from_dict(small_data(RICH_RISKS))


@pytest.fixture(scope="module")
def rich_result(rich):
    return pmrisk.simulate(rich, iterations=1000, rng=3)


def write(tmp_path, text, name="reg.csv"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("simulated", [False, True])
def test_export_then_import_gives_the_same_risks(tmp_path, rich, rich_result, fmt, simulated):
    result = rich_result if simulated else None
    m = RiskMatrix.for_project(rich)
    rows = register_rows(rich, result, m)
    f = tmp_path / f"reg.{fmt}"
    if fmt == "csv":
        write_register_csv(rows, f)
    else:
        write_register_excel(f, rows, m, summary=result.summary() if result else None)
    risks = read_register(f, m)
    assert [r["id"] for r in risks] == [row["id"] for row in rows]
    merged = merge_register(small_data([]), risks)
    assert no_lines(Project.from_dict(merged)) == no_lines(rich)


def test_round_trip_keeps_formula_like_text(tmp_path, rich):
    risks = copy.deepcopy(RICH_RISKS)
    risks[0]["title"] = '=HYPERLINK("http://evil.example","click")'
    risks[1]["cause"] = "+1 from the vendor"
    risks[2]["owner"] = "@finance"
    risks[3]["title"] = "-5 days if late"
    p = Project.from_dict(small_data(risks))
    f = tmp_path / "reg.xlsx"
    write_register_excel(f, register_rows(p), RiskMatrix())
    ws = load_workbook(f)["Register"]
    cells = {c.value: c for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)}
    for text in (risks[0]["title"], risks[1]["cause"], risks[2]["owner"], risks[3]["title"]):
        assert text in cells, text
        assert cells[text].data_type == "s"
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    back = Project.from_dict(merge_register(small_data([]), read_register(f)))
    assert no_lines(back) == no_lines(p)


# --------------------------------------------------------------------------------------------
# Import: aliases, probabilities, bands
# --------------------------------------------------------------------------------------------


def test_common_aliases_are_understood(tmp_path):
    f = write(tmp_path, "Risk ID;Risk;Description;Likelihood;Impact (days);Cost impact (kEUR);Owner;Mitigation;"
                        "Response strategy;Contingency;Affected tasks;Status;Mitigation cost\n"
                        "R1;Vendor late;API delivered after build start;30%;10;25;Ana;Stub API;Reduce;"
                        "Escalate to vendor CEO;B;Open;5000\n")
    (r,) = read_register(f)
    assert r == {"id": "R1", "title": "Vendor late", "event": "API delivered after build start", "owner": "Ana",
                 "status": "Open", "probability": 0.3, "affects": ["B"], "delay": 10, "cost": 25000,
                 "response": "mitigate", "mitigation": {"action": "Stub API", "cost": 5000},
                 "notes": "Contingency plan: Escalate to vendor CEO"}


@pytest.mark.parametrize(("header", "cell", "p"), [
    ("Probability", "0.3", 0.3), ("Probability", "30%", 0.3), ("Probability", "12.5 %", 0.125),
    ("Probability (%)", "30", 0.3), ("Prob. %", "45", 0.45), ("Chance", "1", 1.0), ("Probability", "High", 0.6),
    ("P", "3", 0.4), ("Likelihood", "Very low", 0.05), ("Likelihood", "0.25", 0.25), ("Likelihood", "25%", 0.25),
    ("Likelihood", "almost certain", 0.85),
])
def test_probabilities_as_fractions_percentages_or_bands(tmp_path, header, cell, p):
    f = write(tmp_path, f"id,{header},cost\nR1,{cell},100\n")
    assert read_register(f)[0]["probability"] == pytest.approx(p)


def test_a_probability_column_of_whole_numbers_1_to_5_holds_bands(tmp_path):
    f = write(tmp_path, "id,Probability,Impact,tasks\nR1,2,4,B\nR2,5,1,\n")
    r1, r2 = read_register(f)
    assert r1["probability"] == 0.2 and r2["probability"] == 0.85
    assert r1["delay"] == {"dist": "uniform", "min": 10, "max": 20}        # linked to a task: a time impact
    assert r2["cost"] == {"dist": "uniform", "min": 0, "max": 10000}        # no task: a cost impact


def test_qualitative_bands_become_a_quantitative_risk_through_the_matrix(tmp_path):
    f = write(tmp_path, "ID,Title,P,Time impact band,Affected tasks\nR1,Vendor late,3,4,B\n")
    (r,) = read_register(f)
    assert r["probability"] == 0.4
    assert r["delay"] == {"dist": "uniform", "min": 10, "max": 20}
    p = Project.from_dict(merge_register(small_data([]), [r]))
    risk = p.risks[0]
    assert risk.state.probability == 0.4 and risk.state.delay.mean() == 15
    a = RiskMatrix().assess(risk)
    assert (a.probability_band, a.time_band, a.score) == (3, 4, 12)
    # the simulation uses exactly these numbers
    res = pmrisk.simulate(p, iterations=2000, rng=1)
    assert abs(res.risks().loc["R1", "occurrence"] - 0.4) < 0.05


def test_bands_follow_the_projects_matrix(tmp_path):
    m = RiskMatrix.from_spec({"time": [1, 2, 3, 4], "labels": ["Minimal", "Minor", "Moderate", "Major", "Extreme"]})
    f = write(tmp_path, "id,likelihood,schedule impact,cost band,tasks\nR1,Minor,Extreme,Moderate,B\n")
    (r,) = read_register(f, m)
    assert r["probability"] == 0.2
    assert r["delay"] == {"dist": "uniform", "min": 4, "max": 6}
    assert r["cost"] == {"dist": "uniform", "min": 50000, "max": 100000}


def test_ranges_and_distributions(tmp_path):
    f = write(tmp_path, "id,probability,time_dist,time_min,time_likely,time_max,cost_min,cost_max,tasks\n"
                        "R1,0.1,,1,2,4,,,A\n"
                        "R2,0.1,pert,1,2,4,,,A\n"
                        "R3,0.1,,1,,4,100,200,A\n"
                        "R4,0.1,\"{dist: lognormal, p10: 3, p90: 12}\",,,,,,A\n"
                        "R5,0.1,Triang,1,2,4,,,A\n")
    r1, r2, r3, r4, r5 = read_register(f)
    assert r1["delay"] == {"dist": "triangular", "min": 1, "likely": 2, "max": 4}
    assert r2["delay"] == {"dist": "pert", "min": 1, "likely": 2, "max": 4}
    assert r3["delay"] == {"dist": "uniform", "min": 1, "max": 4}
    assert r3["cost"] == {"dist": "uniform", "min": 100, "max": 200}
    assert r4["delay"] == {"dist": "lognormal", "p10": 3.0, "p90": 12.0}
    assert r5["delay"]["dist"] == "triangular"


def test_header_below_title_rows_comments_and_blank_rows(tmp_path):
    f = write(tmp_path, "CRM migration risk register,,\nExported 2027-01-05,,\n,,\n"
                        "Ref,Risk,Probability,Cost\nR1,A,0.2,10\n,,\n#R2,commented out,0.3,10\nR3,B,0.3,20\n")
    risks = read_register(f)
    assert [r["id"] for r in risks] == ["R1", "R3"]
    assert risks.lines == {0: 5, 1: 8}


def test_unknown_columns_are_reported_not_fatal(tmp_path):
    f = write(tmp_path, "id,probability,cost,Date raised,Trigger\nR1,0.2,10,2027-01-01,x\n")
    with pytest.warns(PmriskWarning, match="Date raised, Trigger"):
        risks = read_register(f)
    assert risks.ignored == ["Date raised", "Trigger"]


def test_excel_register_sheet_is_found(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Read me"
    wb.active["A1"] = "Instructions"
    ws = wb.create_sheet("Risks")
    ws.append(["Risk ID", "Title", "Probability", "Delay (days)", "Activities"])
    ws.append(["R1", "Late", 0.25, 7, "A; B"])
    ws.append([42, "Numeric id", 0.5, 3.0, "A"])
    f = tmp_path / "reg.xlsx"
    wb.save(f)
    r1, r2 = read_register(f)
    assert r1 == {"id": "R1", "title": "Late", "probability": 0.25, "affects": ["A", "B"], "delay": 7}
    assert r2["id"] == "42" and r2["delay"] == 3


# --------------------------------------------------------------------------------------------
# Import: errors that say where, what and how
# --------------------------------------------------------------------------------------------


def test_missing_columns_are_named(tmp_path):
    f = write(tmp_path, "Title,Owner,Status\nVendor late,Ana,open\n")
    with pytest.raises(ProjectError) as err:
        read_register(f)
    msg = str(err.value)
    assert str(f) in msg and "line 1" in msg
    assert "missing columns" in msg
    for word in ("'id'", "a probability", "an impact"):
        assert word in msg


def test_a_misspelt_column_gets_a_hint(tmp_path):
    f = write(tmp_path, "id,Probabilty,cost\nR1,0.2,10\n")
    with pytest.raises(ProjectError, match=r"missing column: a probability.*'Probabilty' \(did you mean "
                                           r"'probability'\?\)"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PmriskWarning)
            read_register(f)


@pytest.mark.parametrize(("text", "words"), [
    ("id,probability,cost\nR1,0.2,12 000\n", ["line 2 (risk R1)", "column 'cost'", "'12 000' is not a number",
                                              "write 12000"]),
    ("id,probability,cost\nR1,30,10\n", ["line 2 (risk R1)", "column 'probability'", "outside 0-100%",
                                         "Did you mean 0.3"]),
    ("id,probability,cost\nR1,often,10\n", ["'often' is not a probability", "0.3 or 30%"]),
    ("id,probability,cost,response\nR1,0.2,10,mitigat\n", ["line 2 (risk R1)", "column 'response'",
                                                           "unknown response 'mitigat'", "Did you mean 'mitigate'"]),
    ("id,probability,cost\nR1,0.2,10\nR1,0.3,10\n", ["line 3 (risk R1)", "duplicate id 'R1' (also on line 2)"]),
    ("id,probability,cost,title\nR1,0.2,10,x\n,0.3,10,y\n", ["line 3", "no id"]),
    ("id,probability,cost,tasks\nR1,,10,A\n", ["line 2 (risk R1)", "no probability"]),
    ("id,probability,cost\nR1,0.2,\n", ["line 2 (risk R1)", "no impact"]),
    ("id,probability,time_min,time_likely\nR1,0.2,1,2\n", ["incomplete time impact range", "time_max"]),
    ("id,probability,time_min,time_likely,time_max\nR1,0.2,5,2,8\n", ["time impact", "min 5 > likely 2"]),
    ("id,probability,time_dist,time_min,time_max\nR1,0.2,gamma,1,2\n", ["unknown distribution 'gamma'"]),
    ("id,probability,time_dist,time_min,time_max\nR1,0.2,pert,1,2\n", ["a pert time impact needs",
                                                                       "time_likely"]),
    ("id,P,cost\nR1,7,10\n", ["'7' is not a band", "Very low"]),
    ("id,probability,time_dist,time_min\nR1,0.2,{dist: normal},1\n", ["both a full distribution and min/likely/max"]),
    ("id,probability,time_dist\nR1,0.2,\"{dist: normal, mean: 1}\"\n", ["column 'time_dist'"]),
])
def test_bad_cells_are_reported_with_file_row_and_column(tmp_path, text, words):
    f = write(tmp_path, text)
    with pytest.raises(ProjectError) as err:
        read_register(f)
    msg = str(err.value)
    assert str(f) in msg
    for w in words:
        assert w in msg, msg


def test_unsupported_or_missing_files(tmp_path):
    with pytest.raises(ProjectError, match="unsupported register type '.json'"):
        read_register(write(tmp_path, "{}", "reg.json"))
    with pytest.raises(ProjectError, match="no such file"):
        read_register(tmp_path / "nope.csv")
    with pytest.raises(ProjectError, match="cannot be opened as an Excel workbook"):
        read_register(write(tmp_path, "not a zip", "reg.xlsx"))
    with pytest.raises(ProjectError, match="the register is empty"):
        read_register(write(tmp_path, "\n\n"))


def test_unknown_task_names_the_register_row(tmp_path):
    f = write(tmp_path, "id,probability,delay,tasks\nR1,0.2,3,B\nR2,0.2,3,BB\n")
    with pytest.raises(ProjectError) as err:
        merge_register(small_data(), read_register(f))
    msg = str(err.value)
    assert f"{f}, line 3, risk R2, affects: unknown task 'BB'" in msg and "Did you mean 'B'" in msg


# --------------------------------------------------------------------------------------------
# Merge
# --------------------------------------------------------------------------------------------


def test_merge_replaces_by_id_keeps_others_and_adds_new():
    data = small_data(RICH_RISKS[:3])
    before = copy.deepcopy(data)
    new = merge_register(data, [{"id": "R2", "probability": 0.9, "cost": 1},
                                {"id": "N1", "probability": 0.5, "cost": 2}])
    assert data == before                                       # the input is not changed
    assert [r["id"] for r in new["risks"]] == ["R1", "R2", "R3", "N1"]
    assert new["risks"][1] == {"id": "R2", "probability": 0.9, "cost": 1}
    assert new["tasks"] == data["tasks"]


def test_merge_can_repair_a_broken_risk_of_the_project():
    data = small_data([{"id": "R1", "probability": 0.3, "affects": ["GONE"], "delay": 3}])
    with pytest.raises(ProjectError, match="unknown task 'GONE'"):
        Project.from_dict(data)
    new = merge_register(data, [{"id": "R1", "probability": 0.3, "affects": ["B"], "delay": 3}])
    assert Project.from_dict(new).risks[0].affects == ("B",)


def test_merge_validates_the_result():
    with pytest.raises(ProjectError, match="probability"):
        merge_register(small_data(), [{"id": "R9", "probability": 1.5, "cost": 1}])
    with pytest.raises(ProjectError, match="Duplicate task id|duplicate"):
        bad = small_data()
        bad["tasks"].append({"id": "A", "duration": 1})
        merge_register(bad, [])


# --------------------------------------------------------------------------------------------
# Rows and frame
# --------------------------------------------------------------------------------------------


def test_rows_without_simulation_rank_by_score(rich):
    rows = register_rows(rich)
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert set(rows[0]) == {c for c in COLUMNS if c not in RESULT_COLUMNS}
    r1 = next(r for r in rows if r["id"] == "R1")
    assert (r1["probability_band"], r1["time_band"], r1["cost_band"], r1["impact_band"]) == (2, 4, 2, 4)
    assert r1["expected_cost"] == pytest.approx(0.3 * 20000)
    assert r1["response_cost"] == 15000 and r1["residual_probability"] == 0.1 and r1["residual_score"] == 4
    assert r1["residual_time_min"] is None                    # unchanged by the response: left empty


def test_rows_with_simulation_follow_the_p80_ranking(rich, rich_result):
    rows = register_rows(rich, rich_result)
    table = rich_result.risks()
    assert [r["id"] for r in rows] == list(table.index)
    for r in rows:
        assert r["P80_delay_contribution"] == pytest.approx(table.loc[r["id"], "P80_delay_contribution"])
        assert 0 <= r["occurrence"] <= 1
    r1 = next(r for r in rows if r["id"] == "R1")
    assert r1["mitigation_net_benefit"] is not None
    assert next(r for r in rows if r["id"] == "R3")["mitigation_net_benefit"] is None


def test_register_frame(rich, rich_result):
    df = register_frame(rich, rich_result)
    assert df.index.name == "id" and list(df.columns) == [c for c in COLUMNS if c != "id"]
    assert df.loc["R1", "title"] == "Vendor late"
    assert "occurrence" not in register_frame(rich).columns


def test_duration_factor_and_exotic_distributions_in_rows(rich):
    rows = {r["id"]: r for r in register_rows(rich)}
    assert rows["R4"]["time_dist"] == "{dist: lognormal, p10: 2, p90: 9}"
    assert rows["R4"]["duration_factor"] == "{dist: triangular, min: 1, likely: 1.1, max: 1.3}"
    assert rows["R5"]["time_dist"].startswith("{dist: pert") and rows["R5"]["time_min"] is None
    assert rows["R5"]["residual_duration_factor"] == 1.2 and rows["R5"]["residual_cost_likely"] == 100
    assert rows["R3"]["cost_dist"] is None and rows["R3"]["cost_likely"] == 7500


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def test_csv_has_canonical_columns_and_full_precision(tmp_path, rich):
    f = tmp_path / "reg.csv"
    write_register_csv(register_rows(rich), f)
    df = pd.read_csv(f)
    assert list(df.columns)[:3] == ["rank", "id", "title"]
    assert df.set_index("id").loc["R3", "probability"] == 0.123456789
    assert list(tmp_path.iterdir()) == [f]                   # no temporary file left behind


def test_excel_workbook_opens_with_its_formatting(tmp_path, rich, rich_result):
    m = RiskMatrix.for_project(rich)
    rows = register_rows(rich, rich_result, m)
    summary = rich_result.summary()
    f = tmp_path / "reg.xlsx"
    write_register_excel(f, rows, m, summary=summary)

    df = pd.read_excel(f, sheet_name="Register")
    assert len(df) == len(rows)
    assert list(df["ID"]) == [r["id"] for r in rows]
    assert df["P80 delay contribution (days)"].iloc[0] == pytest.approx(rows[0]["P80_delay_contribution"])

    wb = load_workbook(f)
    assert wb.sheetnames == ["Register", "Matrix", "Summary"]
    ws = wb["Register"]
    assert list(ws.tables) == ["RiskRegister"]
    assert ws.tables["RiskRegister"].ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{len(rows) + 1}"
    assert ws.freeze_panes == "D2"
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["Rank", "ID", "Title"] and "Residual rating" in headers
    letter = {h: ws.cell(1, j + 1).column_letter for j, h in enumerate(headers)}
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    assert "open" in lists[f"{letter['Status']}2"] and "mitigate" in lists[f"{letter['Response']}2"]
    cf_rules = ws.conditional_formatting._cf_rules.items()
    cf = {str(rng.sqref).split(":")[0]: [r.type for r in rules] for rng, rules in cf_rules}
    assert cf[f"{letter['Score']}2"] == ["cellIs"] * 3
    assert cf[f"{letter['Rating']}2"] == ["cellIs"] * 3
    score_rules = next(rules for rng, rules in ws.conditional_formatting._cf_rules.items()
                       if str(rng.sqref).startswith(f"{letter['Score']}2"))
    assert [r.formula for r in score_rules] == [["1", "4"], ["5", "9"], ["9"]]
    assert ws[f"{letter['Probability']}2"].number_format == "0.0%"

    mx = wb["Matrix"]
    counts = [[mx.cell(r, c).value for c in range(3, 8)] for r in range(6, 11)]          # P band 5 .. 1
    assert sum(map(sum, counts)) == len(rows)
    r1 = next(r for r in rows if r["id"] == "R1")
    assert counts[5 - r1["probability_band"]][r1["impact_band"] - 1] >= 1
    assert mx.cell(6, 7).fill.fgColor.rgb.endswith("FFC7CE")                               # 5 x 5: high, red
    assert mx.cell(10, 3).fill.fgColor.rgb.endswith("C6EFCE")                              # 1 x 1: low, green

    sm = wb["Summary"]
    values = {row[0]: row[1:] for row in sm.iter_rows(values_only=True) if row[0]}
    assert values["Duration (working days)"][3] == pytest.approx(summary["duration"]["P80"])
    assert values["Cost (EUR)"][2] == pytest.approx(summary["cost"]["P50"])
    assert values["Chance of meeting the deadline"][0] == pytest.approx(summary["deadline"]["probability"])
    assert values["Chance of meeting both"][0] == pytest.approx(summary["joint_probability"])


def test_excel_without_rows_or_summary(tmp_path):
    f = tmp_path / "empty.xlsx"
    write_register_excel(f, [], RiskMatrix())
    wb = load_workbook(f)
    assert wb.sheetnames == ["Register", "Matrix"]
    assert list(wb["Register"].tables) == ["RiskRegister"]
    assert pd.read_excel(f, sheet_name="Register").empty


def test_markdown(tmp_path, rich, rich_result):
    rows = register_rows(rich, rich_result)
    f = tmp_path / "reg.md"
    text = write_register_markdown(rows, f)
    assert f.read_text(encoding="utf-8") == text
    lines = text.splitlines()
    assert lines[0].startswith("| Rank | ID | Title |") and "P80 delay (days)" in lines[0] and "EMV" in lines[0]
    assert lines[1].startswith("|---:|---|---|")
    assert len(lines) == 2 + len(rows)
    assert all(line.count("|") - line.count("\\|") == lines[0].count("|") for line in lines)
    r2 = next(line for line in lines if "| R2 |" in line)
    assert "2 / 4 / 9 (pert)" in r2
    plain = write_register_markdown(register_rows(rich))
    assert "Occurrence" not in plain and "| 10,000 to 30,000 |" in plain
    assert write_register_markdown([{"id": "R1", "title": "a | b\nc"}]).splitlines()[2] == "| R1 | a \\| b c |"


def test_headers_are_read_back_as_their_columns():
    from pmrisk.risk.register import _lookup_header

    for col, header in HEADERS.items():
        assert _lookup_header(header)[0] == col, header
        assert _lookup_header(col)[0] == col, col


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def cli(*args):
    return CliRunner().invoke(register, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def small(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(SMALL)
    return f


def test_cli_rank(small):
    res = cli("rank", small, "-n", "1000")
    assert res.exit_code == 0, res.output
    assert "Rank" in res.output and "R1" in res.output and "Vendor late" in res.output and "P80 delay" in res.output
    res = cli("rank", small, "-n", "1000", "--json", "-", "--mitigated")
    data = json.loads(res.output)
    assert data["mitigated"] is True and data["risks"][0]["id"] == "R1" and data["risks"][0]["rank"] == 1


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".md"])
def test_cli_export(tmp_path, small, suffix):
    out = tmp_path / f"reg{suffix}"
    res = cli("export", small, "--out", out, "-n", "500")
    assert res.exit_code == 0, res.output
    assert out.exists() and "Wrote" in res.output


def test_cli_export_without_simulation(tmp_path, small):
    out = tmp_path / "reg.csv"
    assert cli("export", small, "--out", out, "--no-simulate").exit_code == 0
    assert "occurrence" not in pd.read_csv(out).columns


def test_cli_import_writes_a_valid_new_project(tmp_path, small):
    reg = write(tmp_path, "Risk ID,Risk,P,Schedule impact,Affected tasks\nR1,Vendor late (revised),4,12,B\n"
                          "R2,Tester leaves,2,Medium,A\n")
    out = tmp_path / "new.yaml"
    before = small.read_text()
    res = cli("import", reg, "--into", small, "--out", out)
    assert res.exit_code == 0, res.output
    assert "1 replaced, 1 new" in res.output
    assert small.read_text() == before
    p = pmrisk.load_project(out)
    assert [r.id for r in p.risks] == ["R1", "R2"]
    assert p.risks[0].title == "Vendor late (revised)" and p.risks[0].state.probability == 0.6
    assert p.risks[1].state.delay.mean() == 7.5


def test_cli_never_overwrites_inputs(tmp_path, small):
    reg = tmp_path / "reg.csv"
    assert cli("export", small, "--out", reg, "--no-simulate").exit_code == 0
    reg_text, proj_text = reg.read_text(), small.read_text()
    for args in (("import", reg, "--into", small, "--out", small),
                 ("import", reg, "--into", small, "--out", reg),
                 ("export", small, "--out", small)):
        res = cli(*args)
        assert res.exit_code == 2, res.output
        assert "never overwrites" in res.output and "Traceback" not in res.output
    assert reg.read_text() == reg_text and small.read_text() == proj_text


def test_cli_user_errors_exit_2_without_traceback(tmp_path, small):
    bad = write(tmp_path, "Title,Owner\nx,y\n")
    cases = [("import", bad, "--into", small, "--out", tmp_path / "n.yaml"),
             ("import", write(tmp_path, "id,probability,cost\nR1,0.2,10\n", "ok.csv"), "--into", small,
              "--out", tmp_path / "n.json"),
             ("export", small, "--out", tmp_path / "r.txt"),
             ("export", small, "--out", tmp_path / "missing" / "r.csv"),
             ("rank", tmp_path / "nope.yaml")]
    for args in cases:
        res = cli(*args)
        assert res.exit_code == 2, (args, res.output)
        assert "Error:" in res.output and "Traceback" not in res.output
    assert "missing columns" in cli(*cases[0]).output
    assert not (tmp_path / "n.yaml").exists()


def test_cli_import_reports_ignored_columns(tmp_path, small):
    reg = write(tmp_path, "id,probability,cost,Date raised\nR9,0.2,10,2027-01-01\n")
    res = CliRunner().invoke(register, ["import", str(reg), "--into", str(small), "--out", "-"])
    assert res.exit_code == 0, res.output
    assert "Date raised" in res.output
    assert "id: R9" in res.output


def test_cli_rank_without_risks(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("tasks: [{id: A, duration: 3}]\n")
    res = cli("rank", f)
    assert res.exit_code == 0 and "no risks" in res.output


def test_csv_export_guards_formula_like_text_and_reads_it_back(tmp_path):
    from pmrisk.risk.register import read_register, write_register_csv

    f = tmp_path / "reg.csv"
    write_register_csv([{"id": "R1", "title": "=HYPERLINK(\"http://x\")", "probability": 0.3, "tasks": "A",
                         "time_min": -5, "time_likely": -3, "time_max": -1}], f)
    text = f.read_text()
    assert "'=HYPERLINK" in text and ",-5," in text        # text guarded, numbers untouched
    back = read_register(f)
    assert back[0]["title"] == "=HYPERLINK(\"http://x\")"
