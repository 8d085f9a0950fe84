"""The table contract: headers in either language and common synonyms map to canonical keys."""
import pytest

from reviewkit import model
from reviewkit.errors import Problem, ReviewkitError


@pytest.mark.parametrize("table", model.TABLES, ids=lambda t: t.name)
@pytest.mark.parametrize("lang", model.LANGS)
def test_every_localized_header_maps_back_to_its_key(table, lang):
    headers = [c.header(lang) for c in table.columns]
    found, unmatched = model.match_headers(table, headers)
    assert unmatched == []
    assert found == {c.key: i for i, c in enumerate(table.columns)}


@pytest.mark.parametrize("table", model.TABLES, ids=lambda t: t.name)
def test_no_alias_is_claimed_by_two_columns_of_one_table(table):
    # If two columns shared an alias, a header would silently land in the wrong column.
    owners = {}
    for col in table.columns:
        for alias in {model.normalize_header(x) for x in (col.key, col.zh, col.en)}:
            assert owners.setdefault(alias, col.key) == col.key, (table.name, alias)


def test_synonyms_full_width_and_case_are_accepted():
    found, unmatched = model.match_headers(model.SCORECARD, ["部门", "ＫＰＩ", "计划", "Actual Value", "上年同期", "LY", "备注"])
    assert found == {"unit": 0, "kpi": 1, "target": 2, "actual": 3, "last_year": 4}
    # the second last-year header and the unknown one are reported, not silently merged
    assert [h for _, h in unmatched] == ["LY", "备注"]


def test_choice_values_in_either_language():
    direction = model.KPIS.column("direction")
    assert model.choice_key(direction, "越低越好") == "lower"
    assert model.choice_key(direction, "Higher is better") == "higher"
    assert model.choice_key(direction, " RANGE ") == "range"
    assert model.choice_key(direction, "sideways") is None


def test_error_message_names_file_sheet_cell_value_and_expectation():
    err = ReviewkitError("not a number", file="/x/销售部.xlsx", sheet="计分卡", cell="D7", value="abc",
                         expected="a number such as 1,200 or 12%")
    assert str(err) == "销售部.xlsx, sheet '计分卡', cell D7: not a number (found 'abc'); expected a number such as 1,200 or 12%"
    assert str(Problem("a.xlsx", "S", "A1", "bad", 3, "int")) == "a.xlsx, sheet 'S', cell A1: bad (found 3); expected int"


def test_top_level_package_exposes_the_analysis_functions():
    import reviewkit
    from reviewkit import analysis

    for name in ("compare", "rank", "breakdown", "drilldown", "headroom", "conclusions", "closed_loop"):
        assert getattr(reviewkit, name) is getattr(analysis, name)
