"""Fill keeps what users added to a review workbook: charts, pictures, comments, a button,
sparklines, their own conditional formats, macros. Built with XlsxWriter (an Excel-compatible
writer with every one of those features; ``builders.build_user_content``), filled, then compared part
by part."""
from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from reviewkit.fill import fill_workbook

from builders import VBA, build_user_content


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
    build_user_content(src, tmp_path)
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
    build_user_content(src, tmp_path)
    fill_workbook(src)
    out = recalculate([src], tmp_path / "lo")[src.resolve()]
    assert out is not None
    grid = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("计分卡").to_python()
    assert grid[1][grid[0].index("达成率")] == pytest.approx(0.9)


def test_scorecard_without_computed_columns(tmp_path):
    """A user's own scorecard with inputs only: fill warns and still writes the owned sheets."""
    src = tmp_path / "inputs_only.xlsx"
    build_user_content(src, tmp_path, computed=False)
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
