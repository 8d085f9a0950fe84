"""Fill keeps what users added to a review workbook: charts, pictures, comments, a button,
sparklines, their own conditional formats, macros. Built with XlsxWriter (an Excel-compatible
writer with every one of those features), filled, then compared part by part."""
from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from reviewkit import model
from reviewkit.fill import fill_workbook

VBA = Path(__file__).resolve().parents[1] / "src" / "reviewkit" / "data" / "vbaProject.bin"

KPIS = [  # key, name, unit, direction, weight
    ("revenue", "销售额", "万元", "越高越好", 3),
    ("cost", "费用", "万元", "越低越好", 1),
    ("renew", "续约率", "%", "越高越好", 2),
]
UNITS = ["华东", "华北", "华南"]
DATA = {("华东", "revenue"): (1200, 1080, 960, 900), ("华北", "revenue"): (1000, 1100, 1000, 950),
        ("华南", "revenue"): (800, 820, 850, 700), ("华东", "cost"): (100, 90, 95, 99),
        ("华北", "cost"): (100, 120, 100, 98), ("华南", "cost"): (80, 80, 82, 0),
        ("华东", "renew"): (0.8, 0.75, 0.78, 0.7), ("华北", "renew"): (0.8, 0.82, 0.8, 0.81),
        ("华南", "renew"): (0.8, 0.8, 0.79, 0.77)}


def png_bytes() -> bytes:
    """A 2x2 red PNG (no Pillow needed)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def build(path: Path, tmp: Path, computed: bool = True) -> None:
    wb = xlsxwriter.Workbook(str(path))
    if path.suffix == ".xlsm":
        wb.add_vba_project(str(VBA))
    settings = wb.add_worksheet("设置")
    rows = [("公司", "示例公司"), ("复盘年度", 2025), ("比较单位", "区域")]
    settings.add_table(0, 0, len(rows), 1, {"name": "Settings", "columns": [{"header": "项目"}, {"header": "值"}],
                                            "data": [list(r) for r in rows]})
    kp = wb.add_worksheet("KPI定义")
    kp.add_table(0, 0, len(KPIS), 4, {"name": "KPIs", "data": [list(k) for k in KPIS], "columns": [
        {"header": h} for h in ("KPI代码", "KPI名称", "单位", "方向", "权重")]})
    ws = wb.add_worksheet("计分卡")
    cols = model.SCORECARD.columns if computed else model.SCORECARD.input_columns
    data = []
    for u in UNITS:
        for key, *_ in KPIS:
            t, a, ly, yb = DATA[(u, key)]
            data.append([u, key, t, a, ly, yb, None, None, None] + [None] * (len(cols) - 9))
    last = len(data)
    ws.add_table(0, 0, last, len(cols) - 1, {"name": "Scorecard", "data": data,
                                             "columns": [{"header": c.zh} for c in cols]})
    # the user's own things on the scorecard sheet
    ws.write_comment("D2", "实际值来自财务系统 ERP 导出", {"author": "Li"})
    ws.conditional_format(f"D2:D{last + 1}", {"type": "3_color_scale"})
    ws.add_sparkline(f"X2", {"range": f"计分卡!C2:F2"})
    ws.insert_image("Y2", "logo.png", {"image_data": __import__("io").BytesIO(png_bytes())})
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"categories": f"=计分卡!$A$2:$A$4", "values": f"=计分卡!$D$2:$D$4", "name": "实际"})
    ws.insert_chart("Y8", chart)
    ws.insert_button("Y25", {"macro": "Refresh" if path.suffix == ".xlsm" else "", "caption": "刷新"})
    ws.data_validation(f"A2:A{last + 1}", {"validate": "list", "source": UNITS})
    # a sheet of their own with a text box and a defined name
    mine = wb.add_worksheet("汇总")  # the user's own summary sheet, with the name reviewkit would use
    mine.write("A1", "我自己的汇总")
    notes = wb.add_worksheet("我的备注")
    notes.write("A1", "会议纪要")
    notes.insert_textbox("B3", "下季度重点：华北费用", {"width": 300})
    wb.define_name("目标合计", "=SUM(计分卡!$C$2:$C$10)")
    wb.close()


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def unresolved(p: dict[str, bytes]) -> list[str]:
    bad = []
    for name, data in p.items():
        if not name.endswith(".rels"):
            continue
        base = posixpath.dirname(posixpath.dirname(name))
        for m in re.finditer(rb'<Relationship [^>]*>', data):
            rel = m.group(0)
            if b'TargetMode="External"' in rel:
                continue
            target = re.search(rb'Target="([^"]+)"', rel).group(1).decode()
            full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
            if full not in p:
                bad.append(f"{name} -> {target}")
    return bad


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_user_content_survives_fill(tmp_path, suffix):
    src = tmp_path / f"review{suffix}"
    build(src, tmp_path)
    before = parts(src)
    result = fill_workbook(src)
    assert result.changed, str(result)
    after = parts(src)
    assert unresolved(after) == []
    owned_or_edited = {"xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                       "docProps/custom.xml", "_rels/.rels", "xl/worksheets/sheet3.xml"}
    gone = set(before) - set(after)
    assert gone <= {"xl/calcChain.xml"}, gone
    changed = {n for n in before if n in after and before[n] != after[n]}
    assert changed <= owned_or_edited, changed
    # what XlsxWriter wrote for the user is still there, byte for byte
    for prefix in ("xl/drawings/", "xl/charts/", "xl/media/", "xl/comments", "xl/vbaProject.bin", "xl/tables/"):
        for n in before:
            if n.startswith(prefix):
                assert after[n] == before[n], n
    # and the scorecard sheet still points at it all
    sheet = after["xl/worksheets/sheet3.xml"].decode()
    for marker in ("<drawing ", "<legacyDrawing ", "sparklineGroup", "<tableParts", "colorScale", "dataValidation"):
        assert marker in sheet, marker
    if suffix == ".xlsm":
        assert after["xl/vbaProject.bin"] == VBA.read_bytes()
        assert b"macroEnabled" in after["[Content_Types].xml"]
    # the results are there too
    wb = CalamineWorkbook.from_path(str(src))
    assert {"汇总", "汇总 (reviewkit)", "拆解", "排名", "我的备注"} <= set(wb.sheet_names)
    assert wb.get_sheet_by_name("汇总").to_python() == [["我自己的汇总"]]
    grid = wb.get_sheet_by_name("计分卡").to_python()
    header = grid[0]
    ach = header.index("达成率")
    assert grid[1][ach] == pytest.approx(0.9)  # 1080 / 1200
    assert grid[4][ach] == pytest.approx(1.1)  # cost 90 vs 100, lower is better: 2 - 0.9
    assert fill_workbook(src).changed is False


@pytest.mark.libreoffice
def test_libreoffice_opens_the_filled_workbook(tmp_path, soffice):
    from reviewkit.libreoffice import recalculate

    src = tmp_path / "review.xlsm"
    build(src, tmp_path)
    fill_workbook(src)
    out = recalculate([src], tmp_path / "lo")[src.resolve()]
    assert out is not None
    grid = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("计分卡").to_python()
    assert grid[1][grid[0].index("达成率")] == pytest.approx(0.9)


def test_scorecard_without_computed_columns(tmp_path):
    """A user's own scorecard with inputs only: fill warns and still writes the owned sheets."""
    src = tmp_path / "inputs_only.xlsx"
    build(src, tmp_path, computed=False)
    before = parts(src)
    result = fill_workbook(src)
    assert result.changed
    assert any("达成率" in w or "achievement" in w for w in result.warnings), result.warnings
    assert "警告：" in str(result)  # a zh workbook: its warnings in Chinese (issue 12)
    after = parts(src)
    assert after["xl/worksheets/sheet3.xml"] == before["xl/worksheets/sheet3.xml"]  # nothing to write there
    wb = CalamineWorkbook.from_path(str(src))
    rows = wb.get_sheet_by_name("汇总 (reviewkit)").to_python()
    flat = [c for r in rows for c in r]
    assert pytest.approx(0.9) in [c for c in flat if isinstance(c, float)]  # 华东 revenue achievement
