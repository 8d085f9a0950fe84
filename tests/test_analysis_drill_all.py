"""``analyse``'s drill-downs of every KPI and unit x KPI (one FactTable, rows as arrays) are
what ``drilldown`` gives KPI by KPI and unit by unit on DataFrames (tests/oracles.py)."""
import pandas as pd
import pytest

from reviewkit.analysis._common import kpi_table, score_columns
from reviewkit.analysis.analyse import _drill_all
from reviewkit.analysis.compare import _compare
from reviewkit.errors import InputError
from reviewkit.sample import make_sample_review

from oracles import drill_all_frames


def _both(review, facts, dims, depth=3, min_share=0.05):
    k = kpi_table(review.kpis)
    compared = _compare(score_columns(review.scorecard, k), k, "linear", None)
    got = _drill_all(facts, dims, k, compared, depth, min_share)[:3]
    want = drill_all_frames(facts, dims, k, compared, depth, min_share)
    return got, want


def _same(got, want):
    for g, w in zip(got, want):
        pd.testing.assert_frame_equal(g, w, check_exact=False, rtol=1e-12, atol=1e-9)
        assert g.attrs == w.attrs


def _department(review, lang):
    unit = review.scorecard["unit"].iloc[0]
    return review.facts[review.facts["unit"] == unit].reset_index(drop=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", ["default dims", "dims without unit", "depth 1", "one department",
                                  "one year only", "dims not all text", "no facts"])
def test_drill_all_equals_drilldown_on_frames(lang, case):
    review = make_sample_review(lang)
    facts, dims, depth = review.facts, None, 3
    other = [c for c in facts.columns if c not in ("unit", "period") and not pd.api.types.is_numeric_dtype(facts[c])]
    if case == "dims without unit":
        dims = other[:2]
    elif case == "depth 1":
        depth = 1
    elif case == "one department":
        facts = _department(review, lang)
    elif case == "one year only":
        period = pd.to_datetime(facts["period"])
        facts = facts[period.dt.year == period.dt.year.max()].reset_index(drop=True)
    elif case == "dims not all text":
        dims = ["unit", 3]
    elif case == "no facts":
        facts = facts.iloc[:0]
    got, want = _both(review, facts, dims, depth)
    _same(got, want)
    if case in ("one year only", "dims not all text"):
        assert len(got[2]) == len(review.kpis) and got[0].empty  # every KPI skipped, with its reason
    elif case != "no facts":
        assert len(got[0]) and len(got[1])


def test_facts_with_a_column_named_twice_are_refused():
    review = make_sample_review("en")
    facts = pd.concat([review.facts, review.facts[["unit"]]], axis=1)
    k = kpi_table(review.kpis)
    compared = _compare(score_columns(review.scorecard, k), k, "linear", None)
    with pytest.raises(InputError, match="same column twice"):
        _drill_all(facts, None, k, compared, 3, 0.05)
