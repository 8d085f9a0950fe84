"""styles.xml: append cell formats (xf) and differential formats (dxf), never renumber.

Every record reviewkit needs is first looked up among the existing ones (same XML after
normalising attribute order), so writing the same style twice, or into a workbook reviewkit
already filled, adds nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from .. import caching
from ..errors import InputError
from . import _xml, numfmt
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
        _check_num_format(self.num_format)


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
        _check_num_format(self.num_format)


def _check_num_format(code: str | None) -> None:
    """Refuse a number format Excel would repair (``check`` reports a KPI's first, with its cell)."""
    if code is not None:
        why = numfmt.problem(code)
        if why:
            raise InputError(f"number format is not valid: {why}", value=code, expected=numfmt.EXPECTED)


def _key(el: etree._Element) -> tuple:
    """Order-insensitive identity of a record (attributes sorted, children in order)."""
    return (_xml.local(el.tag), tuple(sorted(el.attrib.items())), (el.text or "").strip(),
            tuple(_key(c) for c in el if isinstance(c.tag, str)))


def _m(tag: str, **attrs: str) -> etree._Element:
    return etree.Element(q(tag), {k: v for k, v in attrs.items() if v is not None})


_FONT_RANK = {name: i for i, name in enumerate(FONT_ORDER)}


def _insert_key_in_order(kids: list[tuple[str, tuple]], child: tuple[str, tuple]) -> None:
    """``_xml.insert_in_order`` over (local name, key) pairs, for FONT_ORDER."""
    kids.insert(_xml.position_in_order([name for name, _key in kids], child[0], _FONT_RANK), child)


#: (styles.xml bytes, container name) -> the container's {record key: index} and record count;
#: departmental workbooks made from one template share their styles.xml
_KEYS_BY_PART = caching.Cache("styles.keys_by_part", 64)


def _existing_keys(parent: etree._Element, original: tuple[bytes, str] | None = None) -> tuple[dict[tuple, int], int]:
    """{record key: index} of a container's records (first one wins) and their count (a fresh
    dict each call). ``original``: (styles.xml bytes, container name) of a container still as
    parsed from those bytes, which identify it without serializing it."""
    if original is not None:
        found = _KEYS_BY_PART.get(original)
        if found is None:
            found = _KEYS_BY_PART.put(original, _existing_keys(parent))
        return dict(found[0]), found[1]
    keys: dict[tuple, int] = {}
    n = 0
    for c in parent:
        if isinstance(c.tag, str):
            keys.setdefault(_key(c), n)
            n += 1
    return keys, n


# A record reviewkit writes, as a hashable recipe: (local tag, ((attribute, value), ...), (child
# recipes, ...)), attributes in the order they are written. Looking a recipe up needs only its
# key (``_recipe_key``, the same tuple ``_key`` gives the built element), so a style that is
# already in styles.xml costs a dict lookup instead of building lxml elements to compare.
Recipe = tuple


def _recipe_key(recipe: Recipe) -> tuple:
    tag, attrs, children = recipe
    return (tag, tuple(sorted((k, v) for k, v in attrs)), "", tuple(_recipe_key(c) for c in children))


def _append_text(parent: etree._Element, text: str) -> None:
    """Append the record ``text`` (a ``_recipe_text``) to ``parent`` as an element; lxml
    writes it with the parent's prefix for the main namespace."""
    parent.append(etree.fromstring(f'<w xmlns="{MAIN}">{text}</w>')[0])


def _recipe_text(recipe: Recipe) -> str:
    """The record as lxml serializes it inside a default-namespace parent. Recipes hold ids,
    colours and alignment names, checked before they get here: printable text only."""
    tag, attrs, children = recipe
    out = [f"<{tag}"]
    for k, v in attrs:
        if not v.isprintable():
            raise ValueError(f"style attribute {k} is not printable text: {v!r}")
        out.append(f' {k}="{_xml.esc(v)}"')
    if not children:
        out.append("/>")
        return "".join(out)
    out.append(">")
    for c in children:
        out.append(_recipe_text(c))
    out.append(f"</{tag}>")
    return "".join(out)


@caching.memo("styles.recipes", 4096)
def _recipe_info(recipe: Recipe) -> tuple[tuple, str]:
    """(``_recipe_key``, ``_recipe_text``) of a recipe."""
    return _recipe_key(recipe), _recipe_text(recipe)


def _fill_recipe(color: str) -> Recipe:
    return ("fill", (), (("patternFill", (("patternType", "solid"),),
                          (("fgColor", (("rgb", argb(color)),), ()), ("bgColor", (("indexed", "64"),), ()))),))


_THIN_BORDER: Recipe = ("border", (), (*((side, (("style", "thin"),), (("color", (("auto", "1"),), ()),))
                                         for side in ("left", "right", "top", "bottom")),
                                       ("diagonal", (), ())))


def _dxf_recipe(style: DxfStyle, num_fmt_id: int | None) -> Recipe:
    children = []
    if style.bold or style.italic or style.font_color:
        font = []
        if style.bold:
            font.append(("b", (), ()))
        if style.italic:
            font.append(("i", (), ()))
        if style.font_color:
            font.append(("color", (("rgb", argb(style.font_color)),), ()))
        children.append(("font", (), tuple(font)))
    if style.num_format:
        children.append(("numFmt", (("numFmtId", str(num_fmt_id)), ("formatCode", style.num_format)), ()))
    if style.fill:
        rgb = argb(style.fill)
        children.append(("fill", (), (("patternFill", (("patternType", "solid"),),
                                       (("fgColor", (("rgb", rgb),), ()), ("bgColor", (("rgb", rgb),), ()))),)))
    return ("dxf", (), tuple(children))


def _xf_recipe(num_fmt: int, font_id: int, fill_id: int, border_id: int, align: str | None, wrap: bool,
               locked: bool) -> Recipe:
    attrs = [("numFmtId", str(num_fmt)), ("fontId", str(font_id)), ("fillId", str(fill_id)),
             ("borderId", str(border_id)), ("xfId", "0")]
    children = []
    if num_fmt:
        attrs.append(("applyNumberFormat", "1"))
    if font_id:
        attrs.append(("applyFont", "1"))
    if fill_id:
        attrs.append(("applyFill", "1"))
    if border_id:
        attrs.append(("applyBorder", "1"))
    if align or wrap:
        attrs.append(("applyAlignment", "1"))
        alignment = []
        if align:
            alignment.append(("horizontal", align))
        if wrap:
            alignment.append(("wrapText", "1"))
        children.append(("alignment", tuple(alignment), ()))
    if not locked:
        attrs.append(("applyProtection", "1"))
        children.append(("protection", (("locked", "0"),), ()))
    return ("xf", tuple(attrs), tuple(children))


@caching.memo("styles.xfs", 4096)
def _xf_info(num_fmt: int, font_id: int, fill_id: int, border_id: int, align: str | None, wrap: bool,
             locked: bool) -> tuple[Recipe, tuple, str]:
    """(recipe, key, text) of the cell format with these ids and flags."""
    recipe = _xf_recipe(num_fmt, font_id, fill_id, border_id, align, wrap, locked)
    return (recipe, *_recipe_info(recipe))


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
        self._xf_by_id: dict[int, tuple[CellStyle, int]] = {}
        self._dxf_cache: dict[DxfStyle, int] = {}
        #: container name -> [element, its child count, {record key: index}, record count]
        self._key_index: dict[str, list] = {}
        self._num_fmt_cache: dict[str, int] = {}
        self._containers: dict[str, etree._Element] = {}
        #: container name -> (element, [records appended as text]). Building lxml elements is
        #: the slow part of adding a style, so new records stay text and are spliced in at
        #: serialization, where lxml would have written exactly the same bytes for them
        self._pending: dict[str, tuple[etree._Element, list[str]]] = {}
        #: (base font, its key head, (local name, key) of the children _font keeps, its colour's key,
        #: {(bold, italic, colour): font key})
        self._font_base: tuple | None = None
        #: the top-level containers records were added to (the only children this class edits)
        self._touched: set = set()

    # -- containers ----------------------------------------------------------------------
    def _container(self, name: str) -> etree._Element:
        el = self._containers.get(name)
        if el is not None and el.getparent() is self.root:
            return el
        el = self.root.find(q(name))
        if el is None:
            el = _m(name, count="0")
            _xml.insert_in_order(self.root, el, STYLESHEET_ORDER)
            self._touched.add(el)
        self._containers[name] = el
        return el

    def _add(self, container: str, record: etree._Element) -> int:
        """Index of ``record`` in ``container``: an equal existing one, else appended."""
        return self._add_key(container, _key(record), lambda parent: parent.append(record))

    def _add_recipe(self, container: str, recipe: Recipe) -> int:
        """Like ``_add`` for a record given as a recipe; nothing is built unless it is new, and
        a new record is kept as text (see ``_pending``) where the part allows it."""
        key, text = _recipe_info(recipe)
        return self._add_key(container, key, lambda parent: _append_text(parent, text), text)

    def _add_key(self, container: str, key: tuple, append, text: str | None = None) -> int:
        parent = self._container(container)
        index = self._key_index.get(container)
        if index is None or index[0] is not parent or index[1] != len(parent):
            # a container not touched yet is as parsed from the original bytes
            untouched = self._original is not None and parent not in self._touched
            keys, n = _existing_keys(parent, (self._original, container) if untouched else None)
            # records may be kept as text when lxml would write them unprefixed: the container
            # is in the main namespace as the default one, and no prefix also maps to it
            as_text = (self._original is not None
                       and [p for p, uri in parent.nsmap.items() if uri == MAIN] == [None])
            index = self._key_index[container] = [parent, len(parent), keys, n, as_text]
        found = index[2].get(key)
        if found is not None:
            return found
        n = index[3]
        if text is not None and index[4]:
            self._pending.setdefault(container, (parent, []))[1].append(text)
        else:
            self._materialize(container)
            append(parent)
        parent.set("count", str(n + 1))
        self._touched.add(parent)
        index[1] = len(parent)
        index[2][key] = n
        index[3] = n + 1
        self.changed = True
        return n

    def _materialize(self, container: str) -> None:
        """Turn the records kept as text for ``container`` into elements at its end."""
        pending = self._pending.pop(container, None)
        if pending is None:
            return
        parent, texts = pending
        wrapper = etree.fromstring(f'<w xmlns="{MAIN}">{"".join(texts)}</w>'.encode())
        for el in list(wrapper):
            parent.append(el)
        index = self._key_index.get(container)
        if index is not None and index[0] is parent:
            index[1] = len(parent)

    def num_fmt_id(self, code: str | None) -> int:
        if code is None or code == "General":
            return 0
        if code in BUILTIN_NUM_FORMATS:
            return BUILTIN_NUM_FORMATS[code]
        # only this method changes numFmts, so an id once found or added stays right
        found = self._num_fmt_cache.get(code)
        if found is None:
            found = self._num_fmt_cache[code] = self._find_or_add_num_fmt(code)
        return found

    def _find_or_add_num_fmt(self, code: str) -> int:
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
        self._touched.add(parent)
        self.changed = True
        return new_id

    def _font_key(self, bold: bool, italic: bool, color: str | None) -> tuple:
        """``_key(self._font(bold, italic, color))`` without building the font.

        The key is derived from the base font's children the way ``_font`` edits them: drop
        b/i/color, then put b, i and the colour where ``insert_in_order`` would."""
        base = self._container("fonts").find(q("font"))
        if base is None:
            return _key(self._font(bold, italic, color))
        info = self._font_base
        if info is None or info[0] is not base:
            drop = (q("b"), q("i"), q("color"))
            kids = [(_xml.local(c.tag), _key(c)) for c in base if isinstance(c.tag, str) and c.tag not in drop]
            color_el = base.find(q("color"))
            info = self._font_base = (base, (_xml.local(base.tag), tuple(sorted(base.attrib.items())),
                                             (base.text or "").strip()), kids,
                                      _key(color_el) if color_el is not None else None, {})
        _base, head, kids, base_color, known = info
        flags = (bold, italic, color)
        found = known.get(flags)  # keys already derived from this base font
        if found is not None:
            return found
        kids = list(kids)
        if bold:
            _insert_key_in_order(kids, ("b", ("b", (), "", ())))
        if italic:
            _insert_key_in_order(kids, ("i", ("i", (), "", ())))
        if color:
            _insert_key_in_order(kids, ("color", ("color", (("rgb", argb(color)),), "", ())))
        elif base_color is not None:
            _insert_key_in_order(kids, ("color", base_color))
        found = known[flags] = (*head, tuple(key for _name, key in kids))
        return found

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
        # a sheet passes the same few style objects for hundreds of cells: look them up by
        # identity first (the entry keeps the object alive, so its id cannot be reused)
        hit = self._xf_by_id.get(id(style))
        if hit is not None and hit[0] is style:
            return hit[1]
        idx = self._xf_cache.get(style)
        if idx is None:
            idx = self._xf_cache[style] = self._new_xf_index(style)
        self._xf_by_id[id(style)] = (style, idx)
        return idx

    def _new_xf_index(self, style: CellStyle) -> int:
        num_fmt = self.num_fmt_id(style.num_format)
        font_id = 0
        if style.bold or style.italic or style.font_color:
            flags = (style.bold, style.italic, style.font_color)
            font_id = self._add_key("fonts", self._font_key(*flags),
                                    lambda parent: parent.append(self._font(*flags)))
        fill_id = self._add_recipe("fills", _fill_recipe(style.fill)) if style.fill else 0
        border_id = self._add_recipe("borders", _THIN_BORDER) if style.border else 0
        # cellXfs must exist in any real workbook; make sure it does for the minimal one
        _recipe, key, text = _xf_info(num_fmt, font_id, fill_id, border_id, style.align, style.wrap, style.locked)
        return self._add_key("cellXfs", key, lambda parent: _append_text(parent, text), text)

    def dxf_index(self, style: DxfStyle) -> int:
        idx = self._dxf_cache.get(style)
        if idx is not None:
            return idx
        nid = self.num_fmt_id(style.num_format) if style.num_format else None
        idx = self._add_recipe("dxfs", _dxf_recipe(style, nid))
        self._dxf_cache[style] = idx
        return idx

    def to_bytes(self) -> bytes | None:
        """New bytes when a record was appended, else None (keep the original part)."""
        if not self.changed:
            return None
        if self._original is None:
            return _xml.serialize(self.root)
        if self._pending:
            inserts = {parent: "".join(texts).encode() for parent, texts in self._pending.values()}
            data = self._doc.to_bytes(inserts, self._touched)
            if data is not None:
                return data
            for container in list(self._pending):
                self._materialize(container)
        return self._doc.to_bytes(changed=self._touched)


_MINIMAL_STYLES = (
    f'<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/>'
    '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill '
    'patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/>'
    '</border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
).encode()
