"""History models: scikit-learn contract, accuracy metrics, calibrated intervals, evaluation, persistence."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from pmrisk.errors import PmriskWarning
from pmrisk.history.evaluate import (
    accuracy,
    cross_predict,
    cv_splits,
    evaluate,
    mae_random_guessing,
    sd_random_guessing,
    standardized_accuracy,
)
from pmrisk.history.models import ATLM, ConformalRegressor, EstimateAware, LogRidge, PredictiveDistribution
from pmrisk.history.persist import FORMAT, from_dict, load_model, save_model, to_dict


def history(n, rng, sigma=0.4):
    """Synthetic past projects: effort = 6 * size^0.9 * lognormal(0, sigma) (size in function points)."""
    size = rng.lognormal(5, 1, n)
    return size[:, None], 6 * size ** 0.9 * rng.lognormal(0, sigma, n)


def frame_history(n, rng):
    """A DataFrame with a skewed size, a categorical language, a column with gaps, and the effort."""
    size = rng.lognormal(5, 1, n)
    language = rng.choice(["COBOL", "Java", "Python"], n)
    team = rng.uniform(1, 10, n)
    team[rng.random(n) < 0.1] = np.nan
    factor = pd.Series(language).map({"COBOL": 1.6, "Java": 1.0, "Python": 0.8}).to_numpy()
    effort = 6 * size ** 0.9 * factor * rng.lognormal(0, 0.3, n)
    return pd.DataFrame({"Size": size, "Language": language, "Team": team}), pd.Series(effort, name="Effort")


# --------------------------------------------------------------------------------------------------
# scikit-learn contract (every check applies; none is expected to fail)

@pytest.mark.filterwarnings("ignore::pmrisk.errors.PmriskWarning")  # EstimateAware: negative "estimates" in checks
@parametrize_with_checks([ATLM(), LogRidge(), EstimateAware(), ConformalRegressor(),
                          ConformalRegressor(ATLM(), method="cv+", cv=3, random_state=0)])
def test_sklearn_contract(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------------------------------
# metrics

def test_sa_of_a_perfect_predictor_is_exactly_one():
    y = np.random.default_rng(1).lognormal(7, 1, 30)
    assert standardized_accuracy(y, y) == 1.0
    assert accuracy(y, y)["Pred25"] == 1.0


def test_random_guessing_closed_forms_match_brute_force():
    y = np.random.default_rng(2).lognormal(3, 1, 25)
    n = len(y)
    d = np.abs(y[:, None] - y[None, :])
    per_row = d.sum(axis=1) / (n - 1)
    var_row = (d ** 2).sum(axis=1) / (n - 1) - per_row ** 2
    assert mae_random_guessing(y) == pytest.approx(per_row.mean(), rel=1e-12)
    assert sd_random_guessing(y) == pytest.approx(np.sqrt(var_row.sum()) / n, rel=1e-12)


def test_sa_of_random_guessing_is_about_zero():
    rng = np.random.default_rng(7)
    y = rng.lognormal(7, 1, 40)
    n, runs = len(y), 4000
    j = rng.integers(0, n - 1, size=(runs, n))
    j += j >= np.arange(n)  # uniform over the other projects
    sa = 1 - np.abs(y - y[j]).mean(axis=1) / mae_random_guessing(y)
    sd_one_run = sd_random_guessing(y) / mae_random_guessing(y)
    assert abs(sa.mean()) < 4 * sd_one_run / np.sqrt(runs)
    assert np.std(sa, ddof=1) == pytest.approx(sd_one_run, rel=4 / np.sqrt(2 * runs))


# --------------------------------------------------------------------------------------------------
# estimators

def test_atlm_is_least_squares_on_the_skewed_features_logged():
    rng = np.random.default_rng(3)
    size, team = rng.lognormal(5, 1, 50), rng.uniform(1, 10, 50)
    y = 3 * size ** 0.8 * np.exp(0.05 * team) * rng.lognormal(0, 0.3, 50)
    model = ATLM().fit(np.column_stack([size, team]), y)
    beta = np.linalg.lstsq(np.column_stack([np.ones(50), np.log(size), team]), np.log(y), rcond=None)[0]
    assert model.feature_names_out_ == ["log(x0)", "x1"] and model.log_target_
    np.testing.assert_allclose([model.intercept_, *model.coef_], beta, rtol=1e-9)


def test_missing_feature_gets_the_training_median():
    X, y = history(32, np.random.default_rng(4))
    X[5, 0] = np.nan
    median = np.nanmedian(X[:, 0])  # odd count: an actual value, and exp(median log) = median
    for model in (ATLM(), LogRidge()):
        model.fit(X, y)
        np.testing.assert_allclose(model.predict([[np.nan]]), model.predict([[median]]), rtol=1e-12)
    lo, hi = ConformalRegressor(LogRidge()).fit(X, y).predict_interval([[np.nan]])  # fold models: own medians
    assert 0 < lo[0] < hi[0] < np.inf


def test_date_columns_are_decimal_years():
    rng = np.random.default_rng(21)
    n = 40
    start = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 8 * 365, n), unit="D")
    size = rng.lognormal(5, 1, n)
    years = (start.year + (start.day_of_year - 1) / 365.25).to_numpy()
    effort = 6 * size ** 0.9 * np.exp(0.1 * (years - 2015)) * rng.lognormal(0, 0.2, n)
    X = pd.DataFrame({"Size": size, "Start": start})
    model = LogRidge(log_features="positive").fit(X, effort)
    assert model.feature_names_out_ == ["log(Size)", "log(Start)"]  # one number, not one category per day
    np.testing.assert_allclose(model.predict(X), LogRidge(log_features="positive").fit(
        X.assign(Start=years), effort).predict(X.assign(Start=years)), rtol=1e-9)
    lo, hi = ConformalRegressor(ATLM()).fit(X, effort).predict_interval(X[:3])
    assert np.all((0 < lo) & (lo < hi))


def test_skewed_counts_with_zeros_are_logged_shifted():
    """A count with zeros is log(1 + count) for LogRidge; raw, it makes predictions explode beyond the range."""
    rng = np.random.default_rng(22)
    n = 60
    screens = np.floor(rng.lognormal(2, 1.2, n))  # many zeros, long right tail
    effort = 40 * (1 + screens) ** 0.7 * rng.lognormal(0, 0.3, n)
    model = LogRidge().fit(screens[:, None], effort)
    assert model.feature_names_out_ == ["log(x0 + 1)"] and (screens == 0).any()
    assert model.coef_[0] == pytest.approx(0.7, abs=0.1)
    big = model.predict([[20 * screens.max()]])[0]
    assert big < 40 * (1 + 20 * screens.max()) ** 0.7 * 3  # a power law, not exp(count)
    assert ATLM().fit(screens[:, None], effort).feature_names_out_ == ["x0"]  # the baseline as published
    wrapped = ConformalRegressor(LogRidge(), quantile_rule="conservative").fit(screens[:, None], effort)
    again = from_dict(json.loads(json.dumps(to_dict(wrapped))))  # the shift and the rule are saved
    new = np.array([[0.0], [3.0], [5 * screens.max()]])
    np.testing.assert_array_equal(again.predict_quantiles(new, [0.1, 0.9]), wrapped.predict_quantiles(new, [0.1, 0.9]))
    assert again.quantile_rule == "conservative"


def test_categorical_columns_are_one_hot_encoded():
    X, y = frame_history(90, np.random.default_rng(5))
    model = LogRidge().fit(X, y)
    assert {"Language=COBOL", "Language=Java", "Language=Python"} <= set(model.feature_names_out_)
    new = pd.DataFrame({"Size": [200.0, 200.0, 200.0], "Language": ["COBOL", "Python", "Rust"], "Team": [5, 5, 5]})
    cobol, python, unseen = model.predict(new)
    assert cobol > 1.5 * python and np.isfinite(unseen)


def test_estimate_aware_beats_data_only_when_the_estimate_is_informative():
    rng = np.random.default_rng(6)
    n = 80
    size = rng.lognormal(5, 0.8, n)
    known_to_team = rng.normal(0, 0.6, n)  # what the team knows and the features do not
    actual = 4 * size ** 0.9 * np.exp(known_to_team + rng.normal(0, 0.15, n))
    estimate = actual / 1.3 * np.exp(rng.normal(0, 0.15, n))  # informative, but 30% optimistic
    X = pd.DataFrame({"Estimate": estimate, "Size": size})
    aware = evaluate(EstimateAware("Estimate"), X, actual, cv=5, repeats=2, rng=0)["metrics"]
    data_only = evaluate(LogRidge(), X[["Size"]], actual, cv=5, repeats=2, rng=0)["metrics"]
    assert aware["SA"] > data_only["SA"] + 0.1
    assert aware["SA"] > standardized_accuracy(actual, estimate)  # it corrects the optimism
    assert EstimateAware("Estimate").fit(X, actual).overrun_ == pytest.approx(1.3, rel=0.1)


def test_estimate_aware_fills_missing_estimates_and_says_so():
    rng = np.random.default_rng(8)
    estimate = rng.lognormal(3, 1, 30)
    actual = 1.2 * estimate * rng.lognormal(0, 0.2, 30)
    estimate[:3] = [np.nan, 0.0, -1.0]
    with pytest.warns(PmriskWarning, match="3 of 30 rows have no positive team estimate"):
        model = EstimateAware().fit(estimate[:, None], actual)
    with pytest.warns(PmriskWarning, match="3 of 5 rows"):
        assert model.missing_indicator_ and np.all(np.isfinite(model.predict(estimate[:5, None])))


# --------------------------------------------------------------------------------------------------
# predictive distributions and their calibration

@pytest.mark.parametrize(("method", "n", "reps"), [("cv+", 40, 1000), ("jackknife+", 20, 300)])
def test_interval_coverage_on_lognormal_data(method, n, reps):
    """Each replicate: fresh history of n projects and one new project; coverage is then binomial."""
    rng = np.random.default_rng(2024)
    levels = (0.5, 0.8, 0.9)
    hits = np.zeros((reps, len(levels)))
    for r in range(reps):
        X, y = history(n + 1, rng)
        model = ConformalRegressor(LogRidge(), method=method, cv=5, random_state=r).fit(X[:n], y[:n])
        dist = model.predict_distribution(X[n:])
        for k, c in enumerate(levels):
            lo, hi = dist.interval(c)
            hits[r, k] = lo[0] <= y[n] <= hi[0]
    for k, c in enumerate(levels):
        tolerance = 4 * np.sqrt(c * (1 - c) / reps) + 1 / (n + 1)  # Monte Carlo + conformal rank rounding
        assert abs(hits[:, k].mean() - c) <= tolerance, (c, hits[:, k].mean())


def test_distribution_quantiles_are_consistent():
    X, y = history(40, np.random.default_rng(9))
    model = ConformalRegressor(LogRidge()).fit(X, y)
    q = model.predict_quantiles(X[:5], [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95])
    assert np.all(np.diff(q, axis=1) >= 0)
    np.testing.assert_array_equal(q[:, 3], model.predict(X[:5]))  # P50 is the point prediction
    lo80, hi80 = model.predict_interval(X[:5], coverage=0.8)
    np.testing.assert_array_equal(np.column_stack([lo80, hi80]), q[:, [1, 5]])
    draws = model.predict_distribution(X[:5]).sample(1000, rng=1)
    assert draws.shape == (5, 1000)
    np.testing.assert_array_equal(draws, model.predict_distribution(X[:5]).sample(1000, rng=1))
    assert np.all(np.abs(np.median(np.log(draws), axis=1) - np.log(q[:, 3])) < 0.1)


def test_interpolated_quantiles_are_calibrated_on_small_histories():
    """n exchangeable values and a new one: interpolated P5-P95 covers 90%, the conservative rule 36/38."""
    rng = np.random.default_rng(23)
    n, reps = 37, 20000
    values, new = rng.normal(size=(reps, n)), rng.normal(size=reps)
    for rule, expected in (("interpolated", 0.90), ("conservative", 36 / 38)):
        lo, hi = PredictiveDistribution(values, log_space=False, rule=rule).interval(0.9)
        assert np.mean((lo <= new) & (new <= hi)) == pytest.approx(expected, abs=0.006), rule
    d = PredictiveDistribution(np.arange(1.0, 38.0)[None, :], log_space=False)
    np.testing.assert_allclose(d.interval(0.9), [[1.9], [36.1]])  # positions 0.05 * 38 and 0.95 * 38
    with pytest.raises(ValueError, match="rule must be one of"):
        PredictiveDistribution(values, log_space=False, rule="nearest")
    with pytest.raises(ValueError, match="quantile_rule must be one of"):
        ConformalRegressor(quantile_rule="nearest").fit(*history(10, rng))


def test_distribution_rank_rule():
    for rule in ("interpolated", "conservative"):
        d = PredictiveDistribution(np.arange(1.0, 20.0)[None, :], log_space=False, rule=rule)  # n = 19
        assert d.interval(0.9) == (np.array([1.0]), np.array([19.0]))
        assert d.interval(0.8) == (np.array([2.0]), np.array([18.0]))
    assert PredictiveDistribution(np.arange(1.0, 20.0)[None, :], False, "conservative").quantiles([0.7]) == 14.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        d.quantiles([80])


# --------------------------------------------------------------------------------------------------
# evaluation

def test_evaluate_json_shape():
    X, y = frame_history(30, np.random.default_rng(10))
    report = evaluate(LogRidge(), X, y, cv="loo")
    json.dumps(report, allow_nan=False)
    assert {"n", "target", "features", "cv", "metrics"} <= set(report)
    assert (report["n"], report["target"], report["features"], report["cv"]) == (30, "Effort", list(X.columns), "loo")
    m = report["metrics"]
    assert {"MAE", "MdAE", "SA", "Pred25", "coverage", "interval_width_ratio"} <= set(m)
    assert set(m["coverage"]) == {"P50", "P80", "P90"} and "P80" in m["interval_width_ratio"]
    assert m["coverage"]["P50"] <= m["coverage"]["P80"] <= m["coverage"]["P90"]
    assert m["interval_width_ratio"]["P80"] > 1 and 0 < m["SA"] < 1


def test_evaluate_is_nested_and_reproducible():
    X, y = history(25, np.random.default_rng(11))
    loo = cross_predict(LogRidge(), X, y, cv="loo")
    alone = ConformalRegressor(LogRidge()).fit(X[1:], y[1:])
    first = loo[loo["row"] == 0].iloc[0]
    lo, hi = alone.predict_interval(X[:1], 0.8)
    assert (first["lower_P80"], first["upper_P80"]) == (lo[0], hi[0])
    a = evaluate(ConformalRegressor(LogRidge(), method="cv+", cv=4), X, y, cv=3, repeats=2, rng=5)
    b = evaluate(ConformalRegressor(LogRidge(), method="cv+", cv=4), X, y, cv=3, repeats=2, rng=5)
    assert a == b and a["cv"] == 3 and a["repeats"] == 2


def test_cv_splits():
    loo = cv_splits(5, "loo")[0]
    assert [t.tolist() for _, t in loo] == [[0], [1], [2], [3], [4]]
    for folds in cv_splits(10, 3, repeats=2, rng=0):
        assert sorted(np.concatenate([t for _, t in folds]).tolist()) == list(range(10))
    given = cv_splits(6, ["a", "b", "c", "a", "b", "c"])[0]
    assert [t.tolist() for _, t in given] == [[0, 3], [1, 4], [2, 5]]
    pairs = cv_splits(4, [([0, 1], [2, 3]), ([2, 3], [0, 1])])[0]
    assert [t.tolist() for _, t in pairs] == [[2, 3], [0, 1]]
    with pytest.raises(ValueError, match="impossible"):
        cv_splits(4, 5)
    with pytest.raises(ValueError, match="one label per row"):
        cv_splits(4, [0, 1, 0])


# --------------------------------------------------------------------------------------------------
# bad input

@pytest.mark.parametrize("model", [ATLM(), LogRidge(), EstimateAware(), ConformalRegressor()])
def test_bad_input_messages(model):
    X, y = history(20, np.random.default_rng(12))
    with pytest.raises(ValueError, match="must be numeric.*'n/a'"):
        model.fit(X, pd.Series(["n/a"] + list(y[1:]), name="Effort", dtype=object))
    with pytest.raises(ValueError, match="at least 5 past projects.*got 4 samples"):
        model.fit(X[:4], y[:4])
    with pytest.raises(ValueError, match=r"1 missing value\(s\) \(rows 3, counting from 0\)"):
        model.fit(X, np.where(np.arange(20) == 3, np.nan, y))
    with pytest.raises(ValueError, match="requires y to be passed"):
        model.fit(X, None)


def test_non_positive_target():
    X, y = history(20, np.random.default_rng(13))
    y[[2, 7]] = [0.0, -3.0]
    for model in (LogRidge(), EstimateAware(), ConformalRegressor(LogRidge())):
        with pytest.raises(ValueError, match=r"strictly positive target.*2 row\(s\) are <= 0 \(rows 2, 7 counting"):
            model.fit(X, y)
    assert not ATLM().fit(X, y).log_target_  # the baseline keeps such a target on its own scale


def test_estimate_column_must_exist():
    X, y = frame_history(20, np.random.default_rng(14))
    with pytest.raises(ValueError, match="estimate column 'Estimate' is not among the features"):
        EstimateAware("Estimate").fit(X, y)
    with pytest.raises(ValueError, match="no row has a positive team estimate"):
        EstimateAware("Team").fit(X.assign(Team=0.0), y)


# --------------------------------------------------------------------------------------------------
# persistence

@pytest.mark.parametrize("model", [ATLM(), LogRidge(), EstimateAware("Size"), ConformalRegressor(),
                                   ConformalRegressor(ATLM(), method="cv+", cv=4, random_state=1)])
def test_saved_model_predicts_identically(model, tmp_path):
    X, y = frame_history(40, np.random.default_rng(15))
    model.fit(X, y)
    path = tmp_path / "model.json"
    save_model(model, path)
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT and data["model"]["type"] == type(model).__name__
    loaded = load_model(path)
    new, _ = frame_history(12, np.random.default_rng(16))
    np.testing.assert_array_equal(loaded.predict(new), model.predict(new))
    if hasattr(model, "predict_quantiles"):
        levels = [0.1, 0.5, 0.9]
        np.testing.assert_array_equal(loaded.predict_quantiles(new, levels), model.predict_quantiles(new, levels))
    assert loaded.get_params(deep=False).keys() == model.get_params(deep=False).keys()


def test_loading_refuses_what_it_does_not_know(tmp_path):
    with pytest.raises(ValueError, match="Unknown model type 'os.system'"):
        from_dict({"format": FORMAT, "format_version": 1, "model": {"type": "os.system", "params": {}}})
    with pytest.raises(ValueError, match="format version 99"):
        from_dict({"format": FORMAT, "format_version": 99, "model": {"type": "ATLM", "params": {}}})
    with pytest.raises(ValueError, match="Unknown parameter"):
        from_dict({"format": FORMAT, "format_version": 1, "model": {"type": "ATLM", "params": {"cmd": "rm"}}})
    with pytest.raises(ValueError, match="Not a pmrisk model file"):
        from_dict({"model": {}})
    bad = tmp_path / "model.pkl"
    bad.write_bytes(b"\x80\x04\x95")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_model(bad)
    with pytest.raises(ValueError, match="Cannot save a LinearRegression"):
        to_dict(LinearRegression())
    assert from_dict(to_dict(LogRidge(log_features="skewed"))).log_features == "skewed"
