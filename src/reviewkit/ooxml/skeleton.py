"""The part of a worksheet outside ``<sheetData>``: column widths, conditional formats, data
validations and the ranges they cover, edited on the parsed skeleton of the sheet
(:meth:`.worksheet.WorksheetEditor._edit_skeleton`) or on its bytes (``stretch_ranges``)."""
from __future__ import annotations

import re

from lxml import etree

from ..errors import InputError
from . import _xml
from ._xml import q
from .cellref import Box, box_ref, parse_range, sqref_inside
from .cells import number_text
from .rules import conditional_formatting_text, data_validations_element
from .styles import StylesPart

WORKSHEET_ORDER = (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr", "sheetProtection",
    "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate", "customSheetViews",
    "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions",
    "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties", "cellWatches",
    "ignoredErrors", "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture",
    "oleObjects", "controls", "webPublishItems", "tableParts", "extLst")


_SQREF = re.compile(rb'(<(?:[A-Za-z_][\w.\-]*:)?(?:dataValidation|conditionalFormatting)\b[^>]*?\ssqref=")([^"]*)(")')


def stretch_ranges(text: bytes, stretch: list) -> bytes:
    """``WorksheetEditor.extend_ranges`` applied to the sqref attributes in ``text``."""
    def fix(m: re.Match) -> bytes:
        parts = []
        for piece in m.group(2).decode().split():
            try:
                r1, c1, r2, c2 = parse_range(piece)
            except InputError:
                parts.append(piece)
                continue
            for lo_col, hi_col, first, last in stretch:
                if lo_col <= c1 and c2 <= hi_col and r1 <= first <= r2 < last:
                    r2 = last
            parts.append(box_ref((r1, c1, r2, c2)) if (r1, c1, r2, c2) != parse_range(piece) else piece)
        return m.group(1) + " ".join(parts).encode() + m.group(3)

    return _SQREF.sub(fix, text)


def apply_widths(root: etree._Element, widths: dict[int, float]) -> etree._Element:
    """Set the widths; returns the <cols> element (the only one it changes)."""
    cols = root.find(q("cols"))
    if cols is None:
        cols = etree.Element(q("cols"))
        _xml.insert_in_order(root, cols, WORKSHEET_ORDER)
    for col, width in sorted(widths.items()):
        for el in list(cols.findall(q("col"))):
            lo, hi = int(el.get("min", "0")), int(el.get("max", "0"))
            if lo <= col <= hi:
                idx = list(cols).index(el)
                pieces = []
                if lo < col:
                    a = etree.fromstring(etree.tostring(el))
                    a.set("max", str(col - 1))
                    pieces.append(a)
                mid = etree.fromstring(etree.tostring(el))
                mid.set("min", str(col))
                mid.set("max", str(col))
                mid.set("width", number_text(width))
                mid.set("customWidth", "1")
                pieces.append(mid)
                if col < hi:
                    b = etree.fromstring(etree.tostring(el))
                    b.set("min", str(col + 1))
                    pieces.append(b)
                cols.remove(el)
                for k, p in enumerate(pieces):
                    cols.insert(idx + k, p)
                break
        else:
            new = etree.Element(q("col"), min=str(col), max=str(col), width=number_text(width), customWidth="1")
            after = [i for i, el in enumerate(cols) if el.tag == q("col") and int(el.get("max", "0")) < col]
            cols.insert(after[-1] + 1 if after else 0, new)
    return cols


def column_widths(root: etree._Element) -> dict[int, float]:
    """{column number: width} that a worksheet's <cols> gives."""
    cols = root.find(q("cols"))
    return {c: float(el.get("width")) for el in (cols if cols is not None else ()) if el.get("width")
            for c in range(int(el.get("min", "0")), min(int(el.get("max", "0")), 16384) + 1)}


def apply_hidden(root: etree._Element, columns: set[int]) -> etree._Element:
    """Hide ``columns`` (a <col> of their own each, width kept); returns the <cols> element."""
    widths = column_widths(root)
    for col in sorted(columns):
        cols = apply_widths(root, {col: widths.get(col, 8.43)})  # a <col> of its own
        for el in cols.findall(q("col")):
            if el.get("min") == el.get("max") == str(col):
                el.set("hidden", "1")
    return cols


def apply_page_setup(root: etree._Element, setup) -> list[etree._Element]:
    """Orientation and fit-to-pages (or scale) of a :class:`.spec.PageSetup` on <pageSetup> and
    <sheetPr>; the other attributes (paper size, margins, printer settings) stay. Returns the
    top-level elements it changed."""
    page = root.find(q("pageSetup"))
    if page is None:
        page = etree.Element(q("pageSetup"))
        _xml.insert_in_order(root, page, WORKSHEET_ORDER)
    page.set("orientation", "landscape" if setup.landscape else "portrait")
    for attr in ("scale", "fitToWidth", "fitToHeight"):
        page.attrib.pop(attr, None)
    if setup.scale is not None:
        page.set("scale", str(setup.scale))
    else:
        page.set("fitToWidth", str(setup.fit_width))
        page.set("fitToHeight", str(setup.fit_height))
    pr = root.find(q("sheetPr"))
    if pr is None:
        pr = etree.Element(q("sheetPr"))
        _xml.insert_in_order(root, pr, WORKSHEET_ORDER)
    fit = pr.find(q("pageSetUpPr"))
    if fit is None:
        fit = etree.Element(q("pageSetUpPr"))
        _xml.insert_in_order(pr, fit, ("tabColor", "outlinePr", "pageSetUpPr"))
    fit.set("fitToPage", "0" if setup.scale is not None else "1")
    return [page, pr]


def apply_cf(root: etree._Element, owned: list[Box], rules: list, styles: StylesPart,
              replace: dict | None = None) -> list[etree._Element]:
    """Replace the owned rules; returns the kept elements it put new ones after (still compared
    when saving). With ``replace`` (a dict), the new rules go in as one placeholder mapped to their
    text, when every rule can be written as text."""
    kept_last = None
    for el in list(root.findall(q("conditionalFormatting"))):
        if sqref_inside(el.get("sqref", ""), owned):
            root.remove(el)
        else:
            kept_last = el
    touched = [kept_last] if kept_last is not None else []
    priorities = [int(p) for el in root.iter() if _xml.local(el.tag) == "cfRule"
                  for p in [el.get("priority")] if p and p.isdigit()]
    first = max(priorities, default=0) + 1
    text = conditional_formatting_text(rules, styles, first)
    if not text:
        return touched
    if replace is not None:  # the new rules go in as text, in place of one placeholder
        new = [etree.Element(q("conditionalFormatting"))]
        replace[new[0]] = text.encode("utf-8")
    else:  # a part lxml serializes whole: the rules as elements
        new = list(etree.fromstring(f'<w xmlns="{_xml.MAIN}">{text}</w>'))
    for el in new:
        if kept_last is not None:
            kept_last.addnext(el)
        else:
            _xml.insert_in_order(root, el, WORKSHEET_ORDER)
        kept_last = el
    return touched


def apply_dv(root: etree._Element, owned: list[Box], validations: list) -> etree._Element | None:
    """Replace the owned validations; returns the <dataValidations> element it changed."""
    dvs = root.find(q("dataValidations"))
    if dvs is not None:
        for el in list(dvs.findall(q("dataValidation"))):
            if sqref_inside(el.get("sqref", ""), owned):
                dvs.remove(el)
    if validations:
        fresh = data_validations_element(validations)
        if dvs is None:
            dvs = fresh
            _xml.insert_in_order(root, dvs, WORKSHEET_ORDER)
        else:
            for el in list(fresh):
                dvs.append(el)
    if dvs is not None:
        n = len(dvs.findall(q("dataValidation")))
        if n == 0:
            root.remove(dvs)
        else:
            dvs.set("count", str(n))
    return dvs
