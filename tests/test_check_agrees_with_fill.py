"""``check`` and ``fill`` accept the same workbooks: whatever fill refuses, check reports first,
from one entry check and one set of limits (issue 14)."""
from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

import pytest

from builders import part_of
from builders import small_review as _review

from reviewkit.errors import ReviewkitError
from reviewkit.fill import fill_workbook
from reviewkit.reading import check_files
from reviewkit.safety import check_package
from reviewkit.split import split_workbook
from reviewkit.templates import build_workbook


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    return build_workbook(tmp_path_factory.mktemp("agree") / "book.xlsx", _review(["East", "West"]), lang="en",
                          overwrite=True)


def _entries(src: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(src) as zf:
        return [(n, zf.read(n)) for n in zf.namelist()]


def _write(dst: Path, entries: list[tuple[str, bytes]]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicates these tests make
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zo:
            for n, d in entries:
                zo.writestr(n, d)
    return dst


def _both_refuse(path: Path, *fragments: str) -> None:
    before = path.read_bytes()
    problems = [p for p in check_files([path]) if p.severity == "error"]
    assert problems, "check said ok"
    with pytest.raises(ReviewkitError) as info:
        fill_workbook(path)
    for text in (str(problems[0]), str(info.value)):
        assert path.name in text and all(f in text for f in fragments), text
    assert path.read_bytes() == before


def _with_prolog(data: bytes, prolog: bytes) -> bytes:
    return data.replace(b"?>", b"?>" + prolog, 1)


@pytest.mark.parametrize("part", ["xl/styles.xml", "xl/workbook.xml", "docProps/app.xml"])
def test_a_dtd_after_a_long_comment(book, tmp_path, part):
    comment = b"<!--" + b"x" * 20_000 + b"-->"
    dtd = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
    entries = [(n, _with_prolog(d, comment + dtd) if n == part else d) for n, d in _entries(book)]
    _both_refuse(_write(tmp_path / "dtd.xlsx", entries), "DTD", part)


@pytest.mark.parametrize("dup", ["xl/workbook.xml", "xl/Workbook.xml", "XL/STYLES.XML"])
def test_duplicate_entries_also_by_case(book, tmp_path, dup):
    entries = _entries(book)
    original = next(d for n, d in entries if n.lower() == dup.lower())
    _both_refuse(_write(tmp_path / "dup.xlsx", entries + [(dup, original)]), "duplicate part names")
    with pytest.raises(ReviewkitError, match="duplicate part names"):
        check_package(tmp_path / "dup.xlsx")


def test_a_negative_shared_string_index_is_named(book, tmp_path):
    _, sheet = part_of(book, "Scorecard")
    entries = []
    for n, d in _entries(book):
        if n == sheet:
            d, k = re.subn(rb'(<c r="A5"[^>]*t="s"[^>]*>)<v>\d+</v>', rb"\g<1><v>-1</v>", d)
            assert k == 1
        entries.append((n, d))
    path = _write(tmp_path / "sst.xlsx", entries)
    _both_refuse(path, "sheet 'Scorecard'", "shared string that does not exist")
    assert check_files([path])[0].cell == "A5"
    with pytest.raises(ReviewkitError, match="shared string"):
        split_workbook(path, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_one_set_of_limits(book, tmp_path):
    from reviewkit import safety
    from reviewkit.ooxml import Limits
    assert safety.Limits is Limits
    # a 6 MB part of zeros (ratio ~1000): the same refusal from check, fill and check_package
    path = _write(tmp_path / "bomb.xlsx", _entries(book) + [("xl/media/image1.png", bytes(6 * 1024**2))])
    _both_refuse(path, "expands suspiciously", "xl/media/image1.png")
    with pytest.raises(ReviewkitError, match="expands suspiciously"):
        check_package(path)


def test_no_content_types_part(book, tmp_path):
    path = _write(tmp_path / "noct.xlsx", [(n, d) for n, d in _entries(book) if n != "[Content_Types].xml"])
    _both_refuse(path, "[Content_Types].xml is missing")


def _fill_refuses(path: Path) -> ReviewkitError | None:
    try:
        fill_workbook(path)
    except ReviewkitError as exc:
        return exc
    return None


def _agreement_cases():
    from builders import CASES
    return [c for c in CASES if c.id not in ("missing file", "directory", "excel lock file")]


@pytest.mark.parametrize("case", _agreement_cases(), ids=lambda c: c.id)
def test_check_reports_an_error_exactly_when_fill_refuses(case, tmp_path):
    """One validation path: every bad input of test_check_bad_inputs is an error in check
    exactly when fill refuses it (warnings fill goes on with), with the same first line."""
    folder = tmp_path / "in"
    folder.mkdir()
    path = case.build(folder)
    errors = [p for p in check_files([path]) if p.severity == "error"]
    refused = _fill_refuses(path)
    assert bool(errors) == (refused is not None), (errors[:1], refused)
    if refused is not None:
        assert errors[0].message.split(" (")[0] in str(refused), (str(errors[0]), str(refused))
