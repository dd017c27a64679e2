"""pmrisk.history.reference and ``pmrisk history``: reference-class uplift, its CLI, bad input.

Quantiles are checked against NumPy's ``inverted_cdf``; the uplift of a lognormal history against
its true value within a tolerance from the order statistic's standard error. Tests that read the
shared data skip when it is absent, except under CI=true, where they fail (the ``home`` fixture of
test_history_datasets).
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats
from test_history_datasets import home  # noqa: F401  (fixture: the shared data, or skip / fail under CI)

from pmrisk.cli import main
from pmrisk.errors import PmriskWarning
from pmrisk.history.datasets import HistoryDataError, list_datasets
from pmrisk.history.reference import (
    OTHER,
    QUANTILE_LEVELS,
    EmpiricalRatio,
    empirical_ratio,
    load_ratios,
    reference_class_uplift,
    resolve_source,
)

Z80 = stats.norm.ppf(0.8)


def frame(planned, actual, **classes) -> pd.DataFrame:
    return pd.DataFrame({"planned": planned, "actual": actual, **classes})


def lognormal_history(n: int, mu: float, sigma: float, seed: int) -> pd.DataFrame:
    g = np.random.default_rng(seed)
    plan = g.uniform(5, 500, n)
    return frame(plan, plan * np.exp(g.normal(mu, sigma, n)))


def cli(*args):
    return CliRunner().invoke(main, ["history", *[str(a) for a in args]])


def assert_clean_failure(res, *words):
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    for word in words:
        assert word in res.stderr, res.stderr


# --------------------------------------------------------------------------------------------
# Quantiles, shares and tails against plain NumPy
# --------------------------------------------------------------------------------------------


def test_quantiles_match_numpy_inverted_cdf():
    g = np.random.default_rng(3)
    plan = g.integers(1, 20, 257).astype(float)
    actual = np.round(plan * g.lognormal(0.1, 0.6, 257))     # ties and exact hits, like real data
    actual[actual == 0] = 1
    ratio = actual / plan
    result = reference_class_uplift(frame(plan, actual), rng=1)
    row = result.to_frame().iloc[0]
    expected = np.quantile(ratio, np.array(QUANTILE_LEVELS) / 100, method="inverted_cdf")
    assert [row[f"P{lv}"] for lv in QUANTILE_LEVELS] == pytest.approx(expected, rel=0, abs=0)
    for lv in (50, 80, 90):
        assert row[f"uplift_P{lv}"] == pytest.approx(100 * (row[f"P{lv}"] - 1))
    assert row["n"] == 257 and row["max"] == ratio.max() and row["mean"] == pytest.approx(ratio.mean())
    assert row["median"] == row["P50"]
    assert row["share_overrun"] == pytest.approx(np.mean(ratio > 1))
    assert row["share_on_plan"] == pytest.approx(np.mean(ratio == 1))
    assert row["share_above_2x"] == pytest.approx(np.mean(ratio > 2))
    assert row["share_above_3x"] == pytest.approx(np.mean(ratio > 3))
    assert row["P50_low"] <= row["P50"] <= row["P50_high"]
    assert row["uplift_P80_low"] <= row["uplift_P80"] <= row["uplift_P80_high"]


def test_every_p_level_is_an_observed_ratio_and_monotone():
    result = reference_class_uplift(lognormal_history(101, 0.2, 0.5, 4), rng=0)
    c = result.get()
    observed = set(result.empirical().values.tolist())
    values = [c.quantiles[f"P{lv}"] for lv in QUANTILE_LEVELS]
    assert all(v in observed for v in values)
    assert values == sorted(values) and values[-1] <= c.max
    for low, high in c.intervals.values():
        assert low in observed and high in observed and low <= high


def test_lognormal_p80_uplift_within_order_statistic_error():
    mu, sigma, n = 0.15, 0.5, 4000
    true_p80 = math.exp(mu + sigma * Z80)
    # standard error of the sample P80: sqrt(p (1 - p) / n) / density at the true P80
    se = math.sqrt(0.8 * 0.2 / n) / stats.lognorm(sigma, scale=math.exp(mu)).pdf(true_p80)
    result = reference_class_uplift(lognormal_history(n, mu, sigma, 11), rng=5)
    c = result.get()
    assert c.uplift(80) == pytest.approx(100 * (true_p80 - 1), abs=100 * 4 * se)
    assert c.quantiles["P50"] == pytest.approx(math.exp(mu), abs=4 * math.sqrt(0.25 / n) * sigma * math.exp(mu)
                                               * math.sqrt(2 * math.pi))
    low, high = c.intervals["P80"]
    # a 90% interval is about 2 x 1.645 standard errors wide
    assert 0.6 * 2 * 1.645 * se < high - low < 1.6 * 2 * 1.645 * se
    # fat right tail of a lognormal: mean above median
    assert c.mean > c.median


def test_bootstrap_interval_covers_the_true_p80_about_as_often_as_it_says():
    mu, sigma, n, runs = 0.1, 0.6, 150, 300
    true_p80 = math.exp(mu + sigma * Z80)
    hits = 0
    for seed in range(runs):
        c = reference_class_uplift(lognormal_history(n, mu, sigma, 1000 + seed), rng=seed, resamples=500).get()
        low, high = c.intervals["P80"]
        hits += low <= true_p80 <= high
    # 90% nominal; binomial sd over 300 runs is 1.7 points, and a discrete percentile interval runs a bit wide
    assert 0.84 <= hits / runs <= 0.97


def test_hill_tail_index_of_a_pareto_tail():
    alpha, n = 1.5, 40_000
    g = np.random.default_rng(8)
    ratio = (1 - g.random(n)) ** (-1 / alpha)                 # Pareto(alpha) above 1
    c = reference_class_uplift(frame(np.ones(n), ratio), rng=0).get()
    assert c.tail_k == 200
    assert c.tail_index == pytest.approx(alpha, abs=4 * alpha / math.sqrt(c.tail_k))
    small = reference_class_uplift(frame(np.ones(99), ratio[:99]), rng=0).get()
    assert math.isnan(small.tail_index)                         # too few ratios for a tail estimate


def test_same_seed_same_figures_and_classes_do_not_disturb_each_other():
    data = lognormal_history(300, 0.1, 0.4, 2).assign(kind=np.repeat(["a", "b", "c"], 100))
    one = reference_class_uplift(data, rng=7).get()
    two = reference_class_uplift(data, by="kind", rng=7)
    assert two.get() == one                                      # "all" does not depend on --by
    assert reference_class_uplift(data, by="kind", rng=7).to_dict() == two.to_dict()
    other_seed = reference_class_uplift(data, rng=8).get()
    assert other_seed.quantiles == one.quantiles and other_seed.intervals != one.intervals


# --------------------------------------------------------------------------------------------
# Classes
# --------------------------------------------------------------------------------------------


def test_classes_are_reported_separately_and_small_ones_folded_or_flagged():
    kinds = ["big"] * 60 + ["mid"] * 25 + ["tiny1"] * 5 + ["tiny2"] * 7 + [None] * 3
    data = lognormal_history(len(kinds), 0.1, 0.4, 3).assign(kind=kinds)
    folded = reference_class_uplift(data, by="kind", rng=0)
    table = folded.to_frame()
    assert table[["by", "class", "n", "small", "folded"]].values.tolist() == [
        ["", "all", 100, False, 0], ["kind", "big", 60, False, 0], ["kind", "mid", 25, False, 0],
        ["kind", OTHER, 15, True, 3]]
    other = folded.empirical(OTHER, "kind")
    assert other.n == 15
    assert np.array_equal(other.values, np.sort(data["actual"][85:] / data["planned"][85:]))
    assert any("folded" in w for w in folded.warnings)
    flagged = reference_class_uplift(data, by="kind", small="flag", rng=0).to_frame()
    assert flagged["class"].tolist() == ["all", "big", "mid", "tiny2", "tiny1", "(missing)"]
    assert flagged["small"].tolist() == [False, False, False, True, True, True]


def test_size_bands_in_order_and_a_lone_small_class_is_flagged_not_folded():
    data = lognormal_history(90, 0.1, 0.4, 5)
    r = load_ratios(data)
    assert set(r["size_class"]) == {"small", "medium", "large"}
    table = reference_class_uplift(data, by="size_class", rng=0).to_frame()
    assert table["class"].tolist() == ["all", "small", "medium", "large"]
    lone = data.assign(kind=["x"] * 85 + ["y"] * 5)
    table = reference_class_uplift(lone, by="kind", rng=0).to_frame()
    assert table["class"].tolist() == ["all", "x", "y"] and table["small"].tolist() == [False, False, True]
    # all classes small: folding would repeat "all", so they are flagged instead
    every = reference_class_uplift(data, by="size_class", min_class_size=40, rng=0).to_frame()
    assert every["class"].tolist() == ["all", "small", "medium", "large"] and every["small"][1:].all()


def test_exclude_leaves_rows_out_and_counts_them():
    data = lognormal_history(60, 0.1, 0.4, 6).assign(status=["DONE"] * 50 + ["CANCELLED"] * 10)
    result = reference_class_uplift(data, exclude={"status": ["CANCELLED"]}, rng=0)
    assert result.n == 50 and list(result.dropped.values()) == [10]
    with pytest.raises(HistoryDataError, match="cannot exclude by 'nope'"):
        reference_class_uplift(data, exclude={"nope": ["x"]})


def test_ratio_in_other_units_gives_no_uplift():
    data = lognormal_history(40, 0.1, 0.4, 7)
    data.attrs = {"name": "points", "ratio_unit": "hours per story point"}
    result = reference_class_uplift(data, rng=0)
    assert not result.dimensionless
    row = result.to_frame().iloc[0]
    assert math.isnan(row["uplift_P80"]) and row["P80"] > 0
    assert result.to_dict()["classes"][0]["uplift_pct"] is None
    assert any("not a plain overrun" in w for w in result.warnings)


def test_to_dict_is_plain_json():
    data = lognormal_history(50, 0.1, 0.4, 8).assign(kind=["a"] * 30 + ["b"] * 20)
    d = reference_class_uplift(data, by="kind", rng=0).to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    assert set(d) >= {"source", "planned", "actual", "ratio_unit", "n", "classes", "warnings", "confidence_level"}
    c = d["classes"][0]
    assert set(c["uplift_pct"]) == {"P50", "P80", "P90"} and c["tail_index"] is None
    assert set(c["ratio"]) == {f"P{lv}" for lv in QUANTILE_LEVELS}


def test_small_history_warns():
    with pytest.warns(PmriskWarning, match="fewer than the minimum class size"):
        result = reference_class_uplift(frame([1.0] * 8, [1.0, 1.2, 0.9, 1.5, 2.0, 1.1, 1.0, 1.3]), rng=0)
    assert result.get().small


# --------------------------------------------------------------------------------------------
# The empirical ratio: a factor for the simulation
# --------------------------------------------------------------------------------------------


def test_empirical_ratio_is_the_inverted_cdf_of_the_history():
    data = lognormal_history(77, 0.2, 0.5, 9)
    f = empirical_ratio(data)
    ratio = (data["actual"] / data["planned"]).to_numpy()
    assert np.array_equal(f.values, np.sort(ratio))
    assert np.array_equal(f.probabilities, np.arange(1, 78) / 77)
    p = np.linspace(0.001, 1, 500)
    assert np.array_equal(f.ppf(p), np.quantile(ratio, p, method="inverted_cdf"))
    assert np.array_equal(f.cdf(f.values), f.probabilities)
    draws = f.sample(5000, rng=1)
    assert set(draws.tolist()) <= set(ratio.tolist())
    assert np.array_equal(draws, f.sample(5000, rng=1))
    assert abs(draws.mean() - ratio.mean()) < 5 * ratio.std() / math.sqrt(5000)
    d = f.to_dict()
    assert d["n"] == 77 and d["values"] == sorted(ratio.tolist())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        f.ppf(1.5)
    with pytest.raises(HistoryDataError):
        EmpiricalRatio.from_ratios([1.0, -2.0])


# --------------------------------------------------------------------------------------------
# Bad input through the API
# --------------------------------------------------------------------------------------------


def test_bad_input_is_named(tmp_path):
    path = tmp_path / "past.csv"
    path.write_text("task,plan,done,kind\n" + "".join(f"T{i},{10 + i},{12 + i},k\n" for i in range(8)))
    with pytest.raises(HistoryDataError, match="estimate column 'planned' does not exist.*Did you mean 'plan'"):
        reference_class_uplift(path, planned="planned", actual="done")
    with pytest.raises(HistoryDataError, match="name the plan and actual columns"):
        reference_class_uplift(path)
    with pytest.raises(HistoryDataError, match="no class column 'sector'.*kind"):
        reference_class_uplift(path, by="sector", planned="plan", actual="done")
    with pytest.raises(HistoryDataError, match="column 'kind'.*not a number"):
        reference_class_uplift(path, planned="kind", actual="done")
    few = tmp_path / "few.csv"
    few.write_text("plan,done\n10,12\n5,6\n4,0\n8,9\n3,-1\n7,7\n")
    with pytest.raises(HistoryDataError, match="only 4 row.*at least 5"):
        reference_class_uplift(few, planned="plan", actual="done")
    with pytest.raises(HistoryDataError, match="neither a file nor a shared dataset.*Did you mean 'cesaw'"):
        reference_class_uplift("cesav")
    with pytest.raises(HistoryDataError, match="does not exist"):
        reference_class_uplift(tmp_path / "missing.csv", planned="plan", actual="done")
    with pytest.raises(HistoryDataError, match="not a number"):
        load_ratios(frame(["1", "x", "3"], [1, 2, 3]))
    with pytest.raises(HistoryDataError, match="confidence_level"):
        reference_class_uplift(frame([1.0] * 6, [1.0] * 6), confidence_level=1.0)


def test_resolve_source():
    assert resolve_source("cesaw") == "cesaw"
    assert resolve_source("x/y.csv").name == "y.csv"
    with pytest.raises(HistoryDataError, match="neither"):
        resolve_source("nothing-like-it")


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


@pytest.fixture
def past_csv(tmp_path):
    data = lognormal_history(120, 0.15, 0.5, 12).assign(team=["red"] * 70 + ["blue"] * 40 + ["grey"] * 10)
    data = data.rename(columns={"planned": "plan_h", "actual": "actual_h"}).round(2)
    path = tmp_path / "past.csv"
    data.to_csv(path, index=False)
    return path


def test_cli_uplift_table_and_json(past_csv, tmp_path):
    res = cli("uplift", past_csv, "--planned", "plan_h", "--actual", "actual_h", "--by", "team", "--small", "flag")
    assert res.exit_code == 0, res.output
    for word in ("P80 uplift", "team=red", "team=grey *", "Tail α", "bootstrap interval", "seed 42"):
        assert word in res.stdout
    res = cli("uplift", past_csv, "--planned", "plan_h", "--actual", "actual_h", "--by", "team", "--json", "-")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["n"] == 120 and d["seed"] == 42 and d["planned"] == "plan_h" and d["actual"] == "actual_h"
    assert [(c["by"], c["class"], c["n"]) for c in d["classes"]] == [
        (None, "all", 120), ("team", "red", 70), ("team", "blue", 40), ("team", "grey", 10)]
    expected = reference_class_uplift(past_csv, by="team", planned="plan_h", actual="actual_h", rng=42).to_dict()
    assert d["classes"] == json.loads(json.dumps(expected))["classes"]
    out = tmp_path / "uplift.json"
    res = cli("uplift", past_csv, "--planned", "plan_h", "--actual", "actual_h", "--json", out, "--seed", "3")
    assert res.exit_code == 0 and json.loads(out.read_text())["seed"] == 3
    assert "P80 uplift" in res.stdout


def test_cli_uplift_reads_excel(past_csv, tmp_path):
    xlsx = tmp_path / "past.xlsx"
    pd.read_csv(past_csv).to_excel(xlsx, index=False)
    args = ("--planned", "plan_h", "--actual", "actual_h", "--by", "team", "--json", "-")
    assert json.loads(cli("uplift", xlsx, *args).stdout) == json.loads(cli("uplift", past_csv, *args).stdout) | {
        "source": "past"}


def test_cli_uplift_bad_input(past_csv, tmp_path):
    base = ("uplift", past_csv, "--planned", "plan_h", "--actual", "actual_h")
    assert_clean_failure(cli("uplift", "no-such-dataset"), "neither a file nor a shared dataset")
    assert_clean_failure(cli("uplift", past_csv, "--planned", "plan", "--actual", "actual_h"),
                         str(past_csv), "'plan' does not exist", "plan_h")
    assert_clean_failure(cli("uplift", past_csv, "--planned", "team", "--actual", "actual_h"), "not a number")
    assert_clean_failure(cli(*base, "--by", "sector"), "no class column 'sector'")
    assert_clean_failure(cli("uplift", past_csv), "--planned COL --actual COL")
    assert_clean_failure(cli(*base, "--json", past_csv), "never overwrites its input")
    assert "plan_h" in past_csv.read_text()
    assert_clean_failure(cli(*base, "--json", tmp_path / "nope" / "x.json"), "does not exist")
    assert_clean_failure(cli(*base, "--exclude", "team"), "COLUMN=VALUE")
    few = tmp_path / "few.csv"
    few.write_text("plan,done\n10,12\n5,6\n8,9\n7,7\n")
    assert_clean_failure(cli("uplift", few, "--planned", "plan", "--actual", "done"), "at least 5")


def test_cli_datasets():
    res = cli("datasets")
    assert res.exit_code == 0, res.output
    for name in list_datasets():
        assert name in res.stdout
    d = json.loads(cli("datasets", "--json", "-").stdout)["datasets"]
    by_name = {r["name"]: r for r in d}
    assert set(by_name) == set(list_datasets())
    assert by_name["sip-tasks"]["estimate"] == "HoursEstimate" and by_name["sip-tasks"]["rows"] == 12299
    assert by_name["dslib-real-projects"]["estimates"] == {"planned_duration_days": "real_duration_days",
                                                           "bac_eur": "real_cost_eur"}
    assert by_name["desharnais"]["estimate"] is None


def test_cli_evaluate_json_shape(tmp_path):
    g = np.random.default_rng(4)
    size = g.lognormal(4, 0.8, 40)
    data = pd.DataFrame({"size": size, "team": g.integers(2, 9, 40),
                         "effort": 8 * size * g.lognormal(0, 0.3, 40)})
    path = tmp_path / "projects.csv"
    data.to_csv(path, index=False)
    res = cli("evaluate", path, "--target", "effort", "--features", "size,team", "--cv", "4", "--json", "-")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["n"] == 40 and d["target"] == "effort" and d["features"] == ["size", "team"] and d["cv"] == 4
    m = d["metrics"]
    assert {"MAE", "MdAE", "SA", "Pred25", "coverage", "interval_width_ratio"} <= set(m)
    assert set(m["coverage"]) >= {"P50", "P80", "P90"} and "P80" in m["interval_width_ratio"]
    assert 0 < m["SA"] <= 1
    res = cli("evaluate", path, "--target", "effort", "--features", "size", "--cv", "5")
    assert res.exit_code == 0 and "SA" in res.stdout and "coverage" in res.stdout


def test_cli_evaluate_keeps_rows_with_missing_features(tmp_path):
    g = np.random.default_rng(5)
    size = g.lognormal(4, 0.8, 30)
    team = g.integers(2, 9, 30).astype(float)
    team[[3, 11, 20]] = np.nan
    language = pd.Series(g.choice(["Java", "COBOL"], 30)).mask(pd.Series(np.arange(30) == 7))
    data = pd.DataFrame({"size": size, "team": team, "language": language,
                         "effort": 8 * size * g.lognormal(0, 0.3, 30)})
    path = tmp_path / "projects.csv"
    data.to_csv(path, index=False)
    res = cli("evaluate", path, "--target", "effort", "--cv", "5", "--json", "-")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["n"] == 30  # every row kept: the model fills the gaps inside each fold
    assert "4 feature value(s) are missing in 4 of 30 rows; every row is kept" in res.stderr


def test_cli_evaluate_bad_input(tmp_path):
    path = tmp_path / "projects.csv"
    path.write_text("size,effort,name\n" + "".join(f"{10 + i},{100 + 7 * i},p{i}\n" for i in range(12)))
    assert_clean_failure(cli("evaluate", path, "--target", "Effort"), "target column 'Effort' does not exist",
                         "Did you mean 'effort'")
    assert_clean_failure(cli("evaluate", path, "--target", "name"), "not a number")
    assert_clean_failure(cli("evaluate", path, "--target", "effort", "--features", "size,colour"),
                         "feature column 'colour' does not exist")
    assert_clean_failure(cli("evaluate", path, "--target", "effort", "--cv", "1"), "K >= 2")
    assert_clean_failure(cli("evaluate", "desharnias", "--target", "Effort"), "Did you mean 'desharnais'")
    few = tmp_path / "few.csv"
    few.write_text("size,effort\n1,2\n2,4\n3,5\n")
    assert_clean_failure(cli("evaluate", few, "--target", "effort"), "at least 5")
    assert_clean_failure(cli("evaluate", path, "--target", "effort", "--json", path), "never overwrites its input")


def test_cli_is_listed_in_the_main_help():
    res = CliRunner().invoke(main, ["--help"])
    assert "history" in res.stdout
    res = cli("--help")
    assert all(c in res.stdout for c in ("datasets", "uplift", "evaluate"))


# --------------------------------------------------------------------------------------------
# The shared planned-vs-actual datasets
# --------------------------------------------------------------------------------------------

SHARED = [("dslib-real-projects", None, "sector"), ("dslib-real-projects", "real_cost_eur", "sector"),
          ("sip-tasks", None, "Category"), ("cesaw", None, "process_name"), ("renzo-pomodoro", None, None),
          ("jorgensen-tasks-49", None, "size_class"), ("project-22", None, "Phase")]


@pytest.mark.parametrize(("name", "actual", "by"), SHARED)
def test_shared_datasets_match_numpy(home, name, actual, by):  # noqa: F811
    from pmrisk.history.datasets import ratios

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PmriskWarning)
        expected = ratios(name, target=actual)
        result = reference_class_uplift(name, by=by, actual=actual, rng=1, resamples=200)
    assert result.n == len(expected)
    c = result.get()
    ratio = expected["ratio"].to_numpy()
    assert [c.quantiles[f"P{lv}"] for lv in QUANTILE_LEVELS] == list(
        np.quantile(ratio, np.array(QUANTILE_LEVELS) / 100, method="inverted_cdf"))
    assert c.max == ratio.max() and c.share_overrun == pytest.approx(np.mean(ratio > 1))
    assert [k.label for k in result.classes][0] == "all"
    if by:
        assert sum(k.n for k in result.classes if k.by == by) == result.n
    assert result.dimensionless == (name != "project-22")


def test_shared_dslib_figures(home):  # noqa: F811
    result = reference_class_uplift("dslib-real-projects", by="sector", small="flag", rng=1)
    assert result.n == 150
    it = result.get("IT", "sector")
    assert it.n == 17 and it.small
    cost = reference_class_uplift("dslib-real-projects", actual="real_cost_eur", rng=1)
    assert cost.planned == "bac_eur" and cost.get().max > 7       # C2025-18: 1,466,353 EUR against 196,718
    with pytest.raises(HistoryDataError, match="not the plan of 'real_duration_days'"):
        reference_class_uplift("dslib-real-projects", planned="bac_eur")


def test_shared_dataset_without_plan_is_refused(home):  # noqa: F811
    assert_clean_failure(cli("uplift", "desharnais"), "no planned values", "jorgensen-tasks-49")


def test_cli_uplift_on_a_shared_dataset(home):  # noqa: F811
    res = cli("uplift", "sip-tasks", "--by", "Category", "--exclude", "StatusCode=CANCELLED,ESTIMATED,TEMPLATE",
              "--json", "-", "--resamples", "200")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["source"] == "sip-tasks" and d["n"] > 9_900
    assert [c["class"] for c in d["classes"]] == ["all", "Development", "Operational", "Management"]
    assert any(k.startswith("excluded by StatusCode") for k in d["dropped"])


def test_cli_evaluate_on_a_shared_dataset(home):  # noqa: F811
    res = cli("evaluate", "desharnais", "--target", "Effort", "--features", "Length")
    assert_clean_failure(res, "'Length' is known only after the project ended")
