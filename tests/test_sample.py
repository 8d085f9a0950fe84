"""The sample company: scorecard consistent with the facts, and the planted stories are there."""
import numpy as np
import pandas as pd
import pytest

from reviewkit import model
from reviewkit.errors import InputError
from reviewkit.sample import REVIEW_YEAR, make_sample_review


@pytest.fixture(scope="module", params=model.LANGS)
def review(request):
    return make_sample_review(request.param)


@pytest.fixture(scope="module")
def zh():
    return make_sample_review("zh")


def _by_unit_year(facts, column):
    year = facts[facts.columns[0]].str[:4].astype(int)
    return facts.groupby([facts[facts.columns[1]], year])[column].sum()


def test_size_and_shape(review):
    facts = review.facts
    assert 20_000 <= len(facts) <= 60_000
    assert list(facts.columns[:2]) == ["period", "unit"]
    assert facts["period"].str.fullmatch(r"\d{4}-\d{2}").all()
    assert set(facts["period"].str[:4]) == {str(REVIEW_YEAR - 2), str(REVIEW_YEAR - 1), str(REVIEW_YEAR)}
    assert facts["unit"].nunique() >= 6
    for table in ("KPIs", "Scorecard", "Causes", "Plan", "Progress", "Results", "Actions", "NextYear",
                  "KeepStopStart", "Risks", "Budget", "Campaigns"):
        assert not review.table(table).empty, table
        spec = model.TABLES_BY_NAME[table]
        assert set(review.table(table).columns) <= {c.key for c in spec.columns}, table
    assert review.settings["review_year"] == REVIEW_YEAR and review.settings["company"]
    assert set(review.dimensions) | set(review.measures) == set(facts.columns[2:])


def test_scorecard_actuals_are_the_facts_aggregated(review):
    """actual / last_year / year_before = sum of the measure, or sum(numerator) / sum(denominator)."""
    facts, kpis = review.facts, review.kpis.set_index("key")
    checked = 0
    for _, row in review.scorecard.iterrows():
        k = kpis.loc[row["kpi"]]
        for col, year in (("actual", REVIEW_YEAR), ("last_year", REVIEW_YEAR - 1), ("year_before", REVIEW_YEAR - 2)):
            rows = facts[(facts["unit"] == row["unit"]) & (facts["period"].str.startswith(str(year)))]
            if k["aggregation"] == "sum":
                expected = rows[k["measure"]].sum()
            else:
                expected = rows[k["numerator"]].sum() / rows[k["denominator"]].sum()
            assert row[col] == pytest.approx(expected, rel=1e-9), (row["unit"], row["kpi"], col)
            checked += 1
    assert checked == 3 * len(review.scorecard) >= 3 * 6 * 7


def test_renewal_rate_is_renewed_over_due(review):
    facts = review.facts
    renewed, due = ("续约数", "到期数") if review.lang == "zh" else ("Renewed", "Due")
    sc = review.scorecard[review.scorecard["kpi"] == "renewal_rate"].set_index("unit")
    rate = _by_unit_year(facts, renewed) / _by_unit_year(facts, due)
    for unit, row in sc.iterrows():
        assert row["actual"] == pytest.approx(rate[(unit, REVIEW_YEAR)])
        assert 0 < row["actual"] < 1


def test_same_numbers_in_both_languages(zh):
    en = make_sample_review("en")
    assert np.allclose(zh.scorecard[["target", "actual", "last_year"]].to_numpy(dtype=float),
                       en.scorecard[["target", "actual", "last_year"]].to_numpy(dtype=float))
    assert zh.facts["销售额"].sum() == pytest.approx(en.facts["Sales"].sum())
    assert en.facts["Industry"].isin(["Internet", "Manufacturing", "Retail", "Finance", "Education",
                                      "Healthcare"]).all()


def test_deterministic_given_seed(zh):
    again = make_sample_review("zh", seed=7)
    pd.testing.assert_frame_equal(zh.facts, again.facts)
    pd.testing.assert_frame_equal(zh.scorecard, again.scorecard)
    other = make_sample_review("zh", seed=8)
    assert not zh.facts["销售额"].equals(other.facts["销售额"])


def _renewal(df):
    return df["续约数"].sum() / df["到期数"].sum()


def test_story_renewal_fell_in_small_internet_firms_and_one_cohort(zh):
    f = zh.facts
    y, ly = f["period"].str.startswith(str(REVIEW_YEAR)), f["period"].str.startswith(str(REVIEW_YEAR - 1))
    small_internet = (f["行业"] == "互联网") & (f["客户规模"] == "<300人")
    cohort = f["签约批次"] == f"{REVIEW_YEAR - 1}Q3"
    overall_drop = _renewal(f[ly]) - _renewal(f[y])
    si_drop = _renewal(f[ly & small_internet]) - _renewal(f[y & small_internet])
    rest_drop = _renewal(f[ly & ~small_internet & ~cohort]) - _renewal(f[y & ~small_internet & ~cohort])
    assert overall_drop > 0.04
    assert si_drop > 0.25
    assert abs(rest_drop) < 0.03  # the rest of the customers renewed as before
    # the 2024Q3 cohort renews worst among the cohorts with enough due contracts
    by_cohort = f[y].groupby("签约批次")[["续约数", "到期数"]].sum()
    by_cohort = by_cohort[by_cohort["到期数"] >= 50]
    rates = by_cohort["续约数"] / by_cohort["到期数"]
    assert rates.idxmin() == f"{REVIEW_YEAR - 1}Q3"


def test_story_east_china_missed_revenue_because_of_manufacturing(zh):
    sc = zh.scorecard.set_index(["unit", "kpi"])
    east = sc.loc[("华东", "revenue")]
    assert 0.90 <= east["actual"] / east["target"] < 0.91
    f = zh.facts
    y, ly = f["period"].str.startswith(str(REVIEW_YEAR)), f["period"].str.startswith(str(REVIEW_YEAR - 1))
    e = f["unit"] == "华东"
    change = f[e & y].groupby("行业")["销售额"].sum() - f[e & ly].groupby("行业")["销售额"].sum()
    assert change.idxmin() == "制造" and change["制造"] < 0
    others = change.drop("制造")
    assert others.sum() > 0 and others.min() > change["制造"] / 5  # no other industry fell nearly as much


def test_causes_have_evidence_except_the_planted_gaps(zh):
    sc, causes = zh.scorecard, zh.causes
    achievement = np.where(sc["kpi"].isin(["churn_rate", "sales_cycle", "delivery_days"]),
                           2 - sc["actual"] / sc["target"], sc["actual"] / sc["target"])
    red = sc[achievement < 0.9 - 1e-9]
    explained = set(zip(causes["unit"], causes["kpi"]))
    missing = [(u, k) for u, k in zip(red["unit"], red["kpi"]) if (u, k) not in explained]
    assert missing == [("西北", "new_customers")]
    no_evidence = causes[causes["evidence"].fillna("").str.strip() == ""]
    assert list(zip(no_evidence["unit"], no_evidence["kpi"])) == [("华北", "churn_rate")]
    assert causes["evidence"].str.contains(r"\d").sum() == len(causes) - 1


def test_method_progress_examples(review):
    p = review.table("Progress")
    planned = p[(p["planned_date"] - p["planned_start"]).dt.days == 14]
    late = planned[(planned["actual_date"] - planned["planned_date"]).dt.days == 3]
    assert len(late) == 1  # 1st -> 15th, done the 18th: +20%
    inconsistent = p[(p["planned_date"].dt.day == 31) & (p["actual_date"].dt.day == 28)]
    assert len(inconsistent) == 1 and "6.5" in inconsistent["problem"].iloc[0]
    c = review.table("Campaigns")
    assert {"618"} <= set(c["name"]) and c["name"].str.contains("11").any()


def test_bad_arguments():
    with pytest.raises(InputError, match="language"):
        make_sample_review("de")
    with pytest.raises(InputError, match="6 to 8 units"):
        make_sample_review(units=3)
    assert make_sample_review(units=8).facts["unit"].nunique() == 8
