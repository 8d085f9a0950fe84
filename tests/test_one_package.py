"""One opened package (issue 15): a file is read once and its zip parsed once per command, and
the reader, the editor and the safety check refuse the same part names with the same words."""
from __future__ import annotations

import builtins
import io
import zipfile
from pathlib import Path

import pytest

from builders import small_review

from reviewkit import files
from reviewkit.batch import FILLED, fill_job
from reviewkit.errors import UnsafeWorkbookError
from reviewkit.fill import fill_workbook
from reviewkit.ooxml import WorkbookEditor
from reviewkit.reading import check_files, read_review
from reviewkit.safety import check_package
from reviewkit.templates import build_workbook


@pytest.fixture()
def book(tmp_path) -> Path:
    return build_workbook(tmp_path / "book.xlsx", small_review(["East", "West"]), lang="en", overwrite=True)


@pytest.fixture()
def looks(monkeypatch, book):
    """Counts, for ``book``: reads of the file (apart from the last look before the in-place
    rename, ``Source.unchanged``) and zip directories parsed by Python's zipfile."""
    seen = {"reads": 0, "zip_parses": 0}
    guard = {"on": False}
    target = str(book.resolve())

    def counting_open(file, mode="r", *args, **kwargs):
        if "r" in mode and "b" in mode and not guard["on"] and isinstance(file, (str, Path)) \
                and str(Path(file).resolve()) == target:
            seen["reads"] += 1
        return real_open(file, mode, *args, **kwargs)

    real_open = io.open
    monkeypatch.setattr(io, "open", counting_open)
    monkeypatch.setattr(builtins, "open", counting_open)

    real_unchanged = files.Source.unchanged

    def unchanged(self):
        guard["on"] = True
        try:
            return real_unchanged(self)
        finally:
            guard["on"] = False

    monkeypatch.setattr(files.Source, "unchanged", unchanged)
    real_init = zipfile.ZipFile.__init__

    def counting_init(self, *args, **kwargs):
        seen["zip_parses"] += 1
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting_init)
    return seen


def test_a_batch_fill_reads_the_file_once_and_parses_its_zip_once(book, looks):
    """batch's fill_job: safety check, staleness, reading, filling and saving share one package."""
    result = fill_job(str(book))
    assert result.status == FILLED, result.reason
    assert looks == {"reads": 1, "zip_parses": 1}


def test_fill_reads_the_file_once_and_parses_its_zip_once(book, looks):
    result = fill_workbook(book)
    assert result.changed
    assert looks == {"reads": 1, "zip_parses": 1}


def test_filling_again_reads_once_too(book, looks):
    fill_workbook(book)
    looks.update(reads=0, zip_parses=0)
    assert fill_job(str(book), force=True).status in (FILLED, "unchanged")
    assert looks == {"reads": 1, "zip_parses": 1}


def _with_entry(src: Path, dst: Path, name: str) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr(name, b"<a/>")
    return dst


@pytest.mark.parametrize("name", ["../evil.xml", "/abs.xml", "xl\\..\\evil.xml", "C:evil.xml", "xl/a\x01.xml"])
def test_the_reader_refuses_a_part_name_the_editor_refuses(book, tmp_path, name):
    path = _with_entry(book, tmp_path / "named.xlsx", name)
    refusals = []
    for opener in (WorkbookEditor.open, read_review, check_package, fill_workbook):
        with pytest.raises(UnsafeWorkbookError, match="unsafe part name") as exc:
            opener(path)
        refusals.append(str(exc.value))
    assert len(set(refusals)) == 1, refusals  # one check, one wording
    problems = check_files([path])
    assert len(problems) == 1 and str(problems[0]).startswith(refusals[0].split(";")[0])
