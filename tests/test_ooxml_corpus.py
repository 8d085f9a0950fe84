"""Every Excel-made workbook in the corpus: edit it, then prove nothing else changed."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ooxml_helpers import (CORPUS, OWNED_SHEET, assert_well_formed, edit, expected_refusal, manifest, part_bytes,
                           part_hashes, raw_entries, unresolved_targets)
from reviewkit.errors import WorkbookFormatError
from reviewkit.ooxml.worksheet import WORKSHEET_ORDER

ROWS = manifest()


def test_the_corpus_is_complete():
    """Every file the manifest names is there, unchanged (its SHA-1), and there are 112."""
    import hashlib

    assert len(ROWS) == 112
    for row in ROWS:
        assert hashlib.sha1((CORPUS / row["file"]).read_bytes()).hexdigest() == row["sha1"], row["file"]


@pytest.fixture(scope="module")
def edited(tmp_path_factory) -> dict[str, tuple[Path, object]]:
    """Edit every corpus file once; map file name -> (output path, worksheet part or the error)."""
    outdir = tmp_path_factory.mktemp("corpus")
    results = {}
    for i, row in enumerate(ROWS):
        src = CORPUS / row["file"]
        out = outdir / f"{i:03d}{src.suffix}"
        try:
            results[row["file"]] = (out, edit(src, out))
        except WorkbookFormatError as exc:
            results[row["file"]] = (out, exc)
    return results


WRITER_PARTS = {"[content_types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                "xl/styles.xml", "docprops/custom.xml", "xl/calcchain.xml"}


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_corpus_file_edited_losslessly_or_refused(row, edited):
    src = CORPUS / row["file"]
    out, result = edited[row["file"]]
    reason = expected_refusal(row)
    if reason:
        assert isinstance(result, WorkbookFormatError), f"{row['file']} should have been refused ({reason})"
        assert reason.split()[0].lower() in str(result).lower() and out.name in str(result)
        assert out.read_bytes() == src.read_bytes(), "a refused file must be left untouched"
        return
    assert not isinstance(result, Exception), f"{row['file']}: {result}"
    sheet_part = result
    before, after = part_hashes(src), part_hashes(out)
    owned = WRITER_PARTS | ({sheet_part.lower()} if sheet_part else set())
    raw_before, raw_after = raw_entries(src), raw_entries(out)
    for name, digest in before.items():
        if name.lower() in owned or (name.lower().startswith("xl/tables/") and only_column_names_differ(src, out, name)):
            if name.lower() != "xl/calcchain.xml":
                assert name in after, f"{name} vanished"
            continue
        assert after.get(name) == digest, f"{name} changed or vanished"
        assert raw_after[name] == raw_before[name], f"{name} was recompressed instead of copied"
    changed = [n for n in after if before.get(n) != after[n]]
    assert sheet_part is None or sheet_part in changed
    assert_well_formed(out, changed)
    if sheet_part:
        assert_sheet_order_kept(src, out, sheet_part)
        assert_untouched_elements_byte_identical(src, out, sheet_part)
    # every internal relationship target resolves (the originals all do; the writer keeps it so)
    assert unresolved_targets(src) == set()
    assert unresolved_targets(out) == set()
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        wb = zf.read("xl/workbook.xml").decode("utf-8")
        assert OWNED_SHEET in wb and 'fullCalcOnLoad="1"' in wb
        assert b"abc123" in zf.read("docProps/custom.xml")
        # the file type stays: macro-enabled main content type, vbaProject.bin and its signature
        assert ("macroEnabled.main" in zf.read("[Content_Types].xml").decode()) == (src.suffix == ".xlsm")
        with zipfile.ZipFile(src) as original:
            vba = [n for n in original.namelist() if "vbaproject" in n.lower() or "signature" in n.lower()]
        assert all(n in zf.namelist() for n in vba)


def only_column_names_differ(src: Path, out: Path, part: str) -> bool:
    """The edit wrote a table's header cell: the table part may differ in its column names only
    (the editor keeps them equal to the header cells)."""
    from lxml import etree
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        x, y = etree.fromstring(a.read(part)), etree.fromstring(b.read(part))
    for el in (*x.iter("{*}tableColumn"), *y.iter("{*}tableColumn")):
        el.attrib.pop("name", None)
    return etree.tostring(x) == etree.tostring(y)


@pytest.mark.libreoffice
def test_libreoffice_opens_every_edited_file(edited, soffice, tmp_path):
    from reviewkit.libreoffice import convert

    outs = [out for name, (out, result) in edited.items() if not isinstance(result, Exception)]
    assert len(outs) >= 100
    converted = convert(outs, "csv", tmp_path)
    failed = [p.name for p, c in converted.items() if c is None]
    names = {out.name: name for name, (out, _r) in edited.items()}
    assert not failed, "LibreOffice could not open: " + ", ".join(names[f] for f in failed)


def assert_sheet_order_kept(src: Path, out: Path, part: str) -> None:
    """Known elements in schema order; every original top-level element still there, same order."""
    from lxml import etree

    def children(path):
        root = etree.fromstring(zipfile.ZipFile(path).read(part))
        return [etree.QName(c).localname for c in root if isinstance(c.tag, str)]

    before, after = children(src), children(out)
    rank = {n: i for i, n in enumerate(WORKSHEET_ORDER)}
    known = [rank[n] for n in after if n in rank]
    assert known == sorted(known), after
    it = iter(after)
    assert all(name in it for name in before), (before, after)  # original elements kept, in order
    for name in ("conditionalFormatting", "dataValidations", "cols"):
        assert name in after


@pytest.mark.parametrize("row", [r for r in ROWS if not expected_refusal(r)], ids=lambda r: r["file"])
def test_corpus_refill_gives_identical_bytes(row, edited, tmp_path):
    """Filling the same results into an already-filled workbook changes nothing, part by part."""
    out, result = edited[row["file"]]
    assert not isinstance(result, Exception)
    again = tmp_path / ("again" + out.suffix)
    edit(out, again)
    first, second = part_bytes(out), part_bytes(again)
    assert list(first) == list(second)
    assert [n for n in first if first[n] != second[n]] == []
    assert again.read_bytes() == out.read_bytes()


def assert_untouched_elements_byte_identical(src: Path, out: Path, part: str,
                                             owned=(b"<sheetData", b"<dimension", b"<cols",
                                                    b"<conditionalFormatting", b"<dataValidations")) -> None:
    """Every top-level element of ``part`` the writer does not own is copied byte for byte."""
    from reviewkit.ooxml._xml import _first_element_start, child_spans

    before = zipfile.ZipFile(src).read(part)
    after = zipfile.ZipFile(out).read(part)
    start = _first_element_start(before)
    root_end, spans, _close = child_spans(before[start:])
    for a, b in spans:
        element = before[start + a:start + b]
        if not element.startswith(owned):
            assert element in after, (part, element[:80])
    assert after.startswith(before[:start + root_end])  # declaration and root tag untouched


@pytest.mark.parametrize("row", [r for r in ROWS if not expected_refusal(r)], ids=lambda r: r["file"])
def test_corpus_package_parts_keep_their_bytes(row, edited):
    """workbook.xml, styles.xml and [Content_Types].xml change only in the elements written to."""
    src = CORPUS / row["file"]
    out, _result = edited[row["file"]]
    names = zipfile.ZipFile(src).namelist()
    assert_untouched_elements_byte_identical(src, out, "[Content_Types].xml", owned=(b"<Override PartName=\"/xl/calcChain",))
    wb = next(n for n in names if n.lower().endswith("workbook.xml") and "/_rels/" not in n)
    assert_untouched_elements_byte_identical(src, out, wb, owned=(b"<sheets", b"<calcPr", b"<definedNames",
                                                                  b"<bookViews"))
    if "xl/styles.xml" in names:
        assert_untouched_elements_byte_identical(src, out, "xl/styles.xml", owned=(
            b"<numFmts", b"<fonts", b"<fills", b"<borders", b"<cellXfs", b"<dxfs"))
