"""styles.xml: append cell formats (xf) and differential formats (dxf), never renumber.

Every record reviewkit needs is first looked up among the existing ones (same XML after
normalising attribute order), so writing the same style twice, or into a workbook reviewkit
already filled, adds nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from ..errors import InputError
from . import _xml
from ._xml import MAIN, q

STYLESHEET_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
                    "tableStyles", "colors", "extLst")
FONT_ORDER = ("b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign", "sz", "color",
              "name", "family", "charset", "scheme")

BUILTIN_NUM_FORMATS = {
    "General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10, "0.00E+00": 11,
    "# ?/?": 12, "# ??/??": 13, "mm-dd-yy": 14, "d-mmm-yy": 15, "d-mmm": 16, "mmm-yy": 17, "h:mm AM/PM": 18,
    "h:mm:ss AM/PM": 19, "h:mm": 20, "h:mm:ss": 21, "m/d/yy h:mm": 22, "#,##0 ;(#,##0)": 37,
    "#,##0 ;[Red](#,##0)": 38, "#,##0.00;(#,##0.00)": 39, "#,##0.00;[Red](#,##0.00)": 40, "mm:ss": 45,
    "[h]:mm:ss": 46, "mmss.0": 47, "##0.0E+0": 48, "@": 49,
}
_HALIGN = {"left", "center", "right", "fill", "justify", "centerContinuous", "distributed", "general"}
_COLOR_RE = re.compile(r"^#?([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$")


def argb(color: str) -> str:
    """``"#E2EFDA"`` -> ``"FFE2EFDA"``."""
    m = _COLOR_RE.match(color) if isinstance(color, str) else None
    if not m:
        raise InputError("not a colour", value=color, expected="'#RRGGBB' or '#AARRGGBB'")
    hexa = m.group(1).upper()
    return hexa if len(hexa) == 8 else "FF" + hexa


@dataclass(frozen=True)
class CellStyle:
    """How one written cell looks. Applied as a whole (it replaces the cell's previous format).

    ``fill``/``font_color`` are ``'#RRGGBB'``; ``align`` is a horizontal alignment
    (``'left'``, ``'center'``, ``'right'`` ...); ``border`` draws thin lines on all four sides.
    """

    num_format: str | None = None
    fill: str | None = None
    bold: bool = False
    font_color: str | None = None
    italic: bool = False
    align: str | None = None
    wrap: bool = False
    border: bool = False
    locked: bool = True

    def __post_init__(self):
        if self.fill is not None:
            argb(self.fill)
        if self.font_color is not None:
            argb(self.font_color)
        if self.align is not None and self.align not in _HALIGN:
            raise InputError("unknown horizontal alignment", value=self.align, expected=" / ".join(sorted(_HALIGN)))


@dataclass(frozen=True)
class DxfStyle:
    """The differential format a conditional-formatting rule applies (font colour, fill, bold...)."""

    font_color: str | None = None
    fill: str | None = None
    bold: bool = False
    italic: bool = False
    num_format: str | None = None

    def __post_init__(self):
        for c in (self.fill, self.font_color):
            if c is not None:
                argb(c)


def _key(el: etree._Element) -> tuple:
    """Order-insensitive identity of a record (attributes sorted, children in order)."""
    return (_xml.local(el.tag), tuple(sorted(el.attrib.items())), (el.text or "").strip(),
            tuple(_key(c) for c in el if isinstance(c.tag, str)))


def _m(tag: str, **attrs: str) -> etree._Element:
    return etree.Element(q(tag), {k: v for k, v in attrs.items() if v is not None})


class StylesPart:
    """Lazily parsed styles.xml with append-only, de-duplicating record helpers."""

    def __init__(self, data: bytes | None, file: str, part: str):
        self.part = part
        self._original = data
        self.changed = False
        self._doc = _xml.PreservingXml(data if data is not None else _MINIMAL_STYLES, file, part)
        self.root = self._doc.root
        if data is None:
            self.changed = True
        self._xf_cache: dict[CellStyle, int] = {}
        self._dxf_cache: dict[DxfStyle, int] = {}
        #: container name -> [element, its child count, {record key: index}, record count]
        self._key_index: dict[str, list] = {}

    # -- containers ----------------------------------------------------------------------
    def _container(self, name: str) -> etree._Element:
        el = self.root.find(q(name))
        if el is None:
            el = _m(name, count="0")
            _xml.insert_in_order(self.root, el, STYLESHEET_ORDER)
        return el

    def _add(self, container: str, record: etree._Element) -> int:
        """Index of ``record`` in ``container``: an equal existing one, else appended."""
        parent = self._container(container)
        index = self._key_index.get(container)
        if index is None or index[0] is not parent or index[1] != len(parent):
            # keys of the existing records, computed once per container (first one wins)
            keys: dict[tuple, int] = {}
            n = 0
            for c in parent:
                if isinstance(c.tag, str):
                    keys.setdefault(_key(c), n)
                    n += 1
            index = self._key_index[container] = [parent, len(parent), keys, n]
        key = _key(record)
        found = index[2].get(key)
        if found is not None:
            return found
        n = index[3]
        parent.append(record)
        parent.set("count", str(n + 1))
        index[1] = len(parent)
        index[2][key] = n
        index[3] = n + 1
        self.changed = True
        return n

    def num_fmt_id(self, code: str | None) -> int:
        if code is None or code == "General":
            return 0
        if code in BUILTIN_NUM_FORMATS:
            return BUILTIN_NUM_FORMATS[code]
        parent = self.root.find(q("numFmts"))
        used = []
        if parent is not None:
            for el in parent.findall(q("numFmt")):
                if el.get("formatCode") == code:
                    return int(el.get("numFmtId"))
                used.append(int(el.get("numFmtId", "0")))
        parent = self._container("numFmts")
        new_id = max([163, *used]) + 1
        parent.append(_m("numFmt", numFmtId=str(new_id), formatCode=code))
        parent.set("count", str(len(parent.findall(q("numFmt")))))
        self.changed = True
        return new_id

    def _font(self, bold: bool, italic: bool, color: str | None) -> etree._Element:
        fonts = self._container("fonts")
        base = fonts.find(q("font"))
        font = etree.fromstring(etree.tostring(base)) if base is not None else _m("font")
        for tag in ("b", "i", "color"):
            for el in font.findall(q(tag)):
                font.remove(el)
        if bold:
            _xml.insert_in_order(font, _m("b"), FONT_ORDER)
        if italic:
            _xml.insert_in_order(font, _m("i"), FONT_ORDER)
        if color:
            _xml.insert_in_order(font, _m("color", rgb=argb(color)), FONT_ORDER)
        elif base is not None and base.find(q("color")) is not None:
            _xml.insert_in_order(font, etree.fromstring(etree.tostring(base.find(q("color")))), FONT_ORDER)
        return font

    # -- public --------------------------------------------------------------------------
    def xf_index(self, style: CellStyle) -> int:
        """Index into cellXfs for ``style`` (appended on first use)."""
        if style in self._xf_cache:
            return self._xf_cache[style]
        num_fmt = self.num_fmt_id(style.num_format)
        font_id = 0
        if style.bold or style.italic or style.font_color:
            font_id = self._add("fonts", self._font(style.bold, style.italic, style.font_color))
        fill_id = 0
        if style.fill:
            fill = _m("fill")
            pf = etree.SubElement(fill, q("patternFill"), patternType="solid")
            etree.SubElement(pf, q("fgColor"), rgb=argb(style.fill))
            etree.SubElement(pf, q("bgColor"), indexed="64")
            fill_id = self._add("fills", fill)
        border_id = 0
        if style.border:
            border = _m("border")
            for side in ("left", "right", "top", "bottom"):
                s = etree.SubElement(border, q(side), style="thin")
                etree.SubElement(s, q("color"), auto="1")
            etree.SubElement(border, q("diagonal"))
            border_id = self._add("borders", border)
        xf = _m("xf", numFmtId=str(num_fmt), fontId=str(font_id), fillId=str(fill_id), borderId=str(border_id),
                xfId="0")
        if num_fmt:
            xf.set("applyNumberFormat", "1")
        if font_id:
            xf.set("applyFont", "1")
        if fill_id:
            xf.set("applyFill", "1")
        if border_id:
            xf.set("applyBorder", "1")
        if style.align or style.wrap:
            xf.set("applyAlignment", "1")
            al = etree.SubElement(xf, q("alignment"))
            if style.align:
                al.set("horizontal", style.align)
            if style.wrap:
                al.set("wrapText", "1")
        if not style.locked:
            xf.set("applyProtection", "1")
            etree.SubElement(xf, q("protection"), locked="0")
        # cellXfs must exist in any real workbook; make sure it does for the minimal one
        idx = self._add("cellXfs", xf)
        self._xf_cache[style] = idx
        return idx

    def dxf_index(self, style: DxfStyle) -> int:
        if style in self._dxf_cache:
            return self._dxf_cache[style]
        dxf = _m("dxf")
        if style.bold or style.italic or style.font_color:
            font = etree.SubElement(dxf, q("font"))
            if style.bold:
                etree.SubElement(font, q("b"))
            if style.italic:
                etree.SubElement(font, q("i"))
            if style.font_color:
                etree.SubElement(font, q("color"), rgb=argb(style.font_color))
        if style.num_format:
            nid = self.num_fmt_id(style.num_format)
            etree.SubElement(dxf, q("numFmt"), numFmtId=str(nid), formatCode=style.num_format)
        if style.fill:
            fill = etree.SubElement(dxf, q("fill"))
            pf = etree.SubElement(fill, q("patternFill"), patternType="solid")
            etree.SubElement(pf, q("fgColor"), rgb=argb(style.fill))
            etree.SubElement(pf, q("bgColor"), rgb=argb(style.fill))
        idx = self._add("dxfs", dxf)
        self._dxf_cache[style] = idx
        return idx

    def to_bytes(self) -> bytes | None:
        """New bytes when a record was appended, else None (keep the original part)."""
        if not self.changed:
            return None
        if self._original is None:
            return _xml.serialize(self.root)
        return self._doc.to_bytes()


_MINIMAL_STYLES = (
    f'<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/>'
    '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill '
    'patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/>'
    '</border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
).encode()
