"""Files the writer must refuse, Excel's lock file, and an atomic save that survives kill -9."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from ooxml_helpers import CORPUS, REPO
from reviewkit.errors import UnsafeWorkbookError, WorkbookFormatError, WorkbookLockedError
from reviewkit.ooxml import WorkbookEditor


def small(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("S").write("A1", 1)
    wb.close()
    return path


def rezip(src: Path, dst: Path, replace: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.pop(info.filename, zin.read(info)))
        for name, data in replace.items():
            zout.writestr(name, data)
    return dst


def refused(path: Path, error=WorkbookFormatError) -> str:
    before = path.read_bytes()
    with pytest.raises(error) as err:
        WorkbookEditor.open(path)
    assert path.read_bytes() == before
    message = str(err.value)
    assert path.name in message and "expected" in message  # names the file and what is wanted
    return message


def test_not_a_zip(tmp_path):
    p = tmp_path / "notes.xlsx"
    p.write_text("just text, renamed to .xlsx")
    assert "not a zip" in refused(p)


def test_truncated(tmp_path):
    p = small(tmp_path / "cut.xlsx")
    p.write_bytes(p.read_bytes()[:-200])
    assert "truncated" in refused(p)
    q = small(tmp_path / "cut2.xlsx")
    data = q.read_bytes()
    q.write_bytes(data[:len(data) // 2] + data[-22:])  # central directory kept, data gone
    assert "truncated" in refused(q) or "damaged" in refused(q)


def test_encrypted_from_corpus():
    src = CORPUS / "protected_passtika.xlsx"
    if not src.exists():
        pytest.skip("corpus missing")
    assert "encrypted" in refused(src)


def test_legacy_xls(tmp_path):
    p = tmp_path / "old.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600 + "Workbook".encode("utf-16-le"))
    assert ".xls" in refused(p)


def test_strict_ooxml_from_corpus():
    src = CORPUS / "SampleSS.strict.xlsx"
    if not src.exists():
        pytest.skip("corpus missing")
    assert "Strict Open XML" in refused(src)


def test_zip_bomb(tmp_path):
    p = small(tmp_path / "bomb.xlsx")
    bomb = rezip(p, tmp_path / "bomb2.xlsx", {"xl/media/zeros.bin": b"\0" * (64 * 1024 * 1024)})
    assert "zip bomb" in refused(bomb, UnsafeWorkbookError)


def test_declared_size_limit(tmp_path):
    from reviewkit.ooxml import Limits
    p = small(tmp_path / "limits.xlsx")
    with pytest.raises(UnsafeWorkbookError, match="too large"):
        WorkbookEditor.open(p, limits=Limits(max_total_uncompressed=1000))


def test_dtd_and_entities(tmp_path):
    p = small(tmp_path / "dtd.xlsx")
    wb = zipfile.ZipFile(p).read("xl/workbook.xml")
    evil = wb.replace(b"?>", b'?><!DOCTYPE w [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>', 1)
    bad = rezip(p, tmp_path / "dtd2.xlsx", {"xl/workbook.xml": evil})
    assert "DTD" in refused(bad, UnsafeWorkbookError)
    sheet = zipfile.ZipFile(p).read("xl/worksheets/sheet1.xml")
    evil_sheet = sheet.replace(b"?>", b'?><!DOCTYPE x SYSTEM "file:///etc/passwd">', 1)
    bad2 = rezip(p, tmp_path / "dtd3.xlsx", {"xl/worksheets/sheet1.xml": evil_sheet})
    assert "sheet1.xml" in refused(bad2, UnsafeWorkbookError)  # any part, not only those parsed at open
    docprops = rezip(p, tmp_path / "dtd4.xlsx", {"docProps/app.xml": zipfile.ZipFile(p).read("docProps/app.xml")
                     .replace(b"?>", b'?><!DOCTYPE a [<!ENTITY x SYSTEM "http://example.invalid/">]>', 1)})
    assert "DTD" in refused(docprops, UnsafeWorkbookError)


def test_path_traversal_entry(tmp_path):
    p = small(tmp_path / "trav.xlsx")
    bad = rezip(p, tmp_path / "trav2.xlsx", {"../../evil.txt": b"x"})
    assert "unsafe part name" in refused(bad, UnsafeWorkbookError)


def test_lock_file_refuses_save(tmp_path):
    p = small(tmp_path / "budget.xlsx")
    before = p.read_bytes()
    lock = tmp_path / "~$budget.xlsx"
    lock.write_bytes(b"owner")
    with WorkbookEditor.open(p) as book:
        book.sheet("S").write("A1", 2)
        with pytest.raises(WorkbookLockedError) as err:
            book.save()
        assert "budget.xlsx" in str(err.value) and "Excel" in str(err.value)
        assert p.read_bytes() == before
        book.save(tmp_path / "copy.xlsx")  # another target is fine
    lock.unlink()
    assert not list(tmp_path.glob(".~*"))  # no temp files left behind


_KILL_SCRIPT = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {src!r})
    from reviewkit.ooxml import WorkbookEditor
    real_replace = os.replace
    def slow_replace(a, b):
        print("READY", flush=True)   # the temp file is complete; now sit before the rename
        time.sleep(60)
        real_replace(a, b)
    os.replace = slow_replace
    import reviewkit.files as files
    real_exchange = files._exchange
    def slow_exchange(a, b):   # the atomic swap, where the system has one, is the rename
        print("READY", flush=True)
        time.sleep(60)
        return real_exchange(a, b)
    files._exchange = slow_exchange
    with WorkbookEditor.open({path!r}) as book:
        ws = book.sheet("S")
        for r in range(1, 2000):
            ws.write(f"B{{r}}", r)
        print("SAVING", flush=True)
        book.save()
""")


@pytest.mark.parametrize("when", ["before_rename", "while_writing"])
def test_kill_9_during_save_leaves_original_intact(tmp_path, when):
    p = tmp_path / "victim.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("S")
    for r in range(20_000):
        ws.write_row(r, 0, [r, "text", r * 0.5])
    wb.close()
    before = p.read_bytes()
    script = _KILL_SCRIPT.format(src=str(REPO / "src"), path=str(p))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        wanted = "READY" if when == "before_rename" else "SAVING"
        deadline = time.time() + 60
        for line in proc.stdout:
            if line.strip() == wanted or time.time() > deadline:
                break
        if when == "while_writing":
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert p.read_bytes() == before
    if when == "before_rename":  # the complete new file was sitting in a temp file beside it
        temps = list(tmp_path.glob(".~victim.*.tmp"))
        assert len(temps) == 1 and zipfile.ZipFile(temps[0]).testzip() is None
    with zipfile.ZipFile(p) as zf:
        assert zf.testzip() is None


class _Unseekable:
    """A write-only stream: zipfile then writes data descriptors after each entry."""

    def __init__(self, fh):
        self._fh = fh

    def write(self, b):
        return self._fh.write(b)

    def flush(self):
        self._fh.flush()


@pytest.mark.parametrize("kind", ["data_descriptor", "zip64", "stored"])
def test_unusual_zip_layouts_are_copied_correctly(tmp_path, kind):
    src = small(tmp_path / "base.xlsx")
    with zipfile.ZipFile(src) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    odd = tmp_path / f"{kind}.xlsx"
    with open(odd, "wb") as raw:
        target = _Unseekable(raw) if kind == "data_descriptor" else raw
        method = zipfile.ZIP_STORED if kind == "stored" else zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(target, "w", method) as zf:
            for name, data in parts.items():
                with zf.open(name, "w", force_zip64=(kind == "zip64")) as fh:
                    fh.write(data)
    with WorkbookEditor.open(odd) as book:
        book.sheet("S").write("B2", 42)
        book.save()
    with zipfile.ZipFile(odd) as zf:
        assert zf.testzip() is None
        for name, data in parts.items():
            if name not in ("xl/worksheets/sheet1.xml",):
                assert zf.read(name) == data
    import openpyxl
    assert openpyxl.load_workbook(odd)["S"]["B2"].value == 42


def test_unwritable_target_is_a_clear_error(tmp_path):
    from reviewkit.errors import ReviewkitError
    p = small(tmp_path / "src.xlsx")
    with WorkbookEditor.open(p) as book:
        book.sheet("S").write("A1", 3)
        with pytest.raises(ReviewkitError, match="cannot write the workbook"):
            book.save(tmp_path / "no-such-folder" / "out.xlsx")
