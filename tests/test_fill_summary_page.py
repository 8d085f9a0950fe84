"""The one-page summary and the printed layout of the owned sheets, on the demo data (no LibreOffice)."""
from __future__ import annotations

import math

import pytest

from reviewkit.ooxml.cellref import parse_cell

sample = pytest.importorskip("reviewkit.sample")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from reviewkit.fill import build_fill_plan
    from reviewkit.reading import read_review
    from reviewkit.templates import build_workbook

    path = tmp_path_factory.mktemp("sumpage") / "demo_zh.xlsx"
    build_workbook(path, sample.make_sample_review("zh"), lang="zh", overwrite=True)
    review = read_review(path)
    return review, build_fill_plan(review)


def cells(spec) -> dict[str, object]:
    return {c.ref: c.value for c in spec.cells}


def test_wins_and_problems_follow_the_documented_rule(demo):
    from reviewkit.fill.analysed import _analyse
    from reviewkit.fill.summary import _pick

    review, plan = demo
    an = _analyse(review, "zh", "linear", None)
    weight = dict(zip(review.kpis["key"], review.kpis["weight"].astype(float)))
    sc = an.compared
    # independently: green rows by weight x (achievement - 1), red/amber by weight x (1 - achievement)
    green = sc[sc["status"] == "green"]
    wins = sorted(green.index, key=lambda i: -weight[sc.at[i, "kpi"]] * (sc.at[i, "achievement"] - 1))[:3]
    bad = sc[sc["status"].isin(["red", "amber"])]
    problems = sorted(bad.index, key=lambda i: (-weight[sc.at[i, "kpi"]] * (1 - sc.at[i, "achievement"]),
                                                 0 if sc.at[i, "status"] == "red" else 1))[:3]
    assert _pick(an, True) == list(wins) and _pick(an, False) == list(problems)
    # and the page shows each picked row's conclusion sentence, under its unit
    summary = next(s for s in plan.sheets if s.key == "summary").spec
    text = "".join(str(v) for v in cells(summary).values() if isinstance(v, str))
    for i in wins + problems:
        sentence = an.conclusions[(sc.at[i, "unit"], sc.at[i, "kpi"])]
        assert sentence.replace(" ", "")[:40] in text.replace(" ", "")


def test_summary_headline_and_counts(demo):
    from reviewkit.analysis import OVERALL

    review, plan = demo
    summary = next(s for s in plan.sheets if s.key == "summary").spec
    vals = cells(summary)
    # the status counts: live counts over the status column (not per KPI), cached as the engine's counts
    status = [c for c in summary.cells if c.formula and c.formula.startswith("SUMPRODUCT((")
              and not c.formula.startswith("SUMPRODUCT(((")]
    from reviewkit.fill.analysed import _analyse

    an = _analyse(review, "zh", "linear", None)
    want = [int((an.compared["status"] == s).sum()) for s in ("green", "amber", "red")]
    assert [c.value for c in status] == want and sum(want) <= len(review.scorecard)
    # the headline's overall achievement is the mean of the units' weighted scores
    ranked = an.ranked[an.ranked["kpi"] == OVERALL]
    mean = ranked["score"].mean()
    assert any(isinstance(v, str) and f"综合达成率 {mean:.1%}" in v for v in vals.values())
    # one page: fitted 1 x 1 to a print area that ends before the detail's page break
    setup = summary.page_setup
    assert (setup.fit_width, setup.fit_height) == (1, 1)
    last_row = parse_cell(setup.print_area.split(":")[1])[0]
    assert summary.row_breaks == (last_row + 2,)
    assert all(parse_cell(ch.anchor)[0] + ch.size[1] - 1 <= last_row for ch in summary.charts)


def test_breakdown_charts_never_straddle_a_page(demo):
    from reviewkit.fill.grid import _rows_per_page

    _, plan = demo
    spec = next(s for s in plan.sheets if s.key == "breakdown").spec
    per_page = _rows_per_page(spec.page_setup.scale)
    starts = [1, *spec.row_breaks]
    assert spec.charts and len(spec.row_breaks) >= len({c.anchor for c in spec.charts}) // 2 - 1
    for ch in spec.charts:
        first = parse_cell(ch.anchor)[0]
        last = first + ch.size[1] - 1
        top = max(s for s in starts if s <= first)
        # pages between manual breaks are cut every per_page rows by the printer
        page_top = top + (first - top) // per_page * per_page
        assert last < page_top + per_page, (ch.anchor, top, per_page)
    # the chart series sit in hidden helper columns, outside every table
    used = {parse_cell(c.ref)[1] for c in spec.cells if c.value not in (None, "")}
    assert spec.hidden_columns and set(spec.hidden_columns) <= used
    for ch in spec.charts:
        for s in ch.series:
            assert parse_cell(s.values.split(":")[0])[1] in spec.hidden_columns


def test_page_breaks_and_axis_floor():
    from reviewkit.fill.breakdown import _axis_floor
    from reviewkit.fill.grid import _page_breaks

    assert _page_breaks([(1, 10), (20, 40), (41, 60)], 30) == [20, 41]
    assert _page_breaks([(1, 10), (12, 25)], 30) == []
    assert _page_breaks([(5, 70)], 30) == [5]  # longer than a page: it starts one
    assert _page_breaks([(35, 50)], 30) == []  # the printer's own break at row 31 already fits it
    # 44.8 -> 45.1: the axis starts a little below the data, not at 0
    lo = _axis_floor([44.8, 45.1, 44.9, 45.0])
    assert lo is not None and 44.0 <= lo < 44.8
    assert _axis_floor([0.0, 10.0]) is None and _axis_floor([-1.0, 3.0]) is None
    assert _axis_floor([5.0, 50.0]) is None  # the change is as large as the level: start at 0
    assert _axis_floor([math.nan]) is None
