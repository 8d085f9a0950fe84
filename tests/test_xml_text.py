"""Every text reviewkit writes into an XML part is escaped one way (``_xml.excel_text``).

Control characters become ``_xHHHH_`` as Excel writes them, a literal ``_xHHHH_`` is escaped as
``_x005F_xHHHH_`` so it reads back as typed, lone surrogates and U+FFFE/U+FFFF become U+FFFD.
Names go through split → fill → rollup and every part of every output must parse with lxml and
read back equal with calamine and openpyxl.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from python_calamine import CalamineWorkbook

from builders import small_review as _review
from reviewkit.fill import fill_workbook
from reviewkit.ooxml._xml import REPLACEMENT, excel_text, excel_unescape, xml_text
from reviewkit.rollup import custom_properties, rollup_workbooks
from reviewkit.split import UNIT_PROPERTY, split_workbook
from reviewkit.templates import build_workbook


def xml_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n.endswith((".xml", ".rels", ".vml"))}


def assert_parts_parse(path: Path) -> None:
    bad = []
    for name, data in xml_parts(path).items():
        try:
            etree.fromstring(data)
        except etree.XMLSyntaxError as exc:
            bad.append(f"{name}: {exc}")
    assert not bad, f"{path.name}: " + "; ".join(bad)


def expected_text(text: str) -> str:
    """What a text reads back as: lone surrogates and U+FFFE/U+FFFF replaced (see REPLACEMENT)."""
    return "".join(REPLACEMENT if 0xD800 <= ord(c) <= 0xDFFF or ord(c) in (0xFFFE, 0xFFFF) else c for c in text)


# --- the function ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, stored", [
    ("North\x01west", "North_x0001_west"),
    ("_x0041_", "_x005F_x0041_"),
    ("_x0041_x0042_", "_x005F_x0041__x005F_x0042_".replace("__", "_")),  # both look-alikes escaped
    ("a\rb", "a_x000D_b"),  # a raw CR would be read back as LF
    ("tab\tand\nline", "tab\tand\nline"),  # kept in element text
    ("x\ud800y", "x\ufffdy"),
    ("\uffff", "\ufffd"),
    ("销售额 1,080万 <&> \"'", "销售额 1,080万 <&> \"'"),  # esc's business, not this one's
])
def test_excel_text_escapes_what_xml_cannot_hold(text, stored):
    assert excel_text(text) == stored
    assert excel_unescape(stored) == expected_text(text)


def test_ordinary_text_is_returned_unchanged_not_copied():
    text = "华东区 revenue_x 12% " * 3
    assert excel_text(text) is text
    assert excel_text("a\tb\nc", attribute=True) == "a_x0009_b_x000A_c"  # attributes normalise whitespace
    assert xml_text("Refresh\x07 <now>") == "Refresh &lt;now&gt;"


@pytest.fixture(scope="module")
def blank_book(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("blank") / "blank.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "S"
    wb.save(path)
    return path


def _round_trip(path: Path, texts: list[str]) -> tuple[list[str], list[str]]:
    """Write ``texts`` into column A with the editor; what calamine and openpyxl read back."""
    from reviewkit.ooxml import WorkbookEditor
    with WorkbookEditor.open(path) as ed:
        ws = ed.sheet("S")
        for i, t in enumerate(texts, start=1):
            ws.write(f"A{i}", t)
        ed.save()
    assert_parts_parse(path)
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S").to_python()
    got_calamine = [row[0] for row in grid[:len(texts)]]
    ws2 = openpyxl.load_workbook(path)["S"]
    got_openpyxl = [excel_unescape(ws2[f"A{i}"].value or "") for i in range(1, len(texts) + 1)]
    return got_calamine, got_openpyxl


#: random text: any code point (lone surrogates and non-characters included) mixed with the
#: ones that need escaping and with literal escapes
_PIECE = st.one_of(
    st.characters(codec=None),
    st.sampled_from(["\x00", "\x01", "\x07", "\x0b", "\r", "\x1f", "\x85", "\x9f", "\ud800", "\udfff", "\ufffe",
                     "_", "_x", "_x0041_", "_x005F_", "_x000D_", "_xD800_", "_x0041_x0042_"]))
_TEXT = st.lists(_PIECE, min_size=1, max_size=12).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_TEXT, min_size=1, max_size=6))
def test_any_cell_text_reads_back_as_written(tmp_path_factory, blank_book, texts):
    path = tmp_path_factory.mktemp("rt") / "t.xlsx"
    path.write_bytes(blank_book.read_bytes())
    cal, opx = _round_trip(path, texts)
    want = [expected_text(t) for t in texts]
    assert cal == want
    assert opx == want


# --- split → fill → rollup ---------------------------------------------------------------------
def _split_fill_rollup(tmp: Path, units: list[str]):
    master = build_workbook(tmp / "master.xlsx", _review(units), lang="en", overwrite=True)
    fill_workbook(master)
    assert_parts_parse(master)
    report = split_workbook(master, tmp / "dept")
    for f in report.files:
        fill_workbook(f.path)
        assert_parts_parse(f.path)
        assert custom_properties(f.path)[UNIT_PROPERTY] == expected_text(f.unit)
    company = tmp / "company.xlsx"
    result = rollup_workbooks([tmp / "dept"], company)
    assert_parts_parse(company)
    return master, report, result, company


def _plain_for_openpyxl(units) -> set:
    """openpyxl 3.1 leaves ``_xHHHH_`` in text undecoded but strips ``_x005F_`` from shared
    strings, so a name holding a literal look-alike cannot be told apart there; the cell-level
    property test above checks openpyxl exactly on the inline strings reviewkit writes."""
    return {expected_text(u) for u in units if "_x" not in u}


def _units_read_back(path: Path) -> tuple[set, set]:
    wb = CalamineWorkbook.from_path(str(path))
    cal = {row[0] for row in wb.get_sheet_by_name("Scorecard").to_python()[2:] if row and row[0] != ""}
    ws = openpyxl.load_workbook(path)["Scorecard"]
    opx = {excel_unescape(str(r[0])) for r in ws.iter_rows(min_row=3, max_col=1, values_only=True) if r[0]}
    return cal, opx


def test_a_unit_with_an_escape_survives_split_fill_rollup(tmp_path):
    units = ["North\x01west", "South_x0041_", "W\x07est"]
    master, report, result, company = _split_fill_rollup(tmp_path, units)
    assert not [d for d in result.drift if d.kind == "other unit"], result.drift
    assert set(result.company.scorecard["unit"]) == set(units)
    assert sorted(s.unit for s in result.submissions) == sorted(units)
    for path in (master, company):
        cal, opx = _units_read_back(path)
        assert set(units) <= cal, (path.name, cal)
        assert _plain_for_openpyxl(units) <= opx, (path.name, opx)


_NAME = st.lists(st.one_of(
    st.characters(codec=None, exclude_characters="\\/:*?\"<>|"),
    st.sampled_from(["\x01", "\x07", "\x0b", "\r", "\x1f", "\x85", "_x0041_", "_x005F_", "\ud800", "\uffff"])),
    min_size=1, max_size=10).map("".join)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.lists(_NAME.map(str.strip).filter(lambda t: (t and t.isprintable() is False or "_x" in t)
                                            and any(ch.isprintable() and not ch.isspace() for ch in t)
                                            and not t.endswith("\x00")),
                min_size=2, max_size=2, unique_by=lambda t: expected_text(t).casefold()))
def test_random_unit_names_go_through_split_fill_rollup(tmp_path_factory, units):
    """Unit names with control characters, ``_xHHHH_`` look-alikes and the like survive split, fill
    and rollup. Each name has a visible character and does not end in NUL: a name ending in "\x00"
    is a known gap (numpy's string comparison drops trailing NULs, so split leaves its rows out)."""
    _master, _report, result, company = _split_fill_rollup(tmp_path_factory.mktemp("sfr"), units)
    assert not [d for d in result.drift if d.kind == "other unit"], result.drift
    assert set(result.company.scorecard["unit"]) == {expected_text(u) for u in units}
    cal, opx = _units_read_back(company)
    assert {expected_text(u) for u in units} <= cal
    assert _plain_for_openpyxl(units) <= opx


def test_a_sheet_name_cannot_hold_control_characters(blank_book, tmp_path):
    """Sheet names live in an attribute with no _xHHHH_ escape: refused, not written."""
    from reviewkit.errors import InputError
    from reviewkit.ooxml import SheetSpec, WorkbookEditor
    path = tmp_path / "s.xlsx"
    path.write_bytes(blank_book.read_bytes())
    with WorkbookEditor.open(path) as ed:
        for name in ("North\x01west", "x\ud800"):
            with pytest.raises(InputError, match="invalid sheet name"):
                ed.replace_sheet(name, SheetSpec(cells=[]))
