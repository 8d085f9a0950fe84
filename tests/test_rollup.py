"""rollup: drift against the majority, own rows only, duplicates, last year's rollup, CLI."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

pytest.importorskip("reviewkit.templates", reason="templates.build_workbook has not landed yet")

from builders import EVIL, UNITS, rename_header, table_sheet, write_master  # noqa: E402

from reviewkit.cli import main  # noqa: E402
from reviewkit.errors import InputError, ReviewkitError  # noqa: E402
from reviewkit.reading import read_review  # noqa: E402
from reviewkit.rollup import custom_properties, rollup_workbooks  # noqa: E402
from reviewkit.split import split_workbook  # noqa: E402


@pytest.fixture(scope="module")
def split_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("rollup")
    master = write_master(base / "master.xlsx")
    split_workbook(master, base / "dept")
    return base / "dept"


@pytest.fixture
def dept(split_dir, tmp_path) -> Path:
    out = tmp_path / "dept"
    shutil.copytree(split_dir, out)
    return out


def _set_cells(path: Path, table: str, key_col: str, key: str, values: dict) -> None:
    wb = openpyxl.load_workbook(path)
    ws, t = table_sheet(wb, table)
    c0, r0, c1, r1 = openpyxl.utils.cell.range_boundaries(t.ref)
    headers = {ws.cell(r0, c).value: c for c in range(c0, c1 + 1)}
    for r in range(r0 + 1, r1 + 1):
        if ws.cell(r, headers[key_col]).value == key:
            for h, v in values.items():
                ws.cell(r, headers[h]).value = v
    wb.save(path)


def test_kpi_definition_disagreeing_with_the_majority_is_reported(dept):
    _set_cells(dept / "华东区.xlsx", "KPIs", "KPI代码", "revenue", {"权重": 0.9, "方向": "越低越好"})
    r = rollup_workbooks([dept], None)
    d = [x for x in r.drift if x.kind == "KPI definition"]
    assert len(d) == 1 and Path(d[0].file).name == "华东区.xlsx"
    assert "weight" in d[0].detail and "direction" in d[0].detail and "'revenue'" in d[0].detail
    k = r.company.kpis.set_index("key")
    assert k.loc["revenue", "weight"] == pytest.approx(0.5)  # the majority's definition
    assert k.loc["revenue", "direction"] == "higher"
    assert {s.path.name: s.status for s in r.submissions}["华东区.xlsx"] == "drift"


def test_rows_for_another_unit_are_reported_not_merged(dept):
    _set_cells(dept / "华东区.xlsx", "Scorecard", "KPI代码", "revenue", {"单位": "华南区", "实际": 99999})
    r = rollup_workbooks([dept], None)
    other = [x for x in r.drift if x.kind == "other unit"]
    assert other and "华南区" in other[0].detail and Path(other[0].file).name == "华东区.xlsx"
    sc = r.company.scorecard.set_index(["unit", "kpi"])
    assert sc.loc[("华南区", "revenue"), "actual"] != 99999  # 华南区's own file wins
    assert ("华东区", "revenue") not in sc.index


def test_a_unit_submitted_twice_is_consolidated_once(dept):
    shutil.copyfile(dept / "华东区.xlsx", dept / "华东区 (2).xlsx")
    r = rollup_workbooks([dept], None)
    dup = [x for x in r.drift if x.kind == "duplicate unit"]
    assert len(dup) == 1 and "华东区" in dup[0].detail
    assert (r.company.scorecard["unit"] == "华东区").sum() == 3


def test_unknown_scorecard_column_is_reported_with_a_guess(dept):
    rename_header(dept / "华南区.xlsx", "Scorecard", "实际", "实际完成额（新口径）")
    r = rollup_workbooks([dept], None)
    south = [x for x in r.drift if Path(x.file).name == "华南区.xlsx"]
    kinds = {x.kind for x in south}
    assert {"missing column", "extra column"} <= kinds
    extra = next(x for x in south if x.kind == "extra column")
    assert "实际完成额（新口径）" in extra.detail and "is it the missing '实际'" in extra.detail
    sc = r.company.scorecard
    assert sc.loc[sc["unit"] == "华南区", "actual"].isna().all()  # said loudly, not guessed


def test_previous_rollup_gives_last_year_and_who_is_expected(dept, tmp_path):
    prev = tmp_path / "last_year.xlsx"
    rollup_workbooks([dept], prev)
    assert custom_properties(prev).get("reviewkit.rollup_of") == "6"
    (dept / "华北区.xlsx").unlink()
    r = rollup_workbooks([dept], None, previous=prev)
    assert r.not_submitted == ["华北区"]
    # last year's actuals now come from last year's rollup (which held this year's actuals):
    prev_sc = read_review(prev).scorecard.set_index(["unit", "kpi"])["actual"]
    sc = r.company.scorecard.set_index(["unit", "kpi"])
    for idx in sc.index:
        assert sc.loc[idx, "last_year"] == pytest.approx(prev_sc[idx])
    ly = [x for x in r.drift if x.kind == "last year"]
    assert len(ly) == len(sc)  # every department's own last-year figure differed: each one said
    assert (r.ranking["rank_change"].dropna() == 0).all()  # same figures, same order


def test_nothing_readable_and_bad_outputs(tmp_path, dept):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(InputError, match="no departmental workbook could be read"):
        rollup_workbooks([tmp_path / "junk"], None)
    with pytest.raises(InputError, match=r"\.xlsx"):
        rollup_workbooks([dept], tmp_path / "company.xlsm")
    (tmp_path / "company.xlsx").write_bytes(b"keep")
    with pytest.raises(ReviewkitError, match="already exists"):
        rollup_workbooks([dept], tmp_path / "company.xlsx")
    assert (tmp_path / "company.xlsx").read_bytes() == b"keep"


def test_cli_split_batch_rollup(tmp_path, split_dir):
    master = split_dir.parent / "master.xlsx"
    runner = CliRunner()
    res = runner.invoke(main, ["split", str(master), "-o", str(tmp_path / "d")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "拆分为 6 个工作簿" in res.output and "华东区.xlsx" in res.output  # a zh master: said in Chinese
    res = runner.invoke(main, ["split", str(master), "-o", str(tmp_path / "d")], catch_exceptions=False)
    assert res.exit_code == 2 and "already exist" in res.output
    (tmp_path / "d" / "_CON.xlsx").write_bytes(b"PK\x03\x04 broken")
    res = runner.invoke(main, ["batch", str(tmp_path / "d"), "--jobs", "2"], catch_exceptions=False)
    assert res.exit_code == 1, res.output
    assert "failed" in res.output and "_CON.xlsx" in res.output and "5 filled" in res.output
    res = runner.invoke(main, ["batch", str(tmp_path / "d"), "--jobs", "2"], catch_exceptions=False)
    assert "5 skipped" in res.output and res.exit_code == 1
    expected = tmp_path / "expected.txt"
    expected.write_text("\n".join([*UNITS, "西北区"]), encoding="utf-8")
    out = tmp_path / "company.xlsx"
    res = runner.invoke(main, ["rollup", str(tmp_path / "d"), "-o", str(out), "--expected", str(expected)],
                        catch_exceptions=False)
    assert res.exit_code == 1, res.output
    assert "未提交：CON、西北区" in res.output  # a zh company workbook: the report is said in Chinese
    assert "未汇总 _CON.xlsx" in res.output
    assert out.exists()
    company = read_review(out)
    assert set(company.scorecard["unit"]) == set(UNITS) - {"CON"}
    assert EVIL in set(company.scorecard["unit"])
    with zipfile.ZipFile(out) as zf:
        assert not [n for n in zf.namelist() if n.startswith(".~")]
    assert not list(tmp_path.glob(".~*"))  # the temporary company workbook is gone
    res = runner.invoke(main, ["batch", str(tmp_path / "missing")], catch_exceptions=False)
    assert res.exit_code == 1 and "no such file" in res.output


def test_cli_split_and_rollup_reports_speak_the_workbook_language(tmp_path, split_dir):
    """split and rollup print their reports in the master's language: Chinese for a zh master,
    English for an en one."""
    runner = CliRunner()
    masters = {"zh": split_dir.parent / "master.xlsx", "en": write_master(tmp_path / "master_en.xlsx", "en")}
    said = {}
    for lang, master in masters.items():
        res = runner.invoke(main, ["split", str(master), "-o", str(tmp_path / lang)], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        rolled = runner.invoke(main, ["rollup", str(tmp_path / lang), "-o", str(tmp_path / f"company_{lang}.xlsx")],
                               catch_exceptions=False)
        assert rolled.exit_code == 0, rolled.output
        said[lang] = (res.output.splitlines(), rolled.output.splitlines())
    (split_zh, rolled_zh), (split_en, rolled_en) = said["zh"], said["en"]
    assert split_zh[0] == "已将 master.xlsx 按单位拆分为 6 个工作簿："
    assert "华东区.xlsx（华东区：计分卡 3 行，明细 72 行）" in [x.strip() for x in split_zh]
    assert split_en[0] == "split master_en.xlsx by unit into 6 workbook(s):"
    assert rolled_zh[0] == f"已汇总 6 个文件中的 6 个，写入 {tmp_path / 'company_zh.xlsx'}"
    assert rolled_en[0] == f"rollup of 6 of 6 file(s) into {tmp_path / 'company_en.xlsx'}"
    assert "  正常 华东区.xlsx（华东区）" in rolled_zh  # split files are never filled: said so
    assert any(x.startswith("结果未更新（请运行 reviewkit batch）：") and "华东区.xlsx（从未填写）" in x
               for x in rolled_zh)
    assert any(x.startswith("results not up to date (run reviewkit batch): ") and "(never filled)" in x
               for x in rolled_en)
    for text in (split_zh, rolled_zh):  # none of the English report's words in the Chinese one
        assert not [x for x in text if any(w in x for w in ("workbook(s)", "rollup of", "scorecard rows",
                                                           "not up to date", "never filled", "lacking"))]


def test_rollup_keeps_extra_fact_columns(dept):
    wb = openpyxl.load_workbook(dept / "华东区.xlsx")
    ws, t = table_sheet(wb, "Facts")
    c0, r0, c1, r1 = openpyxl.utils.cell.range_boundaries(t.ref)
    new_col = c1 + 1
    ws.cell(r0, new_col).value = "渠道"
    for r in range(r0 + 1, r1 + 1):
        ws.cell(r, new_col).value = "线上"
    from openpyxl.worksheet.table import TableColumn

    t.tableColumns.append(TableColumn(id=len(t.tableColumns) + 1, name="渠道"))
    t.ref = f"{openpyxl.utils.get_column_letter(c0)}{r0}:{openpyxl.utils.get_column_letter(new_col)}{r1}"
    t.autoFilter.ref = t.ref
    wb.save(dept / "华东区.xlsx")
    r = rollup_workbooks([dept], None)
    extra = [x for x in r.drift if x.kind == "extra column"]
    assert len(extra) == 1 and "渠道" in extra[0].detail
    f = r.company.facts
    assert "渠道" in f.columns
    assert (f.loc[f["unit"] == "华东区", "渠道"] == "线上").all()
    assert f.loc[f["unit"] != "华东区", "渠道"].isna().all()
    assert isinstance(f, pd.DataFrame)


def test_external_links_are_reported_not_followed(dept):
    import io

    f = dept / "华东区.xlsx"
    buf = io.BytesIO()
    with zipfile.ZipFile(f) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("xl/externalLinks/_rels/externalLink1.xml.rels",
                      b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                      b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                      b'relationships/externalLinkPath" Target="file:///\\\\server\\finance\\secret.xlsx" '
                      b'TargetMode="External"/></Relationships>')
    f.write_bytes(buf.getvalue())
    r = rollup_workbooks([dept], None)
    links = [x for x in r.drift if x.kind == "external link"]
    assert len(links) == 1 and "secret.xlsx" in links[0].detail and "not followed" in links[0].detail
    assert {s.path.name: s.status for s in r.submissions}["华东区.xlsx"] == "drift"


def test_split_by_a_dimension_rolls_back_up(split_dir, tmp_path):
    master = split_dir.parent / "master.xlsx"
    rep = split_workbook(master, tmp_path / "seg", by="segment")
    assert sorted(f.unit for f in rep.files) == ["中小客户", "大客户"]
    r = rollup_workbooks([tmp_path / "seg"], None)
    assert not [d for d in r.drift if d.kind == "other unit"]
    source = read_review(master).facts
    assert len(r.company.facts) == len(source)
    assert r.company.facts["revenue"].sum() == pytest.approx(source["revenue"].sum())
    assert set(r.company.facts["unit"]) == set(UNITS)  # departments kept, not overwritten by segment


def test_a_deleted_kpi_definition_is_reported(dept):
    wb = openpyxl.load_workbook(dept / "华北区.xlsx")
    ws, t = table_sheet(wb, "KPIs")
    c0, r0, c1, r1 = openpyxl.utils.cell.range_boundaries(t.ref)
    for r in range(r0 + 1, r1 + 1):
        if ws.cell(r, c0).value == "new_customers":
            for c in range(c0, c1 + 1):
                ws.cell(r, c).value = None
    wb.save(dept / "华北区.xlsx")
    r = rollup_workbooks([dept], None)
    missing = [x for x in r.drift if x.kind == "missing KPI"]
    assert len(missing) == 1 and Path(missing[0].file).name == "华北区.xlsx" and "new_customers" in missing[0].detail
    assert "new_customers" in set(r.company.kpis["key"])


def test_blank_unit_rows_go_to_everyone_and_come_back_once(tmp_path):
    from builders import master_review

    from reviewkit.templates import build_workbook

    review = master_review()
    review.tables["Actions"] = pd.DataFrame([
        {"item": "全公司：渠道调整", "measure": "停用3个低效渠道", "owner": "李四", "kpi": "revenue"},
        {"item": "华东：入门版", "measure": "推出入门版", "owner": "张三", "unit": "华东区", "kpi": "renewal_rate"}])
    master = build_workbook(tmp_path / "m.xlsx", review, lang="zh")
    rep = split_workbook(master, tmp_path / "d")
    for f in rep.files:
        items = set(read_review(f.path).table("Actions")["item"])
        assert "全公司：渠道调整" in items
        assert ("华东：入门版" in items) == (f.unit == "华东区")
    r = rollup_workbooks([tmp_path / "d"], None)
    a = r.company.tables["Actions"]
    assert sorted(a["item"]) == sorted(["全公司：渠道调整", "华东：入门版"])  # once each
    shared = a.loc[a["item"] == "全公司：渠道调整", "unit"].iloc[0]
    assert shared is None or pd.isna(shared) or str(shared).strip() == ""


def test_a_zh_rollups_status_sheet_is_chinese(dept, tmp_path):
    """Statuses, drift kinds and details on 汇总状态 in Chinese (file names and the command
    name aside), e.g. a renamed column, a missing one and a KPI defined differently."""
    import re

    from reviewkit.rollup import STATUS_SHEET

    rename_header(dept / "华南区.xlsx", "Scorecard", "实际", "实际完成额（新口径）")
    _set_cells(dept / "华东区.xlsx", "KPIs", "KPI代码", "revenue", {"绿灯阈值": 1.05})
    out = tmp_path / "company.xlsx"
    r = rollup_workbooks([dept], out)
    assert {"missing column", "extra column", "KPI definition"} <= {d.kind for d in r.drift}
    ws = openpyxl.load_workbook(out)[STATUS_SHEET[0]]
    texts = [v for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    assert "结构有差异" in texts and "正常" in texts and "缺少列" in texts
    words = set()
    for t in texts:
        if t.endswith((".xlsx", ".xlsm")):
            continue  # a file name
        for u in UNITS:  # the units' own names (some are hostile English texts)
            t = t.replace(u, "")
        words |= set(re.findall(r"[A-Za-z]{3,}", t))
    assert words <= {"reviewkit", "batch", "KPI", "Excel"}, words


def test_a_zh_status_sheet_with_long_reasons_prints_one_page_wide(dept, tmp_path, soffice):
    """汇总状态 prints landscape, fitted to the page width: a long reason wraps in column E
    (its row grows) instead of falling onto a page of its own."""
    import subprocess

    from reviewkit.export import export_pdf
    from reviewkit.ooxml import WorkbookEditor
    from reviewkit.rollup import STATUS_SHEET, status_sheet

    out = tmp_path / "company.xlsx"
    r = rollup_workbooks([dept], out)
    reason = "部门文件的计分卡缺少目标列，" * 12 + "结尾"
    r.submissions[0].reason_zh = reason
    spec = status_sheet(r, "zh")
    assert spec.page_setup.landscape and spec.page_setup.fit_width == 1
    cell = next(c for c in spec.cells if c.value == reason)
    assert cell.ref.startswith("E") and cell.style.wrap
    assert spec.row_heights[int(cell.ref[1:])] > 15
    editor = WorkbookEditor.open(out)
    try:
        editor.replace_sheet(STATUS_SHEET[0], spec)
        editor.save(out)
    finally:
        editor.close()
    pdf = export_pdf(out, tmp_path / "pdf", sheets=[STATUS_SHEET[0]])
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1\n" in info, info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "说明" in text and "结尾" in text
