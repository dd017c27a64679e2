"""The 5x5 probability-impact matrix: bands, scores, ratings, the inverse, and its validation."""

from __future__ import annotations

import pytest

from pmrisk.errors import ProjectError
from pmrisk.project import Project
from pmrisk.risk.matrix import RiskMatrix


def project(risks, matrix=None, tasks=None):
    data = {"tasks": tasks or [{"id": "A", "duration": 10}, {"id": "B", "duration": 20, "depends_on": ["A"]}],
            "risks": risks}
    if matrix is not None:
        data["risk_matrix"] = matrix
    return Project.from_dict(data, source="p.yaml")


@pytest.mark.parametrize(("p", "band"), [(0, 1), (0.05, 1), (0.1, 1), (0.1000001, 2), (0.3, 2), (0.31, 3),
                                         (0.5, 3), (0.7, 4), (0.71, 5), (1.0, 5)])
def test_probability_bands_use_upper_limits(p, band):
    assert RiskMatrix().probability_band(p) == band


@pytest.mark.parametrize(("days", "band"), [(0, 1), (2, 1), (2.5, 2), (5, 2), (10, 3), (20, 4), (21, 5), (500, 5),
                                            (-7, 3)])
def test_time_bands(days, band):
    assert RiskMatrix().time_band(days) == band


@pytest.mark.parametrize(("cost", "band"), [(0, 1), (10_000, 1), (10_001, 2), (100_000, 3), (250_000, 4),
                                            (250_001, 5), (-60_000, 3)])
def test_cost_bands(cost, band):
    assert RiskMatrix().cost_band(cost) == band


def test_impact_band_is_the_worse_of_time_and_cost():
    m = RiskMatrix()
    assert m.impact_band(delay=3, cost=200_000) == 4
    assert m.impact_band(delay=25, cost=1) == 5
    assert m.impact_band() == 1


@pytest.mark.parametrize(("score", "rating"), [(1, "low"), (4, "low"), (5, "medium"), (9, "medium"), (10, "high"),
                                               (25, "high")])
def test_ratings(score, rating):
    assert RiskMatrix().rating(score) == rating


def test_custom_matrix_from_spec_and_back():
    spec = {"probability": [0.05, 0.2, 0.4, 0.8], "time": [1, 3, 8, 15], "cost": [5000, 20000, 80000, 200000],
            "labels": ["Rare", "Unlikely", "Possible", "Likely", "Almost certain"], "ratings": {"low": 3, "medium": 12}}
    m = RiskMatrix.from_spec(spec)
    assert m.probability_band(0.3) == 3
    assert m.time_band(8) == 3
    assert m.rating(12) == "medium" and m.rating(13) == "high"
    assert m.parse_band("almost certain") == 5
    assert RiskMatrix.from_spec(m.to_spec()) == m
    assert RiskMatrix.from_spec(None) == RiskMatrix() == RiskMatrix.from_spec({})


def test_partial_spec_keeps_the_other_defaults():
    m = RiskMatrix.from_spec({"cost": [1000, 2000, 3000, 4000]})
    assert m.cost_band(2500) == 3
    assert m.time == RiskMatrix().time and m.low == 4


@pytest.mark.parametrize(("spec", "words"), [
    ({"probability": [0.1, 0.3, 0.3, 0.7]}, ["p.yaml", "risk_matrix.probability", "must increase", "0.3"]),
    ({"probability": [10, 30, 50, 70]}, ["not a probability", "Did you mean 0.1"]),
    ({"probability": [0.0, 0.3, 0.5, 0.7]}, ["strictly between 0 and 1"]),
    ({"probability": [0.1, 0.3, 0.5]}, ["3 limits", "exactly 4"]),
    ({"time": [2, 5, 10, "x"]}, ["risk_matrix.time", "'x' is not a finite number"]),
    ({"time": [-1, 5, 10, 20]}, ["not positive"]),
    ({"cost": 1000}, ["risk_matrix.cost", "list of four numbers"]),
    ({"tme": [1, 2, 3, 4]}, ["unknown key 'tme'", "Did you mean 'time'"]),
    ({"labels": ["a", "b", "c"]}, ["risk_matrix.labels", "5 names"]),
    ({"labels": ["Low", "low", "c", "d", "e"]}, ["given twice"]),
    ({"labels": ["1", "2", "3", "4", "5"]}, ["words, not numbers"]),
    ({"ratings": {"low": 9, "medium": 4}}, ["low (9) must be below medium (4)"]),
    ({"ratings": {"low": 4, "high": 9}}, ["unknown key 'high'"]),
    ({"ratings": {"low": 4, "medium": 30}}, ["ratings.medium", "1 to 24"]),
    ([0.1, 0.2], ["must be a mapping"]),
])
def test_bad_matrix_specs_say_where_what_and_how(spec, words):
    with pytest.raises(ProjectError) as err:
        RiskMatrix.from_spec(spec, source="p.yaml")
    msg = str(err.value)
    for w in words:
        assert w in msg, msg


def test_direct_construction_is_validated_too():
    with pytest.raises(ProjectError, match="must increase"):
        RiskMatrix(time=(5, 2, 10, 20))


def test_score_of_a_risk_uses_mean_impact_given_occurrence():
    p = project([{"id": "R1", "probability": 0.45, "affects": ["A"],
                  "delay": {"dist": "triangular", "min": 1, "likely": 2, "max": 30},   # mean 11: band 4
                  "cost": {"dist": "uniform", "min": 0, "max": 20000}}])            # mean 10,000: band 1
    a = RiskMatrix().assess(p.risks[0])
    assert (a.probability_band, a.time_band, a.cost_band, a.impact_band, a.score, a.rating) == (3, 4, 1, 4, 12, "high")
    assert RiskMatrix().score(p.risks[0]) == 12


def test_score_after_the_response():
    p = project([{"id": "R1", "probability": 0.6, "affects": ["A"], "delay": 15,
                  "mitigation": {"cost": 1000, "probability": 0.1, "delay": 3}}])
    m = RiskMatrix()
    assert m.score(p.risks[0]) == 4 * 4
    assert m.score(p.risks[0], mitigated=True) == 1 * 2
    assert m.assess(p.risks[0], mitigated=True).rating == "low"


def test_a_duration_factor_counts_as_days_on_the_longest_affected_task():
    p = project([{"id": "R1", "probability": 0.2, "affects": ["A", "B"], "impact": 1.5}])
    m = RiskMatrix()
    assert m.assess(p.risks[0], project=p).time_band == m.time_band(10)    # 0.5 x 20 days
    assert m.assess(p.risks[0]).time_band is None                          # no project: not measurable
    assert m.assess(p.risks[0]).impact_band == 1


def test_opportunities_are_scored_by_magnitude():
    p = project([{"id": "O1", "probability": 0.5, "affects": ["A"], "delay": -12}])
    assert RiskMatrix().assess(p.risks[0]).time_band == 4


def test_the_project_matrix_is_used():
    p = project([{"id": "R1", "probability": 0.3, "cost": 30000}], matrix={"cost": [1000, 2000, 3000, 4000]})
    m = RiskMatrix.for_project(p)
    assert m.cost_band(30000) == 5
    # a bad matrix is refused when the project loads, naming the file
    with pytest.raises(ProjectError, match=r"p.yaml, risk_matrix.cost"):
        project([{"id": "R1", "probability": 0.3, "cost": 30000}], matrix={"cost": [3, 2, 1, 0]})


@pytest.mark.parametrize("band", [1, 2, 3, 4, 5])
def test_band_to_value_falls_back_into_the_same_band(band):
    m = RiskMatrix()
    assert m.probability_band(m.band_probability(band)) == band
    for kind, back in (("time", m.time_band), ("cost", m.cost_band)):
        spec = m.impact_distribution(kind, band)
        assert spec["dist"] == "uniform"
        assert back((spec["min"] + spec["max"]) / 2) == band


def test_representative_values_follow_the_documented_rules():
    m = RiskMatrix()
    assert [m.band_probability(b) for b in range(1, 6)] == [0.05, 0.2, 0.4, 0.6, 0.85]
    assert m.impact_distribution("time", 1) == {"dist": "uniform", "min": 0, "max": 2}
    assert m.impact_distribution("time", 5) == {"dist": "uniform", "min": 20, "max": 30}        # 1.5 x 20
    assert m.impact_distribution("cost", 5) == {"dist": "uniform", "min": 250000, "max": 375000}
    with pytest.raises(ValueError, match="band must be a whole number from 1 to 5"):
        m.band_range("time", 6)
    with pytest.raises(ValueError, match="kind must be"):
        m.impact_distribution("probability", 2)


@pytest.mark.parametrize(("value", "band"), [(1, 1), (5.0, 5), ("3", 3), (" 2 ", 2), ("Very high", 5),
                                             ("VERY-LOW", 1), ("medium", 3), ("moderate", 3), ("likely", 4),
                                             ("almost certain", 5), ("minor", 2), ("severe", 5), ("VH", 5),
                                             (0, None), (6, None), (2.5, None), ("0.3", None), ("banana", None),
                                             ("", None), (None, None), (True, None)])
def test_parse_band(value, band):
    assert RiskMatrix().parse_band(value) == band


def test_range_text():
    m = RiskMatrix()
    assert m.range_text("probability", 3) == "30%-50%"
    assert m.range_text("time", 1) == "<= 2 d"
    assert m.range_text("time", 3) == "5-10 d"
    assert m.range_text("cost", 5, "EUR") == "> 250,000 EUR"
