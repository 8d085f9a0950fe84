"""Owned sheets print the way a reader expects: landscape, every column on one page width."""
import subprocess
import zipfile

import openpyxl
import pytest
import xlsxwriter

from reviewkit import libreoffice
from reviewkit.errors import InputError
from reviewkit.ooxml import Cell, PageSetup, SheetSpec, WorkbookEditor


def _wide_spec(page_setup):
    cells = [Cell(f"{openpyxl.utils.get_column_letter(c)}{r}", f"r{r}c{c}")
             for r in range(1, 6) for c in range(1, 41)]
    return SheetSpec(cells=cells, col_widths={"A": 14}, page_setup=page_setup)


def _book(path):
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Data").write("A1", 1)
    wb.close()
    return path


def test_page_setup_is_written_in_schema_order_and_read_back(tmp_path):
    path = _book(tmp_path / "b.xlsx")
    with WorkbookEditor.open(path) as book:
        book.replace_sheet("Summary", _wide_spec(PageSetup(landscape=True, fit_width=1, fit_height=0)))
        book.save()
    ws = openpyxl.load_workbook(path)["Summary"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.page_setup.paperSize == 9
    with zipfile.ZipFile(path) as z:
        name = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")][-1]
        xml = z.read(name).decode()
    order = [xml.index(tag) for tag in ("<sheetPr>", "<sheetData>", "<printOptions", "<pageMargins", "<pageSetup ")]
    assert order == sorted(order)


def test_without_page_setup_nothing_is_added(tmp_path):
    path = _book(tmp_path / "b.xlsx")
    with WorkbookEditor.open(path) as book:
        book.replace_sheet("Summary", _wide_spec(None))
        book.save()
    with zipfile.ZipFile(path) as z:
        xml = z.read(sorted(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))[-1]).decode()
    assert "<pageSetup" not in xml and "fitToPage" not in xml


def test_bad_page_setup_values_are_refused():
    with pytest.raises(InputError, match="fit_width"):
        PageSetup(fit_width=-1)
    with pytest.raises(InputError, match="page_setup"):
        SheetSpec(page_setup={"landscape": True})


def test_libreoffice_prints_all_forty_columns_on_one_page_width(tmp_path, soffice):
    fitted, loose = _book(tmp_path / "fitted.xlsx"), _book(tmp_path / "loose.xlsx")
    for path, setup in ((fitted, PageSetup()), (loose, None)):
        with WorkbookEditor.open(path) as book:
            book.replace_sheet("Summary", _wide_spec(setup))
            book.save()
    pdfs = libreoffice.to_pdf([fitted, loose], tmp_path / "pdf")
    pages = {}
    for src, pdf in pdfs.items():
        assert pdf is not None, f"LibreOffice could not render {src.name}"
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        pages[src.stem] = int(next(ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:")))
    # Data (1 page) + Summary: one page when fitted, several pages across when not.
    assert pages["fitted"] == 2
    assert pages["loose"] > 3


def test_row_heights_are_written_and_bad_ones_refused(tmp_path):
    path = _book(tmp_path / "b.xlsx")
    with WorkbookEditor.open(path) as book:
        book.replace_sheet("Notes", SheetSpec(cells=[Cell("A1", "short"), Cell("A2", "long " * 40)],
                                              row_heights={2: 45}))
        book.save()
    ws = openpyxl.load_workbook(path)["Notes"]
    assert ws.row_dimensions[2].height == 45
    assert ws.row_dimensions[1].height is None
    with pytest.raises(InputError, match="row height"):
        SheetSpec(row_heights={0: 15})
    with pytest.raises(InputError, match="row height"):
        SheetSpec(row_heights={3: 1000})


def _print_titles(path):
    import re
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/workbook.xml").decode()
    return re.findall(r'<definedName name="_xlnm.Print_Titles" localSheetId="(\d+)">([^<]*)</definedName>', xml)


def test_repeated_columns_become_print_titles_of_the_right_sheet(tmp_path):
    path = _book(tmp_path / "b.xlsx")
    wide = _wide_spec(PageSetup(fit_width=2, repeat_columns="A:B"))
    with WorkbookEditor.open(path) as book:
        book.replace_sheet("甘特图", wide, position=0)  # inserted before "Data"
        book.save()
    assert _print_titles(path) == [("0", "'甘特图'!$A:$B")]
    assert openpyxl.load_workbook(path)["甘特图"].print_title_cols == "$A:$B"
    first = path.read_bytes()
    with WorkbookEditor.open(path) as book:  # the same spec again: same bytes
        book.replace_sheet("甘特图", wide)
        book.save()
    assert path.read_bytes() == first
    with WorkbookEditor.open(path) as book:  # without repeated columns the name goes
        book.replace_sheet("甘特图", _wide_spec(PageSetup()))
        book.save()
    assert _print_titles(path) == []
    with pytest.raises(InputError):
        PageSetup(repeat_columns="A:1")


def test_scale_breaks_hidden_columns_print_area_and_show_only(tmp_path):
    path = _book(tmp_path / "b.xlsx")
    spec = SheetSpec(cells=[Cell(f"A{r}", r) for r in range(1, 60)] + [Cell("H2", 5)],
                     page_setup=PageSetup(landscape=True, scale=70, print_area="A1:F40"),
                     row_breaks=(25, 50), hidden_columns=("H",))
    with WorkbookEditor.open(path) as book:
        book.replace_sheet("Pack", spec)
        book.save()
    ws = openpyxl.load_workbook(path)["Pack"]
    assert ws.page_setup.scale == 70 and not ws.sheet_properties.pageSetUpPr.fitToPage
    assert [b.id for b in ws.row_breaks.brk] == [24, 49]  # the last row above each break
    assert ws.column_dimensions["H"].hidden and ws["H2"].value == 5
    assert ws.print_area == "'Pack'!$A$1:$F$40"
    with pytest.raises(InputError):
        PageSetup(scale=5)
    with pytest.raises(InputError):
        SheetSpec(row_breaks=(1,))
    # a copy that shows one sheet: the others hidden, their print areas gone, the shown one active
    out = tmp_path / "only.xlsx"
    with WorkbookEditor.open(path) as book:
        book.show_only(["data"])
        book.save(out)
    wb = openpyxl.load_workbook(out)
    assert [ws.sheet_state for ws in wb.worksheets] == ["visible", "hidden"]
    assert wb.active.title == "Data" and not wb["Pack"].print_area
    with WorkbookEditor.open(path) as book, pytest.raises(InputError):
        book.show_only(["No such sheet"])
