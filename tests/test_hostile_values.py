"""Hostile values in a workbook: check reports the cell, fill refuses with the same one-line
error and never raises a bare IndexError / OverflowError (issue 14)."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from builders import part_of
from builders import small_review as _review

from reviewkit.errors import InputError, ReviewkitError
from reviewkit.fill import fill_workbook
from reviewkit.ooxml import WorkbookEditor
from reviewkit.reading import check_files
from reviewkit.split import split_workbook
from reviewkit.templates import build_workbook


def _rewrite(src: Path, dst: Path, part_pattern: str, fn) -> Path:
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zi.infolist():
            data = zi.read(info.filename)
            if re.fullmatch(part_pattern, info.filename):
                data = fn(data)
            zo.writestr(info, data)
    return dst


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    return build_workbook(tmp_path_factory.mktemp("hv") / "book.xlsx", _review(["East", "West"]), lang="en",
                          overwrite=True)


def _refused_alike(path: Path, sheet: str, cell: str | None, what: str) -> None:
    """check names the sheet and cell; fill raises one ReviewkitError saying the same, file untouched."""
    before = path.read_bytes()
    problems = [p for p in check_files([path]) if p.severity == "error"]
    assert problems, "check said ok"
    first = problems[0]
    assert (first.sheet, first.cell) == (sheet, cell) and what in first.message, first
    with pytest.raises(ReviewkitError) as info:
        fill_workbook(path)
    assert what in str(info.value) and path.name in str(info.value) and f"sheet '{sheet}'" in str(info.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize("ref, what", [("V9:A4", "reversed"), ("A4:V1048577", "past the sheet's last row")])
def test_a_bad_table_range_is_named(book, tmp_path, ref, what):
    tpart, _ = part_of(book, "Scorecard")
    path = _rewrite(book, tmp_path / "t.xlsx", re.escape(tpart),
                    lambda d: re.sub(rb'ref="[^"]+"', b'ref="' + ref.encode() + b'"', d, count=1))
    _refused_alike(path, "Scorecard", None, what)
    assert ref in str(check_files([path])[0])
    with pytest.raises(ReviewkitError, match=what):
        split_workbook(path, tmp_path / "out")


def _cell_value(book: Path, tmp_path: Path, ref: str, value: bytes) -> Path:
    _, spart = part_of(book, "Scorecard")
    return _rewrite(book, tmp_path / "v.xlsx", re.escape(spart), lambda d: re.sub(
        rb'(<c r="' + ref.encode() + rb'"[^>]*>)<v>[^<]*</v>', rb"\g<1><v>" + value + b"</v>", d, count=1))


@pytest.mark.parametrize("value, what", [(b"1e309", "infinite"), (b"-1e309", "infinite"), (b"inf", "infinite"),
                                         (b"1.7e308", "too large"), (b"2e15", "too large")])
def test_numbers_no_sum_can_hold_are_named(book, tmp_path, value, what):
    _refused_alike(_cell_value(book, tmp_path, "D5", value), "Scorecard", "D5", what)


def test_a_target_so_small_the_achievement_overflows_is_named(book, tmp_path):
    _refused_alike(_cell_value(book, tmp_path, "C5", b"1e-308"), "Scorecard", "C5", "too close to 0")


def test_text_over_the_cell_limit(book, tmp_path):
    long = "x" * 40_000
    path = _cell_value(book, tmp_path, "A5", b"")
    path = _rewrite(path, tmp_path / "long.xlsx", re.escape(part_of(book, "Scorecard")[1]), lambda d: re.sub(
        rb'<c r="A5"[^>]*>.*?</c>', b'<c r="A5" t="inlineStr"><is><t>' + long.encode() + b"</t></is></c>", d,
        count=1, flags=re.S))
    _refused_alike(path, "Scorecard", "A5", "characters long")
    with WorkbookEditor.open(book) as ed:
        with pytest.raises(InputError) as info:
            ed.sheet("Scorecard").write("K5", long)
    assert "sheet 'Scorecard', cell K5" in str(info.value) and "book.xlsx" in str(info.value)
