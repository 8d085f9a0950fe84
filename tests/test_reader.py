"""Reading review workbooks: tables by name, localized headers, layouts, typed values.

The workbooks are built with ``builders.write_book`` (XlsxWriter ``add_table``, a title row and a
hint row above each table, like the template builder writes), so every test states its input in full.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reviewkit import model
from reviewkit.errors import ValidationError
from reviewkit.reading import read_review, read_with_problems

from builders import HEADERS, sample_book, sample_rows, write_book


# --- tests -------------------------------------------------------------------------------


@pytest.fixture
def zh_book(tmp_path):
    return sample_book(tmp_path / "复盘.xlsx", "zh")


def test_reads_every_table_with_canonical_keys(zh_book):
    review, problems = read_with_problems(zh_book)
    assert [p for p in problems if p.severity == "error"] == []
    assert set(review.tables) == {"Settings", "KPIs", "Scorecard", "Facts", "Causes", "Actions"}
    sc = review.scorecard
    assert list(sc["unit"]) == ["华东", "华东", "华北"]
    assert list(sc["kpi"]) == ["sales", "renew", "sales"]
    # typed text numbers are parsed the way users mean them, in the KPI's unit (sales is in
    # 万元, so '1,200万' is 1,200; numbers typed as numbers are in that unit already)
    assert sc["target"].tolist() == [1_200.0, 0.15, 800.0]
    assert sc["actual"].tolist() == [1_080.0, 0.18, -500.0]
    assert sc["last_year"].iloc[0] == 1_000.0 and np.isnan(sc["last_year"].iloc[2])
    assert sc["industry_avg"].iloc[1] == pytest.approx(0.14)
    assert sc["target"].dtype == np.float64
    # optional columns that are absent still exist, empty
    assert sc["competitor"].isna().all()


def test_choices_percents_and_dates(zh_book):
    review = read_review(zh_book, strict=False)
    k = review.kpis.set_index("key")
    assert k.loc["sales", "direction"] == "higher" and k.loc["churn", "direction"] == "lower"
    assert list(k["aggregation"]) == ["sum", "ratio", "average"]
    assert k["green"].tolist() == pytest.approx([1.0, 1.0, 0.95])
    assert k["amber"].tolist() == pytest.approx([0.9, 0.9, 0.85])
    causes = review.causes
    assert causes["kind"].tolist() == ["problem"]
    assert causes["due"].iloc[0] == pd.Timestamp("2026-03-31")
    actions = review.table("Actions")
    assert actions["status"].tolist() == ["in_progress"]
    assert actions["due"].iloc[0] == pd.Timestamp("2026-06-30")


def test_settings_become_canonical_keys_with_defaults(zh_book):
    s = read_review(zh_book, strict=False).settings
    assert s["review_year"] == 2025 and isinstance(s["review_year"], int)
    assert s["company"] == "华东科技"
    assert s["deviation_threshold"] == pytest.approx(0.10)
    assert s["as_of"] == dt.date(2025, 12, 31)
    assert s["max_parallel_tasks"] == 3  # not in the table: the model's default
    assert set(s) == set(model.SETTING_KEYS)


def test_facts_dimensions_measures_and_year(zh_book):
    review = read_review(zh_book, strict=False)
    f = review.facts
    assert review.dimensions == ["行业", "客户规模"]
    assert review.measures == ["销售额", "到期数", "续约数"]
    assert f["销售额"].tolist() == [1200.5, 1000.0, 2.5]  # the sales KPI counts in 万元: '2.5万' is 2.5
    assert f["period"].tolist() == ["2025-03", "2024-03-01", "2025Q3"]
    assert f["year"].tolist() == [2025, 2024, 2025]
    assert f["year"].dtype == np.int64
    assert f["客户规模"].tolist() == ["<300", "300+", "<300"]


def test_english_workbook_reads_to_the_same_frames(tmp_path):
    zh = read_review(sample_book(tmp_path / "zh.xlsx", "zh"), strict=False)
    en = read_review(sample_book(tmp_path / "en.xlsx", "en"), strict=False)
    assert zh.lang == "zh" and en.lang == "en"
    for name in ("Scorecard", "KPIs", "Causes", "Actions"):
        a, b = zh.tables[name], en.tables[name]
        assert list(a.columns) == list(b.columns)
        pd.testing.assert_frame_equal(a.drop(columns=["measure", "numerator", "denominator"], errors="ignore"),
                                      b.drop(columns=["measure", "numerator", "denominator"], errors="ignore"))
    assert en.measures == ["Sales", "Due", "Renewed"]
    assert en.settings["review_year"] == 2025


def test_synonyms_reordered_columns_and_a_moved_table(tmp_path):
    headers = ["Plan", "部门", "完成值", "指标代码"]  # synonyms, mixed languages, any order
    rows = [[1200, "华东", 1080, "sales"], [500, "华北", 420, "new_customers"]]
    path = write_book(tmp_path / "moved.xlsx", {
        "KPIs": {"sheet": "KPI", "headers": ["代码", "指标名称", "指标方向"],
                 "rows": [["sales", "销售额", "正向"], ["new_customers", "新客户数", "higher"]]},
        "Scorecard": {"sheet": "Data", "headers": headers, "rows": rows, "at": (9, 6)},
    })
    review, problems = read_with_problems(path)
    assert [p for p in problems if p.severity == "error"] == []
    sc = review.scorecard
    assert sc[["unit", "kpi", "target", "actual"]].values.tolist() == [
        ["华东", "sales", 1200.0, 1080.0], ["华北", "new_customers", 500.0, 420.0]]
    lay = review.layouts["Scorecard"]
    assert (lay.sheet, lay.ref, lay.header_row, lay.first_row, lay.last_row) == ("Data", "G10:J12", 10, 11, 12)
    assert lay.columns == {"target": "G", "unit": "H", "actual": "I", "kpi": "J"}
    assert lay.rows == (11, 12)
    assert lay.cell("actual", 1) == "I12" and lay.cell("kpi") == "J10"
    assert review.kpis["direction"].tolist() == ["higher", "higher"]


def test_headers_with_units_in_brackets(tmp_path):
    path = write_book(tmp_path / "u.xlsx", {
        "Scorecard": {"sheet": "S", "headers": ["单位", "KPI代码", "目标（万元）", "实际(万元)", "去年【万元】"],
                      "rows": [["华东", "sales", 1200, 1080, 1000]]}})
    review = read_review(path, strict=False)
    assert review.scorecard[["target", "actual", "last_year"]].values.tolist() == [[1200.0, 1080.0, 1000.0]]
    assert review.layouts["Scorecard"].headers["target"] == "目标（万元）"


def test_extra_columns_warn_outside_facts(tmp_path):
    path = write_book(tmp_path / "x.xlsx", {
        "Scorecard": {"sheet": "计分卡", "headers": ["单位", "KPI代码", "目标", "备注"],
                      "rows": [["华东", "sales", 1200, "重点"]]}})
    review, problems = read_with_problems(path)
    assert "备注" not in review.scorecard.columns
    warn = [p for p in problems if "备注" in str(p)]
    assert len(warn) == 1 and warn[0].severity == "warning" and warn[0].cell == "D3"


def test_computed_columns_are_located_but_not_read(tmp_path):
    path = write_book(tmp_path / "c.xlsx", {
        "Scorecard": {"sheet": "计分卡", "headers": ["单位", "KPI代码", "目标", "实际", "达成率", "结论"],
                      "rows": [["华东", "sales", 1200, 1080, None, "旧结论"]],
                      "formulas": {"达成率": ("=[@实际]/[@目标]", [0.9])}}})
    review = read_review(path, strict=False)
    assert "achievement" not in review.scorecard.columns and "conclusion" not in review.scorecard.columns
    lay = review.layouts["Scorecard"]
    assert lay.columns["achievement"] == "E" and lay.columns["conclusion"] == "F"
    assert lay.cell("achievement", 0) == "E4"


def test_cached_values_of_formula_cells_are_read(tmp_path):
    path = write_book(tmp_path / "f.xlsx", {
        "Scorecard": {"sheet": "计分卡", "headers": ["单位", "KPI代码", "目标", "实际"],
                      "rows": [["华东", "sales", ("=600*2", 1200), ("=SUM(1000,80)", 1080)]]}})
    sc = read_review(path, strict=False).scorecard
    assert sc[["target", "actual"]].values.tolist() == [[1200.0, 1080.0]]


def test_blank_rows_are_skipped_and_rows_map_to_the_sheet(tmp_path):
    rows = [["华东", "sales", 1], [None, None, None], ["华北", "sales", 2], [None, None, None]]
    path = write_book(tmp_path / "b.xlsx", {
        "Scorecard": {"sheet": "计分卡", "headers": ["单位", "KPI代码", "目标"], "rows": rows, "at": (4, 1)}})
    review = read_review(path, strict=False)
    assert review.scorecard["unit"].tolist() == ["华东", "华北"]
    lay = review.layouts["Scorecard"]
    assert lay.rows == (6, 8) and (lay.first_row, lay.last_row) == (6, 9)
    assert lay.cell("target", 1) == "D8"


def test_totals_row_is_not_data(tmp_path):
    path = write_book(tmp_path / "t.xlsx", {
        "Scorecard": {"sheet": "计分卡", "headers": ["单位", "KPI代码", "目标"],
                      "rows": [["华东", "sales", 1], ["华北", "sales", 2]], "totals": True}})
    review = read_review(path, strict=False)
    assert review.scorecard["target"].tolist() == [1.0, 2.0]
    assert review.layouts["Scorecard"].last_row == 5  # header 3, data 4-5, totals 6


def test_table_name_is_case_insensitive(tmp_path):
    path = write_book(tmp_path / "n.xlsx", {
        "scorecard": {"sheet": "S", "headers": ["单位", "KPI代码"], "rows": [["华东", "sales"]]}})
    assert read_review(path, strict=False).scorecard["kpi"].tolist() == ["sales"]


def test_kpi_column_names_are_linked_loosely_to_facts(tmp_path):
    path = sample_book(tmp_path / "l.xlsx", "en", KPIs={"rows": [
        ["sales", "Sales", "", "Higher is better", "Sum", "sales", None, None, None, None]]})
    review = read_review(path, strict=False)
    assert review.kpis["measure"].tolist() == ["Sales"]  # the exact facts header


def test_strict_read_raises_every_problem_at_once(tmp_path):
    path = sample_book(tmp_path / "bad.xlsx", "zh", Scorecard={"rows": [
        ["华东", "sales", "abc", 1, None, None, None],
        ["华东", "nope", 1, "1.2.3", None, None, None]]})
    with pytest.raises(ValidationError) as info:
        read_review(path)
    cells = sorted(p.cell for p in info.value.problems)
    assert cells == ["B5", "C4", "D5"]
    assert "and 2 more problems" in str(info.value)


def test_file_written_by_openpyxl_is_read_too(tmp_path):
    from openpyxl import Workbook
    from openpyxl.worksheet.table import Table

    wb = Workbook()
    ws = wb.active
    ws.title = "Scores"
    ws.append(["Unit", "KPI key", "Target", "Actual"])
    ws.append(["East", "sales", "1.2万", 10800])
    ws.add_table(Table(displayName="Scorecard", ref="A1:D2"))
    wb.save(tmp_path / "o.xlsx")
    review = read_review(tmp_path / "o.xlsx", strict=False)
    assert review.scorecard[["target", "actual"]].values.tolist() == [[12000.0, 10800.0]]
    assert review.lang == "en"


def test_many_fact_rows_read_quickly(tmp_path):
    import time

    n = 20_000
    rows = [[f"{2024 + i % 2}-{i % 12 + 1:02d}", f"U{i % 7}", f"I{i % 5}", i * 1.5, i % 9] for i in range(n)]
    path = write_book(tmp_path / "big.xlsx", {
        "Facts": {"sheet": "明细", "headers": ["期间", "单位", "行业", "销售额", "到期数"], "rows": rows}})
    t0 = time.perf_counter()
    review = read_review(path, strict=False)
    took = time.perf_counter() - t0
    f = review.facts
    assert len(f) == n
    assert f["销售额"].sum() == pytest.approx(1.5 * n * (n - 1) / 2)
    assert (f["year"] == 2025).sum() == n // 2
    assert took < 10  # generous: about 0.3 s on a laptop; catches accidental quadratic work


def test_settings_by_canonical_key_and_unknown_names(tmp_path):
    path = write_book(tmp_path / "s.xlsx", {
        "Settings": {"sheet": "设置", "headers": ["项目", "值"],
                     "rows": [["review_year", "2024"], ["Max parallel tasks per owner", 5],
                              ["plan_end", "2025年12月31日"], ["最喜欢的颜色", "蓝"]]}})
    review, problems = read_with_problems(path)
    s = review.settings
    assert (s["review_year"], s["max_parallel_tasks"], s["plan_end"]) == (2024, 5, dt.date(2025, 12, 31))
    warn = [p for p in problems if "最喜欢的颜色" in str(p)]
    assert len(warn) == 1 and warn[0].severity == "warning" and warn[0].cell == "A7"


def test_plain_cells_on_an_optional_table_sheet_warn(tmp_path):
    path = write_book(tmp_path / "p.xlsx", {
        "Scorecard": {"sheet": "计分卡", "headers": ["单位", "KPI代码"], "rows": [["华东", "sales"]]}},
        extra_sheets={"明细": [["期间", "单位", "销售额"], ["2025-01", "华东", 5]]})
    _, problems = read_with_problems(path)
    warn = [p for p in problems if p.sheet == "明细"]
    assert len(warn) == 1 and warn[0].severity == "warning" and "no Excel Table named 'Facts'" in str(warn[0])


def test_excel_made_table_parts(corpus_dir):
    """A table Excel wrote (with a totals row) is located exactly."""
    from reviewkit.reading.package import find_tables

    pkg = find_tables(corpus_dir / "DataTableCities.xlsx")
    big = pkg.table("bigcity")
    assert (big.name, big.ref, big.first_row, big.last_row, big.totals_rows) == ("BigCity", "C2:F15", 2, 15, 1)
    assert [c.name for c in big.columns] == ["City", "Latitude", "Longitude", "Population"]


def test_excel_made_corpus_never_crashes(corpus_dir):
    """Every workbook Excel made is either read or refused with a Problem; never a traceback."""
    from reviewkit.reading import check_files

    files = sorted(p for p in corpus_dir.iterdir() if p.suffix.lower() in (".xlsx", ".xlsm"))
    assert len(files) > 50
    for path in files:
        problems = check_files([path])
        assert problems, path  # none of them is a review workbook
        assert all(Path(p.file) == path and str(p).startswith(path.name) for p in problems)
    strict = check_files([corpus_dir / "SampleSS.strict.xlsx"])
    assert len(strict) == 1 and "Strict Open XML" in str(strict[0])


def test_blank_setting_keeps_its_default_without_a_problem(tmp_path):
    path = write_book(tmp_path / "blank.xlsx", {
        "Settings": {"sheet": "设置", "headers": ["项目", "值", "说明"],
                     "rows": [["复盘年度", None, "填写年度"], ["比较单位", None, None], ["公司", "ACME", None]]}})
    review, problems = read_with_problems(path)
    assert [p for p in problems if p.sheet == "设置"] == []
    assert review.settings["review_year"] is None and review.settings["unit_label"] == "部门"
    assert review.settings["company"] == "ACME"


@pytest.mark.parametrize("stored", [b"&#xA;", b"_x000a_"])  # XlsxWriter's form, Excel's form
def test_header_with_a_line_break_and_unit(tmp_path, stored):
    import io
    import zipfile

    path = write_book(tmp_path / "lf.xlsx", {
        "Scorecard": {"sheet": "计分卡", "headers": ["单位", "KPI代码", "目标\n(万元)"], "rows": [["华东", "sales", 1200]]}})
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    assert b"&#xA;" in parts["xl/tables/table1.xml"]
    parts["xl/tables/table1.xml"] = parts["xl/tables/table1.xml"].replace(b"&#xA;", stored)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, d in parts.items():
            z.writestr(n, d)
    path.write_bytes(buf.getvalue())
    review = read_review(path, strict=False)
    assert review.scorecard["target"].tolist() == [1200.0]
    assert review.layouts["Scorecard"].headers["target"] == "目标\n(万元)"


def test_numeric_codes_and_years_in_facts_are_dimensions(tmp_path):
    path = write_book(tmp_path / "codes.xlsx", {
        "Facts": {"sheet": "明细", "headers": ["期间", "单位", "区域代码", "签约年份", "Customer ID", "销售额"],
                  "rows": [["2025-01", "华东", 101, 2023, 7, 10], ["2025-02", "华北", 102, 2024, 8, 20]]}})
    review = read_review(path, strict=False)
    assert review.dimensions == ["区域代码", "签约年份", "Customer ID"]
    assert review.measures == ["销售额"]
    assert review.facts["区域代码"].tolist() == ["101", "102"]


def test_1904_date_system(tmp_path):
    """Old Mac workbooks count serial numbers from 1904: 44269 is 2025-03-15 there (45731 in 1900)."""
    path = write_book(tmp_path / "mac.xlsx", {
        "Actions": {"sheet": "改进行动", "headers": ["改进事项", "完成期限"],
                    "rows": [["a", dt.date(2025, 3, 15)], ["b", 44269], ["c", "2025-03-15"]]}},
        options={"date_1904": True})
    review = read_review(path, strict=False)
    assert review.table("Actions")["due"].tolist() == [pd.Timestamp("2025-03-15")] * 3


@pytest.mark.libreoffice
def test_workbook_saved_by_libreoffice_reads_the_same(tmp_path, soffice):
    """LibreOffice/WPS users save the file again: same tables, same values; formulas recalculated."""
    from reviewkit.libreoffice import recalculate

    src = sample_book(tmp_path / "lo_sample.xlsx", "zh")
    calc = write_book(tmp_path / "lo_formula.xlsx", {"Scorecard": {
        "sheet": "计分卡", "headers": ["单位", "KPI代码", "目标", "实际"],
        "rows": [["华东", "sales", 1200, ("=1000+80", 0)]]}})  # cached value 0 until recalculated
    out = recalculate([src, calc], tmp_path / "out")
    before = read_review(src, strict=False)
    after = read_review(out[src.resolve()], strict=False)
    for name in before.tables:
        pd.testing.assert_frame_equal(before.tables[name], after.tables[name])
        assert before.layouts[name] == after.layouts[name]
    assert read_review(out[calc.resolve()], strict=False).scorecard["actual"].tolist() == [1080.0]


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(7)), row=st.integers(0, 30), col=st.integers(0, 12),
       lang=st.sampled_from(["zh", "en"]))
def test_column_order_position_and_language_do_not_matter(tmp_path_factory, order, row, col, lang):
    headers = [HEADERS[lang]["Scorecard"][i] for i in order]
    rows = [[r[i] for i in order] for r in sample_rows(lang)["Scorecard"]]
    path = write_book(tmp_path_factory.mktemp("perm") / "p.xlsx", {
        "Scorecard": {"sheet": "Anywhere", "headers": headers, "rows": rows, "at": (row, col)}})
    sc = read_review(path, strict=False).scorecard
    assert sc["unit"].tolist() == ["华东", "华东", "华北"]
    assert sc["target"].tolist() == [12_000_000.0, 0.15, 800.0]  # no KPIs table: no units
    assert sc["actual"].tolist() == [10_800_000.0, 0.18, -500.0]
    lay = read_review(path, strict=False).layouts["Scorecard"]
    assert lay.header_row == row + 1
    assert lay.columns["unit"] == _letter(col + order.index(0) + 1)


def _letter(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def test_an_engine_gives_cells_and_the_one_loop_does_the_rest(zh_book):
    """The reader's engine interface (``reading.Engine``, as pandas' ``BaseExcelReader``): an
    engine that gives only sheet names, tables and cell grids, here a dict of rows, reads the
    same review and the same problems as the file engine, through the same loop."""
    from reviewkit.reading import Engine, FileEngine

    file = FileEngine.open(zh_book)
    rows = {sheet: [list(r) for r in file.grid(sheet)] for sheet in file.sheets}

    class Rows(Engine):
        def __init__(self):
            self.source, self.sheets, self.tables = str(zh_book), list(rows), list(file.tables)

        def grid(self, sheet):
            return rows[sheet]

    want, want_problems = read_with_problems(zh_book)
    got, got_problems = read_with_problems(Rows())
    assert set(got.tables) == set(want.tables) and got.layouts == want.layouts
    for name, df in want.tables.items():
        pd.testing.assert_frame_equal(got.tables[name], df)
    assert (got.settings, got.lang, got.measures) == (want.settings, want.lang, want.measures)
    assert [p.render() for p in got_problems] == [p.render() for p in want_problems]
    # an engine's table lookup is case-insensitive, as Excel's names are
    assert Rows().table("scorecard") is Rows().table("Scorecard") is not None
