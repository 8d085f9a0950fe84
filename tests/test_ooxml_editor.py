"""WorkbookEditor behaviour: read-back, idempotence, ownership of rules, owned sheets, errors."""
from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from lxml import etree

from ooxml_helpers import CORPUS, big_workbook, part_bytes, unresolved_targets
from reviewkit.errors import InputError, ReviewkitError
from reviewkit.ooxml import (Cell, CellIsRule, CellStyle, Chart, ColorScaleRule, DataBarRule, DxfStyle, ErrorValue,
                             ExpressionRule, IconSetRule, ListValidation, Series, SheetNotFoundError, SheetSpec,
                             WorkbookEditor, waterfall_series)
from reviewkit.ooxml.worksheet import WORKSHEET_ORDER

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def make_template(path: Path) -> Path:
    """A small review template made with XlsxWriter: shared strings, styles, a formula, CF, validation."""
    wb = xlsxwriter.Workbook(str(path))
    pct = wb.add_format({"num_format": "0.0%", "bold": True})
    ws = wb.add_worksheet("计分卡")
    ws.write_row("A1", ["Region", "Plan", "Actual", "Prior", "Growth"])
    for r, (name, plan, act, prior) in enumerate([("North", 100, 120, 90), ("South", 80, 70, 75)], start=2):
        ws.write_row(r - 1, 0, [name, plan, act, prior])
        ws.write_formula(r - 1, 4, f"=C{r}/D{r}-1", pct, act / prior - 1)
    ws.write("H5", None, pct)  # formatted but empty: a template's result cell
    ws.conditional_format("A2:A3", {"type": "text", "criteria": "containing", "value": "N",
                                    "format": wb.add_format({"font_color": "#9C0006"})})
    ws.conditional_format("H5:H200", {"type": "cell", "criteria": ">", "value": 1,
                                      "format": wb.add_format({"bg_color": "#FFC7CE"})})
    ws.data_validation("K5:K20", {"validate": "list", "source": ["old1", "old2"]})
    ws.data_validation("B2:B3", {"validate": "integer", "criteria": ">", "value": 0})
    wb.add_worksheet("Notes").write("A1", "keep me")
    wb.define_name("Notes!LocalName", "=Notes!$A$1")
    wb.close()
    return path


@pytest.fixture
def template(tmp_path) -> Path:
    return make_template(tmp_path / "review.xlsx")


def fill(path: Path, out: Path | None = None) -> Path:
    """A realistic fill: values, formulas with cached results, styles, CF, validations, an owned sheet."""
    style = CellStyle(num_format="0.0%", fill="#E2EFDA")
    with WorkbookEditor.open(path) as book:
        ws = book.sheet("计分卡")
        ws.write("H5", 0.9, style=style)
        ws.write("I5", "text")
        ws.write("B2", 101)  # overwrite a template value, keep its format
        ws.write("I6", True)
        ws.write("I7", dt.date(2025, 12, 31))
        ws.write("I8", ErrorValue("#N/A"))
        ws.write("I9", "  spaced & <escaped>  ")
        ws.write_formula("J5", 'IF(D2=0,"n.m.",C2/D2-1)', cached=0.3333333333333333, style=style)
        ws.write_formula("J6", '"x"&A2', cached="xNorth")
        ws.write_formula("J7", "C2>D2", cached=True)
        ws.write_formula("J8", "1/0", cached=ErrorValue("#DIV/0!"))
        ws.write("B30", 5)  # a new row after the last one
        ws.set_column_width("H", 12)
        ws.set_column_width("J", 14.5)
        ws.set_conditional_formats(owned=["H5:H200", "J5:J200"], rules=[
            CellIsRule("H5:H200", ">=", ["0.8"], DxfStyle(font_color="#006100", fill="#C6EFCE")),
            ExpressionRule("J5:J200", "$J5<0", DxfStyle(font_color="#9C0006", bold=True)),
            ColorScaleRule("H5:H200"), DataBarRule("J5:J200"), IconSetRule("H5:H200", "3Arrows")])
        ws.set_data_validations(owned=["K5:K20"], validations=[ListValidation("K5:K20", choices=("达成", "未达成"))])
        base, up, down = waterfall_series([100, 20, -30, 15])
        cells = [Cell("A1", "Step", CellStyle(bold=True)), Cell("B1", "Base"), Cell("C1", "Up"), Cell("D1", "Down")]
        for i, label in enumerate(["Start", "Price", "Volume", "Mix"]):
            cells += [Cell(f"A{i + 2}", label), Cell(f"B{i + 2}", base[i]), Cell(f"C{i + 2}", up[i]),
                      Cell(f"D{i + 2}", down[i])]
        cells.append(Cell("E2", formula="SUM(C2:C5)-SUM(D2:D5)", value=105, style=CellStyle(num_format="#,##0")))
        spec = SheetSpec(cells=cells, col_widths={"A": 14}, merged=["G1:H1"], freeze="B2",
                         conditional_formats=[DataBarRule("C2:C5")],
                         data_validations=[ListValidation("F2:F5", choices=("a", "b"))],
                         charts=[Chart("waterfall", series=[Series("B2:B5"), Series("C2:C5", "Up", "#70AD47"),
                                                            Series("D2:D5", "Down", "#C00000")],
                                       categories="A2:A5", title="Bridge", anchor="G2"),
                                 Chart("bar", series=[Series("C2:C5", "Up")], categories="A2:A5", anchor="G20"),
                                 Chart("line", series=[Series("B2:B5", "Base")], categories="A2:A5", anchor="P2")])
        book.replace_sheet("汇总", spec, position=0)
        book.set_custom_property("reviewkit.fingerprint", "abc")
        book.set_custom_property("reviewkit.rows", 42)
        book.save(out)
    return out or path


def test_read_back_with_calamine_and_openpyxl(template, tmp_path):
    out = fill(template, tmp_path / "out.xlsx")
    import openpyxl
    from python_calamine import CalamineWorkbook

    wb = openpyxl.load_workbook(out)
    ws = wb["计分卡"]
    assert ws["H5"].value == 0.9 and ws["H5"].number_format == "0.0%"
    assert ws["H5"].fill.fgColor.rgb == "FFE2EFDA"
    assert ws["I5"].value == "text" and ws["B2"].value == 101 and ws["I6"].value is True
    assert ws["I7"].value == dt.datetime(2025, 12, 31)
    assert ws["I9"].value == "  spaced & <escaped>  "
    assert ws["J5"].value == '=IF(D2=0,"n.m.",C2/D2-1)'
    assert ws["E2"].value == "=C2/D2-1" and ws["E2"].number_format == "0.0%"  # untouched template cell
    assert ws["A1"].value == "Region" and ws["B30"].value == 5
    assert ws.column_dimensions["H"].width == 12
    assert wb.sheetnames == ["汇总", "计分卡", "Notes"]
    assert wb["汇总"]["E2"].value == "=SUM(C2:C5)-SUM(D2:D5)"
    cached = openpyxl.load_workbook(out, data_only=True)["计分卡"]
    assert cached["J5"].value == pytest.approx(1 / 3) and cached["J6"].value == "xNorth"
    assert cached["J7"].value is True and cached["J8"].value == "#DIV/0!"

    cal = CalamineWorkbook.from_path(str(out))
    assert cal.sheet_names == ["汇总", "计分卡", "Notes"]
    rows = cal.get_sheet_by_name("计分卡").to_python()
    assert rows[4][7] == pytest.approx(0.9) and rows[4][8] == "text" and rows[4][9] == pytest.approx(1 / 3)
    assert rows[5][9] == "xNorth" and rows[0][0] == "Region" and rows[1][1] == 101
    assert rows[29][1] == 5
    summary = cal.get_sheet_by_name("汇总").to_python()
    assert summary[1][4] == 105 and summary[2][0] == "Price"

    # defined names with a sheet index moved with the inserted sheet
    assert wb.defined_names.get("LocalName") is None
    assert "LocalName" in wb["Notes"].defined_names


def test_idempotent_bytes_per_part(template, tmp_path):
    once = fill(template, tmp_path / "once.xlsx")
    twice = fill(once, tmp_path / "twice.xlsx")
    a, b = part_bytes(once), part_bytes(twice)
    assert list(a) == list(b)
    for name in a:
        assert a[name] == b[name], f"{name} differs between the first and second fill"
    assert once.read_bytes() == twice.read_bytes()


def test_save_twice_from_one_editor_is_stable(template, tmp_path):
    with WorkbookEditor.open(template) as book:
        book.sheet("计分卡").write("H5", 1.5)
        first = book.save(tmp_path / "a.xlsx").read_bytes()
        second = book.save(tmp_path / "b.xlsx").read_bytes()
    assert first == second


def test_untouched_parts_and_rules_survive(template, tmp_path):
    before = part_bytes(template)
    out = fill(template, tmp_path / "out.xlsx")
    after = part_bytes(out)
    assert after["xl/sharedStrings.xml"] == before["xl/sharedStrings.xml"]
    assert after["xl/worksheets/sheet2.xml"] == before["xl/worksheets/sheet2.xml"]
    sheet = etree.fromstring(after["xl/worksheets/sheet1.xml"])
    cfs = sheet.findall(f"{MAIN}conditionalFormatting")
    sqrefs = [cf.get("sqref") for cf in cfs]
    assert "A2:A3" in sqrefs  # the user's rule stays
    assert sqrefs.count("H5:H200") == 1 and "J5:J200" in sqrefs
    h_rules = [r.get("type") for cf in cfs if cf.get("sqref") == "H5:H200" for r in cf]
    assert h_rules == ["cellIs", "colorScale", "iconSet"]  # the old owned rule was replaced
    priorities = [int(r.get("priority")) for cf in cfs for r in cf]
    assert len(priorities) == len(set(priorities))
    dvs = sheet.find(f"{MAIN}dataValidations")
    assert dvs.get("count") == "2"
    assert sorted(dv.get("sqref") for dv in dvs) == ["B2:B3", "K5:K20"]
    assert dvs[-1].find(f"{MAIN}formula1").text == '"达成,未达成"'
    assert_schema_order(sheet)


def assert_schema_order(sheet: etree._Element) -> None:
    rank = {n: i for i, n in enumerate(WORKSHEET_ORDER)}
    seen = [rank[etree.QName(c).localname] for c in sheet if etree.QName(c).localname in rank]
    assert seen == sorted(seen), [etree.QName(c).localname for c in sheet]


def test_x14_rules_and_extlst_kept_in_place(tmp_path):
    src = CORPUS / "NewStyleConditionalFormattings.xlsx"
    if not src.exists():
        pytest.skip("corpus missing")
    out = tmp_path / "x14.xlsx"
    shutil.copyfile(src, out)
    orig = zipfile.ZipFile(src).read("xl/worksheets/sheet1.xml")
    with WorkbookEditor.open(out) as book:
        ws = book.sheet(book.sheet_names[0])
        ws.write("Z1", 1)
        ws.set_conditional_formats(owned=["Z1:Z10"], rules=[DataBarRule("Z1:Z10")])
        book.save()
    new = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml")
    o, n = etree.fromstring(orig), etree.fromstring(new)
    ext_o, ext_n = o.find(f"{MAIN}extLst"), n.find(f"{MAIN}extLst")
    assert etree.tostring(ext_o, method="c14n") == etree.tostring(ext_n, method="c14n")
    assert n[-1].tag == f"{MAIN}extLst"
    old_cf = [etree.tostring(e, method="c14n") for e in o.findall(f"{MAIN}conditionalFormatting")]
    new_cf = [etree.tostring(e, method="c14n") for e in n.findall(f"{MAIN}conditionalFormatting")]
    assert new_cf[:len(old_cf)] == old_cf and len(new_cf) == len(old_cf) + 1
    assert_schema_order(n)


def test_replace_sheet_twice_leaves_no_orphans(template, tmp_path):
    out = fill(template, tmp_path / "out.xlsx")
    names1 = set(zipfile.ZipFile(out).namelist())
    spec = SheetSpec(cells=[Cell("A1", "only text now")])
    with WorkbookEditor.open(out) as book:
        book.replace_sheet("汇总", spec)
        book.save()
    names2 = set(zipfile.ZipFile(out).namelist())
    assert not any("chart" in n or "drawing" in n for n in names2)
    assert names1 - names2 >= {"xl/charts/chart1.xml", "xl/drawings/drawing1.xml"}
    assert unresolved_targets(out) == set()
    ct = zipfile.ZipFile(out).read("[Content_Types].xml").decode()
    assert "chart1.xml" not in ct and "drawing1.xml" not in ct
    import openpyxl
    assert openpyxl.load_workbook(out)["汇总"]["A1"].value == "only text now"


def test_missing_sheet_names_the_existing_ones(template):
    with WorkbookEditor.open(template) as book:
        with pytest.raises(SheetNotFoundError) as err:
            book.sheet("Nope")
    assert isinstance(err.value, KeyError) and isinstance(err.value, ReviewkitError)
    assert "'计分卡'" in str(err.value) and "'Notes'" in str(err.value) and "Nope" in str(err.value)


def test_bad_values_fail_at_the_call(template):
    with WorkbookEditor.open(template) as book:
        ws = book.sheet("计分卡")
        for ref, value in [("ZZZZ1", 1), ("A0", 1), ("A1", float("nan")), ("A1", object()), ("A1", "x" * 40000)]:
            with pytest.raises(InputError):
                ws.write(ref, value)
        with pytest.raises(InputError):
            CellStyle(fill="green")
        with pytest.raises(InputError):
            book.replace_sheet("bad/name", SheetSpec())
        with pytest.raises(InputError):
            IconSetRule("A1:A5", "7Stars")


def test_shared_formula_anchor_overwrite_keeps_dependants(tmp_path):
    """Overwriting the anchor cell of a shared formula gives each dependant its own formula."""
    src = tmp_path / "shared.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("S")
    for r in range(1, 6):
        ws.write(r - 1, 0, r)
        ws.write_formula(r - 1, 1, f"=A{r}*2", None, r * 2)
    wb.close()
    # turn column B into one shared formula the way Excel stores a filled-down formula
    parts = part_bytes(src)
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    import re
    xml = re.sub(r'<c r="B1"><f>A1\*2</f>', '<c r="B1"><f t="shared" ref="B1:B5" si="0">A1*2</f>', xml)
    xml = re.sub(r'<c r="B([2-5])"><f>A\1\*2</f>', r'<c r="B\1"><f t="shared" si="0"/>', xml)
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    with WorkbookEditor.open(src) as book:
        book.sheet("S").write("B1", 99)
        book.save()
    import openpyxl
    ws = openpyxl.load_workbook(src)["S"]
    assert ws["B1"].value == 99
    assert [ws[f"B{r}"].value for r in range(2, 6)] == [f"=A{r}*2" for r in range(2, 6)]


def test_large_sheet_is_streamed(tmp_path):
    """Writing into a 30,000-row sheet must not hold the sheet as objects: memory ~ a few x the XML."""
    import tracemalloc

    src = big_workbook(tmp_path / "big.xlsx", 30_000)
    xml_size = zipfile.ZipFile(src).getinfo("xl/worksheets/sheet1.xml").file_size
    tracemalloc.start()
    with WorkbookEditor.open(src) as book:
        s = book.sheet("Data")
        for r in (5, 15_000, 29_999, 30_005):
            s.write(f"J{r}", r, style=CellStyle(num_format="0.0"))
        book.save()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 4 * xml_size, (peak, xml_size)  # the sheet bytes + the merged copy, no row objects
    from python_calamine import CalamineWorkbook
    rows = CalamineWorkbook.from_path(str(src)).get_sheet_by_name("Data").to_python()
    assert rows[14_999][9] == 15_000 and rows[14_999][1] == 30_000 and rows[30_004][9] == 30_005
    assert rows[4][0] == "row 5" and rows[29_998][9] == 29_999


def test_charts_are_native_and_readable(template, tmp_path):
    out = fill(template, tmp_path / "out.xlsx")
    import openpyxl
    charts = openpyxl.load_workbook(out)["汇总"]._charts
    assert [type(c).__name__ for c in charts] == ["BarChart", "BarChart", "LineChart"]
    waterfall = charts[0]
    assert waterfall.grouping == "stacked" and waterfall.overlap == 100
    base = waterfall.series[0]
    assert base.graphicalProperties.noFill  # the invisible base series
    with zipfile.ZipFile(out) as zf:
        chart = zf.read("xl/charts/chart1.xml").decode()
    assert '<c:pt idx="1"><c:v>100</c:v></c:pt>' in chart  # cached values let non-recalculating readers draw it


@pytest.mark.libreoffice
def test_libreoffice_recalculates_to_the_cached_values(template, tmp_path, soffice):
    from reviewkit.libreoffice import recalculate
    out = fill(template, tmp_path / "filled.xlsx")
    result = recalculate([out], tmp_path / "lo")[out.resolve()]
    assert result is not None, "LibreOffice could not open the filled workbook"
    import openpyxl
    wb = openpyxl.load_workbook(result, data_only=True)
    ws = wb["计分卡"]
    assert ws["J5"].value == pytest.approx(120 / 90 - 1)  # IF(D2=0,"n.m.",C2/D2-1), recalculated
    assert ws["J6"].value == "xNorth" and ws["J7"].value is True
    assert ws["H5"].value == 0.9 and ws["I5"].value == "text"
    summary = wb["汇总"]
    assert summary["E2"].value == 105 and summary["A3"].value == "Price"


def test_new_cells_take_the_row_or_column_format(tmp_path):
    src = tmp_path / "fmt.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("S")
    ws.set_column("H:H", 10, wb.add_format({"num_format": "0.0%"}))
    ws.set_row(9, None, wb.add_format({"num_format": "#,##0.00"}))
    ws.write("A10", "row with a format")
    ws.write("A1", "x")
    wb.close()
    with WorkbookEditor.open(src) as book:
        s = book.sheet("S")
        s.write("H7", 0.25)          # new row, formatted column
        s.write("C10", 1234.5)       # existing row with its own format
        s.write("D10", 1, style=CellStyle(num_format="0"))  # an explicit style wins
        book.save()
    import openpyxl
    ws = openpyxl.load_workbook(src)["S"]
    assert ws["H7"].number_format == "0.0%"
    assert ws["C10"].number_format == "#,##0.00"
    assert ws["D10"].number_format == "0"


def test_column_width_splits_existing_spans(tmp_path):
    src = tmp_path / "cols.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("S")
    grey = wb.add_format({"bg_color": "#DDDDDD"})
    ws.set_column("B:F", 9, grey)
    ws.write("A1", 1)
    wb.close()
    with WorkbookEditor.open(src) as book:
        s = book.sheet("S")
        s.set_column_width("D", 20)
        s.set_column_width("K", 5)
        book.save()
    root = etree.fromstring(zipfile.ZipFile(src).read("xl/worksheets/sheet1.xml"))
    cols = [(c.get("min"), c.get("max"), c.get("width"), c.get("style")) for c in root.iter(f"{MAIN}col")]
    style = cols[0][3]
    assert cols == [("2", "3", "9.7109375", style), ("4", "4", "20", style), ("5", "6", "9.7109375", style),
                    ("11", "11", "5", None)]


def test_prefixed_worksheet_keeps_its_prefix(tmp_path):
    """Some generators write <x:worksheet xmlns:x=...>; edits must stay in that namespace."""
    src = tmp_path / "prefixed.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    wb.add_worksheet("S").write("A1", 1)
    wb.close()
    parts = part_bytes(src)
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    parts["xl/worksheets/sheet1.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="{ns}"><x:sheetData><x:row r="1">'
        '<x:c r="A1"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>').encode()
    with zipfile.ZipFile(src, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    with WorkbookEditor.open(src) as book:
        s = book.sheet("S")
        s.write("B3", "new")
        s.write("A1", 2)
        s.set_conditional_formats(owned=["B1:B9"], rules=[DataBarRule("B1:B9")])
        book.save()
    xml = zipfile.ZipFile(src).read("xl/worksheets/sheet1.xml")
    root = etree.fromstring(xml)
    assert [etree.QName(c).localname for c in root] == ["sheetData", "conditionalFormatting"]
    assert b"<x:row r=\"3\"><x:c r=\"B3\" t=\"inlineStr\"><x:is><x:t>new</x:t></x:is></x:c></x:row>" in xml
    import openpyxl
    ws = openpyxl.load_workbook(src)["S"]
    assert ws["A1"].value == 2 and ws["B3"].value == "new"


def test_writes_after_a_save_are_not_lost(template, tmp_path):
    with WorkbookEditor.open(template) as book:
        ws = book.sheet("计分卡")
        ws.write("H5", 1)
        book.save(tmp_path / "first.xlsx")
        ws.write("H6", 2)
        book.save(tmp_path / "second.xlsx")
    import openpyxl
    first = openpyxl.load_workbook(tmp_path / "first.xlsx")["计分卡"]
    second = openpyxl.load_workbook(tmp_path / "second.xlsx")["计分卡"]
    assert (first["H5"].value, first["H6"].value) == (1, None)
    assert (second["H5"].value, second["H6"].value) == (1, 2)


def test_styles_added_to_a_prefixed_styles_part_keep_its_prefix():
    """A styles part in a prefixed main namespace gets its new fills, borders and cell formats
    as elements in that prefix, the same records a default-namespace part gets as text."""
    from reviewkit.ooxml.styles import CellStyle, StylesPart

    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    body = ('<{p}styleSheet xmlns{c}="{ns}"><{p}fonts count="1"><{p}font/></{p}fonts>'
            '<{p}fills count="1"><{p}fill/></{p}fills><{p}borders count="1"><{p}border/></{p}borders>'
            '<{p}cellXfs count="1"><{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></{p}cellXfs>'
            '</{p}styleSheet>')
    style = CellStyle(fill="#FFEEDD", border=True, align="center", wrap=True)
    out = {}
    for p, c in (("x:", ":x"), ("", "")):
        part = StylesPart(body.format(p=p, c=c, ns=ns).encode(), "book.xlsx", "xl/styles.xml")
        assert part.xf_index(style) == 1
        out[p] = part.to_bytes().decode()
    prefixed, plain = out["x:"], out[""]
    assert "<x:fill><x:patternFill" in prefixed and "<x:border><x:left" in prefixed
    assert '<x:alignment horizontal="center" wrapText="1"/></x:xf>' in prefixed
    assert prefixed.count("xmlns") == 1  # no declaration repeated on a new record
    # the same records either way, but for the prefix
    assert prefixed.replace("x:", "").replace("xmlns:x", "xmlns") == plain
