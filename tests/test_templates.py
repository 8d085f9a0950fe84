"""The workbook builder: golden templates, named tables, validations, print set-up, LibreOffice."""
import datetime as dt
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from reviewkit import model
from reviewkit.errors import ReviewkitError, WorkbookLockedError
from reviewkit.libreoffice import pdf_to_png, to_pdf
from reviewkit.presets import PRESETS, get_preset
from reviewkit.sample import make_sample_review
from reviewkit.templates import build_template, build_workbook

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "xlsx_templates"
CASES = [(p, lang) for p in PRESETS for lang in model.LANGS]


@pytest.fixture(scope="module")
def sales_zh(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("t") / "sales_zh.xlsx", preset="sales", lang="zh")


@pytest.fixture(scope="module")
def sample_en(tmp_path_factory):
    review = make_sample_review("en")
    review.tables["Facts"] = review.facts.head(300)  # openpyxl is slow on the full 23k rows
    path = build_workbook(tmp_path_factory.mktemp("s") / "sample_en.xlsx", review, lang="en")
    return path, review


def _parts(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.parametrize("preset,lang", CASES)
def test_committed_template_is_what_the_code_builds(preset, lang, tmp_path):
    golden = GOLDEN / f"{preset}_{lang}.xlsx"
    assert golden.exists(), "run: python scripts/build_templates.py"
    built = build_template(tmp_path / golden.name, preset=preset, lang=lang)
    want, got = _parts(golden), _parts(built)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], f"{golden.name}: part {name} differs; run scripts/build_templates.py"


def test_output_is_deterministic(tmp_path):
    a = build_template(tmp_path / "a.xlsx")
    b = build_template(tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    core = _parts(a)["docProps/core.xml"].decode()
    assert "2025-01-01T00:00:00Z" in core


@pytest.mark.parametrize("preset,lang", CASES)
def test_every_table_is_a_named_table_with_localized_headers(preset, lang):
    wb = openpyxl.load_workbook(GOLDEN / f"{preset}_{lang}.xlsx")
    assert wb.sheetnames[0] == model.owned_sheet_name("guide", lang)
    assert wb.sheetnames[1:] == [t.sheet(lang) for t in model.TABLES]
    for spec in model.TABLES:
        ws = wb[spec.sheet(lang)]
        assert spec.name in ws.tables, (spec.name, list(ws.tables))
        table = ws.tables[spec.name]
        first, last = table.ref.split(":")
        assert first == "A4"
        headers = [ws.cell(4, j).value for j in range(1, ws[last].column + 1)]
        expected = [c.header(lang) for c in spec.columns]
        if spec.name == "Facts":
            assert headers[:2] == expected and len(headers) >= (2 if preset == "blank" else 3)
        else:
            assert headers == expected
        assert [c.name for c in table.tableColumns] == headers
        n_data = ws[last].row - 4
        if spec.name == "Settings":
            assert n_data == len(model.SETTING_KEYS)
        elif spec.name == "KPIs":  # the preset's KPIs, padded with blank rows to at least five
            assert n_data == max(len(get_preset(preset, lang)), 5)
            assert [ws.cell(5 + i, 1).value for i in range(len(get_preset(preset, lang)))] == \
                list(get_preset(preset, lang)["key"])
        else:
            assert n_data == 5


def test_computed_columns_are_grey_locked_and_marked(sales_zh):
    ws = openpyxl.load_workbook(sales_zh)["计分卡"]
    headers = {ws.cell(4, j).value: j for j in range(1, ws.max_column + 1)}
    target, achievement = headers["目标"], headers["达成率"]
    assert ws.cell(3, achievement).value == "计算列" and ws.cell(3, target).value == "输入"
    assert ws.cell(4, achievement).fill.fgColor.rgb.endswith("7F7F7F")
    assert ws.cell(5, achievement).protection.locked is True
    assert ws.cell(5, achievement).number_format == "0.0%"
    assert ws.cell(5, target).protection.locked is False
    assert ws.cell(5, target).fill.fgColor.rgb.endswith("FFF8D6")


def test_drop_downs(sales_zh):
    wb = openpyxl.load_workbook(sales_zh)
    kpis = wb["KPI定义"].data_validations.dataValidation
    direction = [v for v in kpis if v.type == "list" and "D5" in str(v.sqref)]
    assert direction and direction[0].formula1 == '"越高越好,越低越好,区间内为好"'
    score = wb["计分卡"].data_validations.dataValidation
    kpi_list = [v for v in score if v.type == "list" and "B5" in str(v.sqref)]
    assert kpi_list and kpi_list[0].formula1.startswith("'KPI定义'!$A$5:$A$")
    progress = wb["进度跟踪"].data_validations.dataValidation
    assert any(v.type == "list" and v.formula1.startswith("'执行计划'!$A$5") for v in progress)
    actions = wb["改进行动"].data_validations.dataValidation
    assert any(v.formula1 == '"未开始,进行中,已完成,受阻"' for v in actions)
    dates = [v for v in wb["执行计划"].data_validations.dataValidation if v.type == "date"]
    assert dates and all(v.errorStyle == "warning" for v in dates)


def test_freeze_panes_print_setup_and_widths(sales_zh):
    wb = openpyxl.load_workbook(sales_zh)
    for spec in model.TABLES:
        ws = wb[spec.sheet("zh")]
        assert ws.freeze_panes == ("C5" if spec.name == "Scorecard" else "A5")
        assert ws.page_setup.orientation == "landscape"
        # OOXML default for fitToWidth is 1, so XlsxWriter leaves it out
        assert (ws.page_setup.fitToWidth or 1) == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$4:$4"
        first = spec.columns[0]
        assert ws.column_dimensions["A"].width == pytest.approx(first.width, abs=0.8)


def test_guide_explains_every_sheet(sales_zh):
    ws = openpyxl.load_workbook(sales_zh)["说明"]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    for spec in model.TABLES:
        assert spec.sheet("zh") in text and spec.guide("zh") in text
    assert "reviewkit fill" in text and "汇总" in text and "刷新" in text
    assert model.KPIS.column("numerator").help_zh in text


def test_settings_rows(sales_zh):
    ws = openpyxl.load_workbook(sales_zh)["设置"]
    labels = [ws.cell(r, 1).value for r in range(5, 5 + len(model.SETTING_KEYS))]
    assert labels == [zh for zh, _, _ in model.SETTING_KEYS.values()]
    values = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(5, 5 + len(model.SETTING_KEYS))}
    assert values["进度偏差阈值"].value == 0.1 and values["进度偏差阈值"].number_format == "0%"
    assert values["每人同时任务上限"].value == 3


def test_review_values_are_typed_and_formatted(sample_en):
    path, review = sample_en
    wb = openpyxl.load_workbook(path)
    ws = wb["Scorecard"]
    rows = {(ws.cell(r, 1).value, ws.cell(r, 2).value): r for r in range(5, ws.max_row + 1)}
    r = rows[("East China", "renewal_rate")]
    expected = review.scorecard.set_index(["unit", "kpi"]).loc[("East China", "renewal_rate"), "actual"]
    assert ws.cell(r, 4).value == pytest.approx(expected)
    assert ws.cell(r, 4).number_format == "0.0%"
    assert ws.cell(rows[("East China", "revenue")], 4).number_format == "#,##0"
    assert ws.cell(rows[("East China", "sales_cycle")], 3).number_format == "0.0"
    camp = wb["Campaigns"]
    assert isinstance(camp.cell(5, 2).value, dt.datetime) and camp.cell(5, 2).number_format == "yyyy-mm-dd"
    causes = wb["Causes"]
    assert {causes.cell(r, 3).value for r in range(5, causes.max_row + 1)} == {"Problem", "What worked"}
    kpis = wb["KPIs"]
    assert kpis.cell(8, 4).value == "Lower is better"  # churn_rate, the 4th KPI
    facts = wb["Facts"]
    assert facts.tables["Facts"].ref == f"A4:{openpyxl.utils.get_column_letter(len(review.facts.columns))}{4 + len(review.facts)}"
    assert facts.cell(5, 1).value == review.facts["period"].iloc[0]
    settings = {wb["Settings"].cell(r, 1).value: wb["Settings"].cell(r, 2).value for r in range(5, 13)}
    assert settings["Company"] == "Huaxin Cloud Technology Co., Ltd." and settings["Review year"] == 2025
    assert settings["As-of date"] == dt.datetime(2025, 12, 31)


def test_refuses_to_overwrite_and_other_bad_paths(tmp_path):
    path = build_template(tmp_path / "a.xlsx")
    before = path.read_bytes()
    with pytest.raises(ReviewkitError, match="already exists.*overwrite=True"):
        build_template(path, preset="saas")
    assert path.read_bytes() == before
    build_template(path, preset="saas", overwrite=True)
    assert path.read_bytes() != before
    with pytest.raises(ReviewkitError, match="extension.*xlsm"):
        build_template(tmp_path / "b.xlsx", macro=True)
    with pytest.raises(ReviewkitError, match="folder does not exist"):
        build_template(tmp_path / "nope" / "c.xlsx")
    with pytest.raises(ReviewkitError, match="unknown KPI preset"):
        build_template(tmp_path / "d.xlsx", preset="retail")
    assert not (tmp_path / "d.xlsx").exists()
    (tmp_path / "~$e.xlsx").write_bytes(b"lock")
    (tmp_path / "e.xlsx").write_bytes(b"x")
    with pytest.raises(WorkbookLockedError):
        build_template(tmp_path / "e.xlsx", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "e.xlsx", "~$e.xlsx"]


def test_macro_workbook_has_a_vba_project_and_button(tmp_path):
    path = build_template(tmp_path / "m.xlsm", macro=True, lang="en")
    parts = _parts(path)
    assert "xl/vbaProject.bin" in parts
    assert b"macroEnabled" in parts["[Content_Types].xml"]
    assert any(name.startswith("xl/drawings/vmlDrawing") for name in parts)


def test_cli_new(tmp_path):
    from click.testing import CliRunner

    from reviewkit.cli import main

    out = tmp_path / "mine.xlsx"
    result = CliRunner().invoke(main, ["new", str(out), "--preset", "membership", "--lang", "en"],
                                catch_exceptions=False)
    assert result.exit_code == 0 and out.exists()
    assert openpyxl.load_workbook(out)["KPIs"].cell(5, 2).value == "Repeat-customer sales"
    again = CliRunner().invoke(main, ["new", str(out)], catch_exceptions=False)
    assert again.exit_code == 2 and "already exists" in again.output


@pytest.mark.libreoffice
def test_every_template_renders_in_libreoffice(soffice, tmp_path):
    files = [GOLDEN / f"{p}_{lang}.xlsx" for p, lang in CASES]
    pdfs = to_pdf(files, tmp_path)  # one soffice call for all
    assert all(pdfs.values()), [f.name for f, pdf in pdfs.items() if pdf is None]
    for pdf in pdfs.values():
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    pngs = pdf_to_png(pdfs[(GOLDEN / "sales_zh.xlsx").resolve()], tmp_path / "sales_zh", first=1, last=1)
    assert len(pngs) == 1 and pngs[0].stat().st_size > 5_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdfs[(GOLDEN / "sales_en.xlsx").resolve()]), "-"],
                              capture_output=True, text=True, check=True).stdout
        for spec in model.TABLES:
            assert spec.sheet("en") in text


def test_guide_lists_every_sheet_fill_writes(tmp_path):
    from python_calamine import CalamineWorkbook

    from reviewkit import model

    for lang in ("zh", "en"):
        path = build_template(tmp_path / f"g_{lang}.xlsx", preset="sales", lang=lang)
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(model.owned_sheet_name("guide", lang)).to_python()
        first = {str(r[0]) for r in rows if r}
        assert {model.owned_sheet_name(k, lang) for k in model.OWNED_SHEETS if k != "guide"} <= first
