"""WorksheetEditor.write() into a table's header cell keeps the table's column name in step
(Excel repairs a file whose header text and tableColumn name differ), or refuses (issue 14)."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from builders import small_review as _review

from reviewkit.errors import InputError
from reviewkit.ooxml import WorkbookEditor
from reviewkit.reading.package import find_tables
from reviewkit.templates import build_workbook


@pytest.fixture
def book(tmp_path) -> Path:
    return build_workbook(tmp_path / "h.xlsx", _review(["East", "West"]), lang="en", overwrite=True)


def _columns(path: Path, table: str) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        for n in zf.namelist():
            data = zf.read(n)
            if n.startswith("xl/tables/") and f'displayName="{table}"'.encode() in data:
                return [el.get("name") for el in etree.fromstring(data).iter("{*}tableColumn")]
    raise AssertionError(table)


def _header_ref(path: Path, table: str, i: int) -> str:
    info = find_tables(path).table(table)
    return f"{chr(64 + info.first_col + i)}{info.first_row}"


def test_a_new_header_text_renames_the_column(book):
    ref = _header_ref(book, "Scorecard", 2)
    with WorkbookEditor.open(book) as ed:
        ed.sheet("Scorecard").write(ref, "Plan 2025\x01 <&>")
        ed.sheet("Scorecard").write(_header_ref(book, "Scorecard", 3), 0.9)
        ed.save()
    cols = _columns(book, "Scorecard")
    assert cols[2] == "Plan 2025_x0001_ <&>" and cols[3] == "0.9"  # escaped as Excel writes it
    info = find_tables(book).table("Scorecard")
    assert info.columns[2].name == "Plan 2025\x01 <&>"
    from python_calamine import CalamineWorkbook
    grid = CalamineWorkbook.from_path(str(book)).get_sheet_by_name("Scorecard").to_python()
    assert grid[info.first_row - 1][info.first_col - 1 + 2] == "Plan 2025\x01 <&>"
    assert grid[info.first_row - 1][info.first_col - 1 + 3] == "0.9"  # header cells hold text


def test_the_same_text_keeps_the_table_part(book):
    before = _columns(book, "Scorecard")
    with zipfile.ZipFile(book) as zf:
        parts = {n: zf.read(n) for n in zf.namelist() if n.startswith("xl/tables/")}
    with WorkbookEditor.open(book) as ed:
        ed.sheet("Scorecard").write(_header_ref(book, "Scorecard", 0), before[0])
        ed.save()
    with zipfile.ZipFile(book) as zf:
        assert parts == {n: zf.read(n) for n in zf.namelist() if n.startswith("xl/tables/")}


@pytest.mark.parametrize("value, why", [(None, "non-blank"), ("  ", "non-blank"), ("KPI KEY", "another column")])
def test_a_header_that_cannot_follow_is_refused(book, value, why):
    before = book.read_bytes()
    with WorkbookEditor.open(book) as ed:
        with pytest.raises(InputError, match=why) as info:
            ed.sheet("Scorecard").write(_header_ref(book, "Scorecard", 0), value)
    assert re.search(r"sheet 'Scorecard', cell [A-Z]+\d+: the cell is the header of column", str(info.value))
    assert book.read_bytes() == before
