"""What Excel repairs on open, checked on a written package: used by test_written_parts.py.

``audit(path)`` returns one line per finding (empty = clean): parts that are not well-formed
XML, table column names that differ from their header cells, style / dxf / font / fill /
border / number-format indexes out of range, number formats Excel refuses, and ids that must
be unique (table ids and names, sheet ids, drawing object ids, relationship ids, chart parts).
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from reviewkit.ooxml import numfmt

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_TABLE = R + "/table"
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def excel_unescape(text: str) -> str:
    """ST_Xstring decoding, written here independently of reviewkit's own."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _target(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), unquote(target)))


def _rels(parts: dict[str, bytes], source: str) -> list[tuple[str, str, str]]:
    d, f = posixpath.split(source)
    name = posixpath.join(d, "_rels", f + ".rels")
    if name not in parts:
        return []
    return [(r.get("Id"), r.get("Type"), r.get("Target")) for r in etree.fromstring(parts[name])
            if r.get("TargetMode") != "External"]


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _cell_texts(sheet: etree._Element, strings: list[str], row: int) -> dict[int, str]:
    """Column -> text of the cells in ``row`` (shared, inline, formula string or number)."""
    out = {}
    for c in sheet.iter(f"{{{MAIN}}}c"):
        m = _CELL_REF.fullmatch(c.get("r", ""))
        if not m or int(m.group(2)) != row:
            continue
        t = c.get("t")
        v = c.find(f"{{{MAIN}}}v")
        if t == "s" and v is not None:
            text = strings[int(v.text)]
        elif t == "inlineStr":
            text = "".join(x.text or "" for x in c.iter(f"{{{MAIN}}}t"))
        else:
            text = v.text if v is not None else ""
        out[_col(m.group(1))] = excel_unescape(text or "")
    return out


def audit(path: Path, only: set[str] | None = None) -> list[str]:
    """Findings for the package at ``path``; ``only``: audit just these parts (an editor's edits
    of someone else's file), plus what they refer to."""
    found: list[str] = []
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    xml: dict[str, etree._Element] = {}
    for n, data in parts.items():
        if not n.lower().endswith((".xml", ".rels", ".vml")) or (only is not None and n not in only):
            continue
        try:
            xml[n] = etree.fromstring(data)
        except etree.XMLSyntaxError as exc:
            found.append(f"{n}: not well-formed ({exc})")
    def tree(n):
        if n not in xml and n in parts:
            try:
                xml[n] = etree.fromstring(parts[n])
            except etree.XMLSyntaxError:
                return None
        return xml.get(n)

    wb_part = next((n for n in parts if n.lower() == "xl/workbook.xml"), None)
    styles = tree("xl/styles.xml")
    strings = [excel_unescape("".join(t.text or "" for t in si.iter(f"{{{MAIN}}}t")))
               for si in tree("xl/sharedStrings.xml").iter(f"{{{MAIN}}}si")] if "xl/sharedStrings.xml" in parts else []

    # -- styles: counts and number formats ----------------------------------------------
    n_xf = n_dxf = 0
    if styles is not None:
        def count(tag):
            el = styles.find(f"{{{MAIN}}}{tag}")
            return 0 if el is None else len([c for c in el if isinstance(c.tag, str)])
        n_xf, n_dxf = count("cellXfs"), count("dxfs")
        n_font, n_fill, n_border = count("fonts"), count("fills"), count("borders")
        fmt_ids = {int(f.get("numFmtId")) for f in styles.iter(f"{{{MAIN}}}numFmt")}
        cell_xfs = styles.find(f"{{{MAIN}}}cellXfs")
        for i, xf in enumerate(cell_xfs if cell_xfs is not None else []):
            for attr, n in (("fontId", n_font), ("fillId", n_fill), ("borderId", n_border)):
                if int(xf.get(attr, "0")) >= n:
                    found.append(f"xl/styles.xml: cellXfs[{i}] {attr}={xf.get(attr)} of {n}")
            nid = int(xf.get("numFmtId", "0"))
            if nid >= 164 and nid not in fmt_ids:
                found.append(f"xl/styles.xml: cellXfs[{i}] numFmtId={nid} is not defined")
    for n, root in list(xml.items()):
        for f in root.iter(f"{{{MAIN}}}numFmt", "{http://schemas.openxmlformats.org/drawingml/2006/chart}numFmt"):
            why = numfmt.problem(f.get("formatCode", ""))
            if why and f.get("formatCode") != "General":
                found.append(f"{n}: number format {f.get('formatCode')!r}: {why}")

    # -- sheets: style and dxf indexes, tables, drawings --------------------------------
    table_ids, table_names, sheet_ids = Counter(), Counter(), Counter()
    charts = Counter()
    if wb_part:
        wb = tree(wb_part)
        rels = {i: t for i, _, t in _rels(parts, wb_part)}
        sheet_ids.update(s.get("sheetId") for s in wb.iter(f"{{{MAIN}}}sheet"))
        for s in wb.iter(f"{{{MAIN}}}sheet"):
            part = _target(wb_part, rels.get(s.get(f"{{{R}}}id"), ""))
            sheet = tree(part) if part in parts else None  # read even when only its tables are audited
            if sheet is None or sheet.tag != f"{{{MAIN}}}worksheet":
                continue
            audit_sheet = only is None or part in only
            if audit_sheet:
                for c in sheet.iter(f"{{{MAIN}}}c", f"{{{MAIN}}}row", f"{{{MAIN}}}col"):
                    st = c.get("s") or c.get("style")
                    if st is not None and int(st) >= max(n_xf, 1):
                        found.append(f"{part}: style index {st} of {n_xf} ({c.get('r') or c.tag})")
                for rule in sheet.iter(f"{{{MAIN}}}cfRule"):
                    if rule.get("dxfId") is not None and int(rule.get("dxfId")) >= n_dxf:
                        found.append(f"{part}: dxfId {rule.get('dxfId')} of {n_dxf}")
            for _, rtype, target in _rels(parts, part):
                t = _target(part, target)
                if rtype == REL_TABLE and t in parts:
                    table = tree(t)
                    table_ids[table.get("id")] += 1
                    table_names[(table.get("displayName") or table.get("name") or "").lower()] += 1
                    if not (audit_sheet or only is None or t in only):
                        continue
                    if table.get("headerRowCount", "1") == "0":
                        continue
                    m = re.fullmatch(r"([A-Z]+)(\d+):([A-Z]+)(\d+)", table.get("ref", ""))
                    c1, r1 = _col(m.group(1)), int(m.group(2))
                    head = _cell_texts(sheet, strings, r1)
                    for i, tc in enumerate(table.iter(f"{{{MAIN}}}tableColumn")):
                        name = excel_unescape(tc.get("name", ""))
                        cell = head.get(c1 + i, "")
                        if cell != name and not (cell == "" and name.startswith("Column")):
                            found.append(f"{t}: column {i + 1} is named {name!r} but its header cell "
                                         f"reads {cell!r} (sheet {s.get('name')!r})")
                elif rtype.endswith("/drawing") and t in parts and (only is None or t in only):
                    drawing = tree(t)
                    ids = Counter(el.get("id") for el in drawing.iter() if isinstance(el.tag, str)
                                  and el.tag.endswith("}cNvPr"))
                    found += [f"{t}: drawing object id {i} used {k} times" for i, k in ids.items() if k > 1]
                    for _, _, ct in _rels(parts, t):
                        charts[_target(t, ct)] += 1
    found += [f"table id {i} used {k} times" for i, k in table_ids.items() if k > 1]
    found += [f"table name {i!r} used {k} times" for i, k in table_names.items() if k > 1]
    found += [f"sheetId {i} used {k} times" for i, k in sheet_ids.items() if k > 1]
    found += [f"{c} is drawn {k} times" for c, k in charts.items() if k > 1]
    for n in parts:
        if n.endswith(".rels") and (only is None or n in only):
            ids = Counter(r.get("Id") for r in tree(n))
            found += [f"{n}: relationship id {i} used {k} times" for i, k in ids.items() if k > 1]
    return found
