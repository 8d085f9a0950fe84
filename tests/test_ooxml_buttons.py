"""Form buttons on sheets the lossless writer rebuilds (``SheetSpec.buttons``).

``reviewkit new --macro`` puts a Refresh button on the guide sheet with XlsxWriter; the summary
sheet is rebuilt by ``replace_sheet`` on every fill, so its button must be written by the
editor itself: a VML drawing part, its relationship, ``<legacyDrawing>`` and the ``vml``
content type. These tests read the result back with independent readers: zipfile + lxml,
``reviewkit.vba`` (oletools for the VBA project), XlsxWriter as the reference for where a
button lands, and LibreOffice.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from lxml import etree

from ooxml_helpers import part_bytes, unresolved_targets
from reviewkit import vba
from reviewkit.errors import InputError
from reviewkit.ooxml import Button, Cell, Chart, Series, SheetSpec, WorkbookEditor
from reviewkit.ooxml.worksheet import WORKSHEET_ORDER
from reviewkit.templates import build_template

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
VML_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
NS = {"x": "urn:schemas-microsoft-com:office:excel", "v": "urn:schemas-microsoft-com:vml",
      "o": "urn:schemas-microsoft-com:office:office"}
SUMMARY = "汇总"
GUIDE = "说明"


def summary_spec(**kw) -> SheetSpec:
    return SheetSpec(cells=[Cell("A1", "2025年度复盘汇总"), Cell("A3", "收入"), Cell("B3", 1200.5)],
                     col_widths={"A": 20, "B": 14},
                     buttons=[Button("J2", "刷新分析", "Refresh", description="运行 reviewkit")], **kw)


def replace_and_save(src: Path, out: Path, name: str = SUMMARY, spec: SheetSpec | None = None,
                     position: int | None = 1) -> Path:
    with WorkbookEditor.open(src) as ed:
        ed.replace_sheet(name, spec if spec is not None else summary_spec(), position=position)
        return ed.save(out)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """What ``reviewkit new --macro`` writes: a Refresh button on the guide sheet."""
    return build_template(tmp_path_factory.mktemp("btn") / "review.xlsm", macro=True)


@pytest.fixture(scope="module")
def filled_twice(template, tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("filled")
    first = replace_and_save(template, d / "first.xlsm")
    second = replace_and_save(first, d / "second.xlsm")
    return first, second


def sheet_parts(path: Path) -> dict[str, str]:
    """sheet name -> worksheet part, read from workbook.xml and its rels."""
    with zipfile.ZipFile(path) as zf:
        wb = etree.fromstring(zf.read("xl/workbook.xml"))
        rels = {r.get("Id"): r.get("Target") for r in etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))}
    return {s.get("name"): posixpath.normpath(posixpath.join("xl", rels[s.get(f"{{{R}}}id")]))
            for s in wb.iter(f"{{{MAIN}}}sheet")}


def rels_of(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    name = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    if name not in zf.namelist():
        return {}
    return {r.get("Id"): (r.get("Type"), posixpath.normpath(posixpath.join(posixpath.dirname(part), r.get("Target"))))
            for r in etree.fromstring(zf.read(name))}


def vml_of(path: Path, sheet: str) -> str | None:
    """The VML part a sheet's <legacyDrawing> points to."""
    part = sheet_parts(path)[sheet]
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read(part))
        legacy = root.find(f"{{{MAIN}}}legacyDrawing")
        if legacy is None:
            return None
        rel_type, target = rels_of(zf, part)[legacy.get(f"{{{R}}}id")]
        assert rel_type == VML_REL
        return target


def referenced_vml(path: Path) -> set[str]:
    """VML parts some relationship points to."""
    out = set()
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith(".rels"):
                d, f = posixpath.split(name)
                src = posixpath.join(posixpath.dirname(d), f[:-5])
                out |= {t for _, t in rels_of(zf, src).values() if t.endswith(".vml")}
    return out


def vml_parts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return sorted(n for n in zf.namelist() if n.endswith(".vml"))


def vml_defaults(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("[Content_Types].xml"))
    return [el.get("ContentType") for el in root.iter(f"{{{CT}}}Default") if el.get("Extension").lower() == "vml"]


# --- the summary button resolves to the project's macro --------------------------------
def test_rebuilt_summary_has_a_button_that_runs_the_projects_refresh(filled_twice):
    _, out = filled_twice
    bindings = {b.sheet: b for b in vba.button_bindings(out)}
    assert set(bindings) == {GUIDE, SUMMARY}
    summary = bindings[SUMMARY]
    assert (summary.caption, summary.macro) == ("刷新分析", "[0]!Refresh")
    # x:Anchor is "left col, dx, top row, dy, right col, dx, bottom row, dy" with 0-based cells:
    # J2 is column 9, row 1; 2 px in; 132 x 30 px over 64 px columns and 20 px rows ends in
    # column 9 + (2 + 132) // 64 = 11 at 134 - 128 = 6 px, row 1 + (2 + 30) // 20 = 2 at 12 px
    assert [int(n) for n in summary.anchor.split(",")] == [9, 2, 1, 2, 11, 6, 2, 12]
    modules = vba.read_macros(out)
    proc = vba.resolve_macro(summary.macro, modules)
    assert proc is not None and (proc.module, proc.name) == (vba.MODULE_NAME, vba.MACRO_NAME)


def test_guide_button_and_vba_project_are_untouched(template, filled_twice):
    _, out = filled_twice
    before = {b.sheet: b for b in vba.button_bindings(template)}
    after = {b.sheet: b for b in vba.button_bindings(out)}
    assert after[GUIDE] == before[GUIDE]
    src, dst = part_bytes(template), part_bytes(out)
    assert dst["xl/vbaProject.bin"] == src["xl/vbaProject.bin"]
    guide_vml = vml_of(template, GUIDE)
    assert vml_of(out, GUIDE) == guide_vml and dst[guide_vml] == src[guide_vml]
    guide_part = sheet_parts(template)[GUIDE]
    assert dst[guide_part] == src[guide_part]


def test_every_relationship_resolves_and_no_vml_is_orphaned(filled_twice):
    for path in filled_twice:
        assert unresolved_targets(path) == set()
        assert set(vml_parts(path)) == referenced_vml(path)
        assert len(vml_parts(path)) == 2  # the guide's and the summary's
        assert vml_defaults(path) == [VML_CT]


def test_second_replace_gives_identical_bytes(filled_twice, tmp_path):
    first, second = filled_twice
    assert first.read_bytes() == second.read_bytes()
    third = replace_and_save(second, tmp_path / "third.xlsm")
    assert third.read_bytes() == first.read_bytes()


def test_legacy_drawing_is_in_schema_order_after_the_charts_drawing(template, tmp_path):
    spec = summary_spec(charts=[Chart("column", series=[Series("B3:B3", "收入")], categories="A3:A3", anchor="D5")])
    out = replace_and_save(template, tmp_path / "chart.xlsm", spec=spec)
    part = sheet_parts(out)[SUMMARY]
    with zipfile.ZipFile(out) as zf:
        root = etree.fromstring(zf.read(part))
        tags = [etree.QName(el).localname for el in root]
        rels = rels_of(zf, part)
    ranks = [WORKSHEET_ORDER.index(t) for t in tags]
    assert ranks == sorted(ranks), tags
    assert tags[-2:] == ["drawing", "legacyDrawing"]
    drawing_rid = root.find(f"{{{MAIN}}}drawing").get(f"{{{R}}}id")
    legacy_rid = root.find(f"{{{MAIN}}}legacyDrawing").get(f"{{{R}}}id")
    assert drawing_rid != legacy_rid
    assert rels[drawing_rid][0].endswith("/drawing") and rels[legacy_rid][0] == VML_REL
    assert unresolved_targets(out) == set()
    assert [b.sheet for b in vba.button_bindings(out)] == [GUIDE, SUMMARY]


# --- where the button lands: XlsxWriter is the reference -----------------------------------
@pytest.mark.parametrize("cell,widths,offset", [
    ("H2", {}, (2, 2)),
    ("C4", {"A": 30, "B": 3, "C": 8}, (0, 25)),
    ("B2", {"B": 0.5, "C": 40}, (70, 5)),
])
def test_anchor_and_position_match_xlsxwriters_insert_button(tmp_path, cell, widths, offset):
    """The same button through XlsxWriter (set_column + insert_button) and through the editor.

    XlsxWriter's stored ``<col width>`` values are fed to the SheetSpec, so both describe the
    same sheet; the VML anchor and the absolute position must agree."""
    ref = tmp_path / "ref.xlsm"
    wb = xlsxwriter.Workbook(str(ref))
    ws = wb.add_worksheet("S")
    for col, w in widths.items():
        ws.set_column(f"{col}:{col}", w)
    ws.insert_button(cell, {"macro": "Refresh", "caption": "Go", "width": 150, "height": 40,
                            "x_offset": offset[0], "y_offset": offset[1]})
    wb.add_vba_project(io.BytesIO(vba.vba_project_bytes()), is_stream=True)
    wb.close()
    with zipfile.ZipFile(ref) as zf:
        stored = {}
        for col in etree.fromstring(zf.read("xl/worksheets/sheet1.xml")).iter(f"{{{MAIN}}}col"):
            for n in range(int(col.get("min")), int(col.get("max")) + 1):
                stored[n] = float(col.get("width"))
        ref_vml = etree.fromstring(zf.read("xl/drawings/vmlDrawing1.vml"))
    spec = SheetSpec(col_widths=stored, buttons=[Button(cell, "Go", "Refresh", width=150, height=40,
                                                        x_offset=offset[0], y_offset=offset[1])])
    out = replace_and_save(ref, tmp_path / "ours.xlsm", name="S", spec=spec, position=None)
    with zipfile.ZipFile(out) as zf:
        ours = etree.fromstring(zf.read(vml_of(out, "S")))

    def look(root):
        shape = root.find(".//v:shape", NS)
        style = dict(kv.split(":", 1) for kv in shape.get("style").split(";"))
        return (root.findtext(".//x:Anchor", namespaces=NS), root.findtext(".//x:FmlaMacro", namespaces=NS),
                {k: style[k] for k in ("margin-left", "margin-top", "width", "height")})

    assert look(ours) == look(ref_vml)


# --- several buttons and sheets; buttons removed ---------------------------------------------
def test_two_owned_sheets_get_distinct_shape_id_blocks_and_refill_identically(template, tmp_path):
    def fill(src, out):
        with WorkbookEditor.open(src) as ed:
            ed.replace_sheet(SUMMARY, summary_spec(), position=1)
            ed.replace_sheet("排名", SheetSpec(buttons=[Button("A1", "刷新", "Reviewkit.Refresh"),
                                                        Button("D1", "再刷新", "[0]!Refresh")]))
            return ed.save(out)

    a = fill(template, tmp_path / "a.xlsm")
    b = fill(a, tmp_path / "b.xlsm")
    assert a.read_bytes() == b.read_bytes()
    blocks, shape_ids = [], []
    with zipfile.ZipFile(b) as zf:
        for name in vml_parts(b):
            root = etree.fromstring(zf.read(name))
            blocks.append(root.find(".//o:idmap", NS).get("data"))
            shape_ids += [s.get("id") for s in root.iter(f"{{{NS['v']}}}shape")]
    assert len(blocks) == 3 and len(set(blocks)) == 3
    assert len(shape_ids) == 4 and len(set(shape_ids)) == 4
    bindings = [(x.sheet, x.caption, x.macro) for x in vba.button_bindings(b)]
    assert ("排名", "刷新", "[0]!Reviewkit.Refresh") in bindings
    assert ("排名", "再刷新", "[0]!Refresh") in bindings
    modules = vba.read_macros(b)
    assert all(vba.resolve_macro(m, modules) is not None for _, _, m in bindings)
    assert unresolved_targets(b) == set() and set(vml_parts(b)) == referenced_vml(b)


def test_rebuilding_without_buttons_removes_the_drawing(filled_twice, tmp_path):
    first, _ = filled_twice
    out = replace_and_save(first, tmp_path / "plain.xlsm", spec=SheetSpec(cells=[Cell("A1", "x")]))
    assert vml_of(out, SUMMARY) is None
    assert [b.sheet for b in vba.button_bindings(out)] == [GUIDE]
    assert set(vml_parts(out)) == referenced_vml(out) and len(vml_parts(out)) == 1
    assert unresolved_targets(out) == set()


def test_a_sheet_xlsxwriter_drew_a_button_on_is_rebuilt_without_leftovers(tmp_path):
    """The old VML of a rebuilt sheet goes; its replacement takes the freed name."""
    src = tmp_path / "xw.xlsm"
    wb = xlsxwriter.Workbook(str(src))
    guide, summary = wb.add_worksheet(GUIDE), wb.add_worksheet(SUMMARY)
    vba.add_refresh_button(wb, guide, "zh")
    vba.add_refresh_button(wb, summary, "zh", cell="B2")
    wb.close()
    old_summary_vml = vml_of(src, SUMMARY)
    out = replace_and_save(src, tmp_path / "out.xlsm")
    assert vml_parts(out) == vml_parts(src)
    assert vml_of(out, SUMMARY) == old_summary_vml
    assert [(b.sheet, b.anchor.split(",")[0]) for b in vba.button_bindings(out)] == [(GUIDE, "7"), (SUMMARY, "9")]
    assert unresolved_targets(out) == set()


def test_vml_default_content_type_is_added_when_the_workbook_has_none(tmp_path):
    src = tmp_path / "bare.xlsm"
    wb = xlsxwriter.Workbook(str(src))
    wb.add_worksheet("Data").write("A1", 1)
    wb.add_vba_project(io.BytesIO(vba.vba_project_bytes()), is_stream=True)
    wb.close()
    assert vml_defaults(src) == []
    out = replace_and_save(src, tmp_path / "out.xlsm")
    assert vml_defaults(out) == [VML_CT]
    with zipfile.ZipFile(out) as zf:
        ct = zf.read("[Content_Types].xml").decode()
    assert "vmlDrawing1.vml" not in ct  # covered by the Default, no Override
    assert [(b.sheet, b.macro) for b in vba.button_bindings(out)] == [(SUMMARY, "[0]!Refresh")]
    assert vba.resolve_macro("[0]!Refresh", vba.read_macros(out)) is not None


# --- refusals ---------------------------------------------------------------------------
def test_buttons_are_refused_in_a_workbook_without_a_vba_project(tmp_path):
    src = build_template(tmp_path / "plain.xlsx")
    before = src.read_bytes()
    with WorkbookEditor.open(src) as ed:
        assert not ed.has_vba_project
        with pytest.raises(InputError) as err:
            ed.replace_sheet(SUMMARY, summary_spec())
        msg = str(err.value)
        assert "VBA project" in msg and ".xlsm" in msg and "plain.xlsx" in msg and SUMMARY in msg
        ed.replace_sheet(SUMMARY, SheetSpec(cells=[Cell("A1", "ok")]))  # without buttons it still works
        ed.save()
    assert src.read_bytes() != before and vba.button_bindings(src) == []


def test_an_xlsm_renamed_without_its_project_is_refused(template, tmp_path):
    parts = part_bytes(template)
    broken = tmp_path / "noproject.xlsm"
    with zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            if name != "xl/vbaProject.bin":
                zf.writestr(name, data)
    with WorkbookEditor.open(broken) as ed:
        assert not ed.has_vba_project
        with pytest.raises(InputError):
            ed.replace_sheet(SUMMARY, summary_spec())


@pytest.mark.parametrize("kw,word", [
    ({"caption": ""}, "caption"),
    ({"macro": "Refresh()"}, "macro"),
    ({"macro": "=HYPERLINK(1)"}, "macro"),
    ({"cell": "J0"}, "cell"),
    ({"width": 0}, "width"),
    ({"height": 2.5}, "height"),
])
def test_bad_buttons_fail_when_made(kw, word):
    args = {"cell": "J2", "caption": "Go", "macro": "Refresh", **kw}
    with pytest.raises(InputError) as err:
        Button(**args)
    assert word in str(err.value).lower() or word in repr(err.value).lower()


def test_sheet_spec_buttons_must_be_buttons():
    with pytest.raises(InputError):
        SheetSpec(buttons=[{"cell": "A1"}])


# --- LibreOffice ----------------------------------------------------------------------
@pytest.mark.libreoffice
def test_libreoffice_opens_it_and_keeps_both_buttons_bound_to_our_macro(filled_twice, soffice, tmp_path):
    """LibreOffice loads the .xlsm, links each button to a procedure of the VBA project and writes
    the controls back when it re-saves as .xlsx, with the procedure it resolved."""
    from reviewkit.libreoffice import recalculate

    _, src = filled_twice
    out = recalculate([src], tmp_path / "lo")[src.resolve()]
    assert out is not None, "LibreOffice could not open the workbook"
    ours = {b.sheet: b for b in vba.button_bindings(src)}
    theirs = {b.sheet: b for b in vba.button_bindings(out)}
    assert set(theirs) == {GUIDE, SUMMARY}
    modules = vba.read_macros(src)
    for sheet in (GUIDE, SUMMARY):
        assert theirs[sheet].caption == ours[sheet].caption
        assert theirs[sheet].anchor == ours[sheet].anchor
        # LibreOffice stores the procedure it found ("Reviewkit.Refresh"), not Excel's "[0]!Refresh"
        assert re.fullmatch(r"(\[0\]!)?\w+\.\w+", theirs[sheet].macro), theirs[sheet].macro
        proc = vba.resolve_macro(theirs[sheet].macro, modules)
        assert proc is not None and (proc.module, proc.name) == (vba.MODULE_NAME, vba.MACRO_NAME)


# --- Excel-made macro workbooks (the shared corpus) -------------------------------------------
def _corpus_xlsm() -> list[str]:
    from ooxml_helpers import CORPUS, manifest

    return [r["file"] for r in manifest() if r["file"].lower().endswith(".xlsm")]


@pytest.mark.parametrize("name", _corpus_xlsm())
def test_excel_made_xlsm_gets_a_button_and_keeps_its_own_controls(name, tmp_path):
    """Excel's own form controls, comments and ActiveX drawings stay byte-identical; the new
    button takes a shape-id block no drawing of the workbook declares; refilling is identical."""
    from ooxml_helpers import CORPUS

    src = CORPUS / name
    try:
        with WorkbookEditor.open(src) as ed:
            if not ed.has_vba_project:
                pytest.skip("no VBA project part (e.g. an XLM macro sheet only)")
    except InputError as exc:  # pragma: no cover - depends on the corpus
        pytest.skip(f"refused by the editor: {exc}")
    sheet = "reviewkit 汇总"
    spec = SheetSpec(cells=[Cell("A1", "x")], buttons=[Button("C3", "Refresh", "Refresh")])
    first = replace_and_save(src, tmp_path / "a.xlsm", name=sheet, spec=spec, position=None)
    second = replace_and_save(first, tmp_path / "b.xlsm", name=sheet, spec=spec, position=None)
    assert first.read_bytes() == second.read_bytes()
    before, after = part_bytes(src), part_bytes(second)
    for part in vml_parts(src):
        assert after[part] == before[part], part
    new = set(vml_parts(second)) - set(vml_parts(src))
    assert new == {vml_of(second, sheet)}
    declared = set()
    for part in vml_parts(src):
        declared |= set(re.findall(rb'<o:idmap[^>]*data="([^"]*)"', before[part]))
    mine = re.findall(rb'<o:idmap[^>]*data="([^"]*)"', after[new.pop()])
    assert len(mine) == 1 and mine[0] not in declared
    old = [b for b in vba.button_bindings(src)]
    now = vba.button_bindings(second)
    assert now[:len(old)] == old
    assert [(b.sheet, b.caption, b.macro) for b in now[len(old):]] == [(sheet, "Refresh", "[0]!Refresh")]
    assert unresolved_targets(second) == set()
    assert set(vml_parts(second)) <= referenced_vml(second) | set(vml_parts(src))


# --- the Refresh button of reviewkit.vba ------------------------------------------------------
@pytest.mark.parametrize("lang,cell", [("zh", "J2"), ("en", "H2")])
def test_refresh_button_draws_what_add_refresh_button_draws(template, tmp_path, lang, cell):
    """``vba.refresh_button`` through the editor and ``add_refresh_button`` through XlsxWriter
    (``refresh_button_vml``) put the same button in the same place with the same macro."""
    out = replace_and_save(template, tmp_path / "r.xlsm", spec=SheetSpec(buttons=[vba.refresh_button(lang, cell)]))
    with zipfile.ZipFile(out) as zf:
        ours = etree.fromstring(zf.read(vml_of(out, SUMMARY)))
    ref = etree.fromstring(vba.refresh_button_vml(lang, cell=cell))

    def look(root):
        shape = root.find(".//v:shape", NS)
        return (root.findtext(".//x:Anchor", namespaces=NS), root.findtext(".//x:FmlaMacro", namespaces=NS),
                "".join(shape.find("v:textbox", NS).itertext()).strip(), shape.get("alt"), shape.get("style"))

    assert look(ours) == look(ref)
    assert vba.resolve_macro(look(ours)[1], vba.read_macros(out)).name == vba.MACRO_NAME


def test_refresh_button_refuses_an_unknown_language():
    with pytest.raises(InputError):
        vba.refresh_button("fr")
