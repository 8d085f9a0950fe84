"""Untrusted departmental files: zip bombs, XML entities, external links, unit names as paths."""
from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from reviewkit.errors import UnsafeWorkbookError, WorkbookFormatError
from reviewkit.safety import (Limits, check_package, is_formula_like, output_path, safe_filename,
                              text_cell, unique_filenames)

CT = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
      b'package/2006/content-types"/>')


def _zip(path: Path, parts: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def _workbook(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    ws.write_string(0, 0, "华东区")
    ws.write_number(0, 1, 1080)
    wb.close()
    return path


def test_a_normal_workbook_passes_and_reports_sizes(tmp_path):
    info = check_package(_workbook(tmp_path / "ok.xlsx"))
    with zipfile.ZipFile(tmp_path / "ok.xlsx") as zf:
        expected = sum(i.file_size for i in zf.infolist())
        n = len(zf.infolist())
    assert info.entries == n
    assert info.uncompressed == expected
    assert info.external_links == []
    assert not info.has_macros


def test_zip_bomb_by_ratio_is_refused(tmp_path):
    bomb = _zip(tmp_path / "bomb.xlsx", {"[Content_Types].xml": CT,
                                         "xl/worksheets/sheet1.xml": b"<a>" + b" " * (6 * 1024**2) + b"</a>"})
    with pytest.raises(UnsafeWorkbookError, match="zip bomb") as exc:
        check_package(bomb, Limits(ratio_floor=1024**2, max_ratio=100))
    assert "bomb.xlsx" in str(exc.value)
    # the same file is accepted when the ratio is allowed: the limit, not the content, refused it
    assert check_package(bomb, Limits(ratio_floor=1024**2, max_ratio=10_000)).uncompressed > 6 * 1024**2


def test_zip_bomb_by_total_size_is_refused(tmp_path):
    parts = {"[Content_Types].xml": CT}
    for i in range(5):
        parts[f"xl/media/image{i}.png"] = bytes(range(256)) * 4096  # 1 MiB each
    f = _zip(tmp_path / "big.xlsx", parts)
    with pytest.raises(UnsafeWorkbookError, match="too large"):
        check_package(f, Limits(max_total_uncompressed=3 * 1024**2))


def _lie_about_size(path: Path, part: str, declared: int) -> None:
    """Rewrite the local and central headers of ``part`` to declare ``declared`` bytes."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(part)
    struct.pack_into("<I", data, info.header_offset + 22, declared)  # local header: uncompressed size
    cd = data.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<I", data, cd + 16)[0]
    pos = cd_offset
    while data[pos:pos + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        name = bytes(data[pos + 46:pos + 46 + n]).decode()
        if name == part:
            struct.pack_into("<I", data, pos + 24, declared)  # central: uncompressed size
        pos += 46 + n + m + k
    path.write_bytes(bytes(data))


def test_a_part_that_under_declares_its_size_is_still_refused(tmp_path):
    f = _zip(tmp_path / "liar.xlsx", {"[Content_Types].xml": CT,
                                      "xl/worksheets/sheet1.xml": b"<a>" + b"x" * (3 * 1024**2) + b"</a>"})
    _lie_about_size(f, "xl/worksheets/sheet1.xml", 100)
    with zipfile.ZipFile(f) as zf:  # the headers now claim 100 bytes
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size == 100
    with pytest.raises(UnsafeWorkbookError, match="too large"):
        check_package(f, Limits(max_part_uncompressed=1024**2))


def test_too_many_entries(tmp_path):
    parts = {"[Content_Types].xml": CT, **{f"xl/x{i}.bin": b"" for i in range(30)}}
    with pytest.raises(UnsafeWorkbookError, match="too many zip entries"):
        check_package(_zip(tmp_path / "many.xlsx", parts), Limits(max_entries=20))


@pytest.mark.parametrize("xml", [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    b'<worksheet>&lol2;</worksheet>',
    b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><worksheet>&xxe;</worksheet>',
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><worksheet/>'.encode("utf-16-le"),
])
def test_xml_entities_and_dtds_are_refused(tmp_path, xml):
    f = _zip(tmp_path / "xxe.xlsx", {"[Content_Types].xml": CT, "xl/worksheets/sheet1.xml": xml})
    with pytest.raises(UnsafeWorkbookError, match="DTD or XML entities") as exc:
        check_package(f)
    assert "sheet1.xml" in str(exc.value)


def test_marker_split_across_decompression_chunks_is_found(tmp_path):
    # 65536-byte chunks: put "<!DOCTYPE" across the first chunk boundary
    pad = b"<!-- " + b"p" * (65536 - 5 - 4) + b" -->"
    xml = pad[:65536 - 4] + b"<!DOCTYPE x []><worksheet/>"
    f = _zip(tmp_path / "split.xlsx", {"[Content_Types].xml": CT, "xl/worksheets/sheet1.xml": xml},
             compression=zipfile.ZIP_STORED)
    with pytest.raises(UnsafeWorkbookError, match="DTD"):
        check_package(f)


@pytest.mark.parametrize("name", ["../evil.xml", "/abs.xml", "xl\\..\\evil.xml", "C:evil.xml"])
def test_unsafe_part_names_are_refused(tmp_path, name):
    f = _zip(tmp_path / "names.xlsx", {"[Content_Types].xml": CT, name: b"<a/>"})
    with pytest.raises(UnsafeWorkbookError, match="unsafe part name"):
        check_package(f)


def test_not_a_workbook(tmp_path):
    (tmp_path / "notes.xlsx").write_text("just text", encoding="utf-8")
    with pytest.raises(WorkbookFormatError, match="not a zip"):
        check_package(tmp_path / "notes.xlsx")
    (tmp_path / "old.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    with pytest.raises(WorkbookFormatError, match="legacy binary"):
        check_package(tmp_path / "old.xlsx")
    good = _workbook(tmp_path / "good.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(good[: len(good) // 2])
    with pytest.raises(WorkbookFormatError, match="damaged or truncated"):
        check_package(tmp_path / "cut.xlsx")
    with pytest.raises(WorkbookFormatError, match="file not found"):  # the one opener's words (check, fill)
        check_package(tmp_path / "missing.xlsx")
    _zip(tmp_path / "noct.xlsx", {"xl/workbook.xml": b"<a/>"})
    with pytest.raises(WorkbookFormatError, match="Content_Types"):
        check_package(tmp_path / "noct.xlsx")


def test_external_links_are_listed_not_followed(tmp_path):
    src = _workbook(tmp_path / "linked.xlsx")
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("xl/externalLinks/externalLink1.xml",
                      b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                      b'<externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
                      b'2006/relationships"/></externalLink>')
        zout.writestr("xl/externalLinks/_rels/externalLink1.xml.rels",
                      b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                      b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                      b'relationships/externalLinkPath" Target="file:///C:/secret/budget.xlsx" '
                      b'TargetMode="External"/></Relationships>')
    (tmp_path / "linked.xlsx").write_bytes(buf.getvalue())
    info = check_package(tmp_path / "linked.xlsx")
    assert info.external_links == ["file:///C:/secret/budget.xlsx"]


@pytest.mark.parametrize("text, flagged", [
    ("=HYPERLINK(\"http://x\",\"click\")", True), ("+1+2", True), ("-2+3", True), ("@SUM(A1)", True),
    ("\t=1", True), ("华东区", False), ("达成率 -5%", False), ("", False), (-3, False), (None, False),
])
def test_formula_like_text(text, flagged):
    assert is_formula_like(text) is flagged
    if flagged:
        assert text_cell(text) == "'" + text
    else:
        assert text_cell(text) == text


@pytest.mark.parametrize("name, expected", [
    ("华东区", "华东区"),
    ("East China / 华东", "East China _ 华东"),
    ("../../etc/passwd", "etc_passwd"),
    ("..\\..\\windows\\system32", "windows_system32"),
    ("C:\\Users\\x", "C_Users_x"),
    ("CON", "_CON"), ("con.txt", "_con.txt"), ("Com1", "_Com1"), ("LPT9", "_LPT9"), ("CONSOLE", "CONSOLE"),
    ("a\x00b\x1fc\nd", "abcd"),
    ("  销售一部.  ", "销售一部"),
    ("what?*<>|\"", "what"),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["", "..", ".", "///", None, "\x00\x01"])
def test_safe_filename_never_empty_or_dots(name):
    out = safe_filename(name)
    assert out and out not in (".", "..") and "/" not in out and "\\" not in out


def test_long_names_are_cut_on_characters_and_stay_distinct():
    a = "华东区" * 100 + "甲"
    b = "华东区" * 100 + "乙"
    fa, fb = safe_filename(a), safe_filename(b)
    assert len(fa.encode()) <= 150 and len(fb.encode()) <= 150
    assert fa != fb
    assert fa.startswith("华东区华东区")
    fa.encode("utf-8").decode("utf-8")  # no broken character at the cut


def test_unique_filenames_on_case_insensitive_file_systems():
    names = ["A/B", "A_B", "a_b", "华东", "华东"]
    out = unique_filenames(names)
    assert list(out) == ["A/B", "A_B", "a_b", "华东"]
    files = list(out.values())
    assert len({f.casefold() for f in files}) == 4
    assert out["A/B"] == "A_B.xlsx" and out["华东"] == "华东.xlsx"
    assert all(f.endswith(".xlsx") for f in files)


def test_output_path_stays_inside_the_folder(tmp_path):
    assert output_path(tmp_path, "华东.xlsx") == (tmp_path / "华东.xlsx").resolve()
    for bad in ("../x.xlsx", "/etc/x.xlsx", "sub/../../x.xlsx", "..", "sub/x.xlsx"):
        with pytest.raises(UnsafeWorkbookError, match="outside the output folder"):
            output_path(tmp_path, bad)
    # every name safe_filename makes lands inside the folder
    for name in ["../../etc/passwd", "..", "/", "C:\\x", "a/../../b", "CON"]:
        p = output_path(tmp_path, safe_filename(name) + ".xlsx")
        assert p.parent == tmp_path.resolve()


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x","y")',
                                  "=cmd|' /C calc'!A0"])
def test_build_workbook_writes_formula_like_text_as_text(tmp_path, text):
    templates = pytest.importorskip("reviewkit.templates")
    import re as _re

    import openpyxl
    import pandas as pd

    from reviewkit import model

    review = model.Review(tables={
        "KPIs": pd.DataFrame({"key": ["sales"], "name": [text], "direction": ["higher"]}),
        "Scorecard": pd.DataFrame({"unit": [text], "kpi": ["sales"], "target": [1.0], "actual": [1.0]}),
        "Causes": pd.DataFrame({"unit": [text], "kpi": ["sales"], "kind": ["problem"], "cause": [text],
                                "evidence": [text], "action": [text]}),
    }, settings={"company": text}, lang="zh")
    path = templates.build_workbook(tmp_path / "x.xlsx", review, lang="zh")
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/sheet"):
                formulas = _re.findall(r"<f[^>]*>([^<]*)</f>", zf.read(name).decode("utf-8"))
                assert not any(text.lstrip("=+-@") in f for f in formulas), (name, formulas)
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == text]
    assert len(cells) >= 6  # company, KPI name, unit x2, cause, evidence, action
    assert {c.data_type for c in cells} == {"s"}
