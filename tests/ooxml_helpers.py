"""Helpers for the ooxml writer tests: the corpus manifest, part comparison, rels checks, the
standard edit the corpus tests make."""
from __future__ import annotations

import csv
import hashlib
import posixpath
import shutil
import zipfile
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from reviewkit.ooxml import (Cell, CellIsRule, CellStyle, Chart, DxfStyle, IconSetRule, ListValidation, Series,
                             SheetSpec, WorkbookEditor)

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "corpus" / "excel-made"  # see tests/corpus/README.md


def manifest() -> list[dict[str, str]]:
    path = CORPUS / "MANIFEST.tsv"  # the corpus is part of the repository: missing is an error
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def expected_refusal(row: dict[str, str]) -> str | None:
    """Why the writer must refuse this corpus file, judged from its manifest entry."""
    kind = row["feature_kind"].lower()
    if "encrypted" in kind:
        return "encrypted"
    if "strict" in kind:
        return "Strict Open XML"
    return None


def part_hashes(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: hashlib.sha256(zf.read(i)).hexdigest() for i in zf.infolist()}


def part_bytes(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def raw_entries(path: Path) -> dict[str, bytes]:
    """Each entry's compressed bytes as stored in the zip."""
    data = path.read_bytes()
    out = {}
    with zipfile.ZipFile(path) as zf:
        for i in zf.infolist():
            off = i.header_offset
            n = int.from_bytes(data[off + 26:off + 28], "little")
            m = int.from_bytes(data[off + 28:off + 30], "little")
            start = off + 30 + n + m
            out[i.filename] = data[start:start + i.compress_size]
    return out


def rels_source(rels_name: str) -> str:
    d, f = posixpath.split(rels_name)
    return posixpath.join(posixpath.dirname(d), f[:-len(".rels")])


def unresolved_targets(path: Path) -> set[tuple[str, str]]:
    """(rels part, target) for every internal relationship whose target part is missing."""
    with zipfile.ZipFile(path) as zf:
        names = {n.lower() for n in zf.namelist()}
        missing = set()
        for name in zf.namelist():
            if not name.endswith(".rels"):
                continue
            root = etree.fromstring(zf.read(name))
            src = rels_source(name)
            for rel in root:
                if rel.get("TargetMode") == "External":
                    continue
                target = unquote(rel.get("Target", "").split("#")[0])
                if not target:
                    continue
                if target.startswith("/"):
                    part = posixpath.normpath(target).lstrip("/")
                else:
                    part = posixpath.normpath(posixpath.join(posixpath.dirname(src), target))
                if part.lower() not in names:
                    missing.add((name, rel.get("Target")))
        return missing


def first_worksheet(path: Path) -> tuple[str, str] | None:
    """(sheet name, part) of the first sheet that is a worksheet, by reading the package directly."""
    ns_main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    ns_r = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path) as zf:
        ct = etree.fromstring(zf.read("[Content_Types].xml"))
        overrides = {el.get("PartName").lstrip("/").lower(): el.get("ContentType")
                     for el in ct if el.tag.endswith("Override")}
        root_rels = etree.fromstring(zf.read("_rels/.rels"))
        wb_part = next(r.get("Target").lstrip("/") for r in root_rels if r.get("Type").endswith("/officeDocument"))
        wb = etree.fromstring(zf.read(wb_part))
        rels_name = posixpath.join(posixpath.dirname(wb_part), "_rels", posixpath.basename(wb_part) + ".rels")
        rels = {r.get("Id"): r.get("Target") for r in etree.fromstring(zf.read(rels_name))}
        for sheet in wb.iter(f"{{{ns_main}}}sheet"):
            target = rels[sheet.get(f"{{{ns_r}}}id")]
            part = (target.lstrip("/") if target.startswith("/")
                    else posixpath.normpath(posixpath.join(posixpath.dirname(wb_part), target)))
            if overrides.get(part.lower(), "").endswith("worksheet+xml"):
                return sheet.get("name"), part
    return None


def assert_well_formed(path: Path, names: list[str]) -> None:
    with zipfile.ZipFile(path) as zf:
        for n in names:
            if n.endswith((".xml", ".rels")):
                etree.fromstring(zf.read(n))


def big_workbook(path: Path, rows: int, cols: int = 8) -> Path:
    """A workbook with one sheet of ``rows`` x ``cols`` numbers/strings, built fast.

    XlsxWriter makes the package; the sheet XML is generated directly as text (XlsxWriter's own
    row writer takes ~25 s for a million cells).
    """
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Data").write("A1", 0)
    wb.close()
    letters = [chr(65 + c) if c < 26 else "A" + chr(65 + c - 26) for c in range(cols)]
    body = "".join(
        f'<row r="{r}" spans="1:{cols}">'
        + "".join(f'<c r="{letters[c]}{r}" t="inlineStr"><is><t>row {r % 1000}</t></is></c>' if c % 3 == 0
                  else f'<c r="{letters[c]}{r}"><v>{r * (c + 1)}</v></c>' for c in range(cols))
        + "</row>" for r in range(1, rows + 1))
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.'
           'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
           f'<dimension ref="A1:{letters[-1]}{rows}"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"/>'
           f'</sheetViews><sheetFormatPr defaultRowHeight="15"/><sheetData>{body}</sheetData><pageMargins left="0.7" '
           'right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
    parts = part_bytes(path)
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


# --- the standard edit of the corpus tests ------------------------------------------------------
OWNED_SHEET = "reviewkit 汇总"
STYLE = CellStyle(num_format="0.0%", fill="#E2EFDA", bold=True)


def owned_spec() -> SheetSpec:
    """A small owned sheet: cells, a formula, a frozen header and a column chart."""
    return SheetSpec(
        cells=[Cell("A1", "Region", CellStyle(bold=True)), Cell("A2", "North"), Cell("A3", "South"),
               Cell("B1", "Revenue"), Cell("B2", 120.5), Cell("B3", 80), Cell("C2", formula="B2/SUM(B2:B3)", value=0.601)],
        col_widths={"A": 16}, freeze="A2",
        charts=[Chart("column", series=[Series("B2:B3", name="Revenue")], categories="A2:A3", title="Revenue",
                      anchor="E2")])


def edit(src: Path, out: Path) -> str | None:
    """The standard edit; returns the edited worksheet's part name (None if there is no worksheet)."""
    shutil.copyfile(src, out)
    with WorkbookEditor.open(out) as book:
        first = first_worksheet(src)
        if first is not None:
            ws = book.sheet(first[0])
            ws.write("H5", 0.9, style=STYLE)
            ws.write("I5", "reviewkit text")
            ws.write_formula("J5", "IF(D5=0,\"n.m.\",E5/D5-1)", cached=0.125, style=STYLE)
            ws.set_column_width("H", 12)
            ws.set_conditional_formats(owned=["H5:H200"], rules=[
                CellIsRule("H5:H200", ">", ["0.5"], DxfStyle(font_color="#006100", fill="#C6EFCE")),
                IconSetRule("H5:H200", "3Arrows")])
            ws.set_data_validations(owned=["K5:K200"], validations=[ListValidation("K5:K200", choices=("Y", "N"))])
        book.replace_sheet(OWNED_SHEET, owned_spec())
        book.set_custom_property("reviewkit.fingerprint", "abc123")
        book.save()
    return first[1] if first else None
