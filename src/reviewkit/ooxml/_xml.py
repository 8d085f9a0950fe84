"""Namespaces, a hardened XML parser and small lxml helpers shared by every part editor."""
from __future__ import annotations

import re
from collections.abc import Sequence

from lxml import etree

from .. import caching
from ..errors import UnsafeWorkbookError, WorkbookFormatError

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL_PREFIX = "http://purl.oclc.org/ooxml/"

RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
RT_OFFICE_DOCUMENT = RT + "officeDocument"
RT_WORKSHEET = RT + "worksheet"
RT_STYLES = RT + "styles"
RT_CALC_CHAIN = RT + "calcChain"
RT_DRAWING = RT + "drawing"
RT_CHART = RT + "chart"
RT_CUSTOM_PROPS = RT + "custom-properties"

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_CUSTOM_PROPS = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CT_CALC_CHAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"
CT_WORKBOOK_MAIN = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}
CT_XLSB = "application/vnd.ms-excel.sheet.binary.macroEnabled.main"

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'

_PARSER = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False,
                          remove_blank_text=False)
_DTD_RE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def q(tag: str, ns: str = MAIN) -> str:
    """Clark notation: ``q("row")`` -> ``{main-ns}row``."""
    return f"{{{ns}}}{tag}"


def check_no_dtd(data: bytes, file: str, part: str, root_at: int | None = None) -> None:
    """Refuse a DTD or entity declaration in the prolog (billion laughs, external entities).

    ``root_at``: ``_first_element_start(data)`` when the caller has it already."""
    if root_at is None:
        root_at = _first_element_start(data)
    if _DTD_RE.search(data, 0, root_at + 9 if root_at >= 0 else len(data)):
        raise dtd_error(file, part)


def dtd_error(file: str, part: str, found: str | None = None) -> UnsafeWorkbookError:
    """The one refusal of a part that declares a DTD or entities (billion laughs, external entities)."""
    return UnsafeWorkbookError(f"part {part!r} declares a DTD or XML entities, which workbooks never need",
                               file=file, value=found,
                               expected="plain OOXML parts without DTD/entities (<!DOCTYPE>/<!ENTITY>; "
                                        "Excel never writes them)")


#: how far a part is read to find its root element behind leading comments (check_prolog)
PROLOG_SCAN = 64 * 1024


def read_prolog(fh) -> bytes:
    """The start of a part from the open stream ``fh``: 4 KB, or up to ``PROLOG_SCAN`` bytes when
    a long comment hides the root element (a DTD may follow it)."""
    head = fh.read(4096)
    if len(head) == 4096 and _first_element_start(head) < 0:
        head += fh.read(PROLOG_SCAN - 4096)
    return head


def _first_element_start(data: bytes) -> int:
    """Offset of the root element's '<', skipping the declaration, comments, PIs and a DOCTYPE."""
    i = 0
    n = len(data)
    while i < n:
        j = data.find(b"<", i)
        if j < 0 or j + 1 >= n:
            return -1
        nxt = data[j + 1:j + 2]
        if nxt in (b"?", b"!"):
            if data.startswith(b"<!--", j):
                end = data.find(b"-->", j)
                i = (end + 3) if end >= 0 else n
                continue
            if data[j + 2:j + 9].upper() == b"DOCTYPE":
                return j  # the caller reports it
            end = data.find(b">", j)
            i = (end + 1) if end >= 0 else n
            continue
        return j
    return -1


def parse(data: bytes, file: str, part: str) -> etree._Element:
    """Parse one package part with entities and DTDs refused; errors name the file and part."""
    check_no_dtd(data, file, part)
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise WorkbookFormatError(f"part {part} is not well-formed XML: {exc}", file=file,
                                  expected="well-formed XML in every part") from exc


_START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
_TOKEN = re.compile(rb"""<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<(/?)[^\s/>!?]+"""
                    rb"""(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""", re.S)


def child_spans(doc: bytes) -> tuple[int, list[tuple[int, int]], int] | None:
    """(end of the root start tag, [(start, end incl. trailing text)] per child node, start of the
    root end tag) for a small document, or None when it cannot be tokenised with confidence."""
    first = _TOKEN.match(doc)
    if first is None or first.group(1) or first.group(2):
        return None
    depth = 0
    spans: list[list[int]] = []
    for m in _TOKEN.finditer(doc, first.end()):
        closing, empty = m.group(1), m.group(2)
        head = m.group(0)[:2]
        if head in (b"<!", b"<?"):  # comment, CDATA or PI: a child node of its own at depth 0
            if depth == 0 and head != b"<![":
                spans.append([m.start(), m.end()])
            continue
        if closing:
            depth -= 1
            if depth < 0:  # the root's end tag
                for i, sp in enumerate(spans):
                    sp[1] = spans[i + 1][0] if i + 1 < len(spans) else m.start()
                return first.end(), [tuple(sp) for sp in spans], m.start()
            continue
        if depth == 0:
            spans.append([m.start(), m.end()])
        if not empty:
            depth += 1
    return None


def fragment(el: etree._Element, root_nsmap: dict) -> bytes:
    """One element serialized alone, without re-declaring namespaces the root already declares."""
    if not isinstance(el.tag, str):  # a comment or PI
        return etree.tostring(el, encoding="UTF-8", with_tail=False)
    text = etree.tostring(el, encoding="UTF-8", with_tail=False)
    tag_end = _START_TAG.match(text)
    if tag_end is None:
        return text
    start = tag_end.group(0)

    def drop(m: re.Match) -> bytes:
        prefix = m.group(1).decode() if m.group(1) else None
        return b"" if root_nsmap.get(prefix) == m.group(2).decode() else m.group(0)

    return re.sub(rb'\s+xmlns(?::([\w.\-]+))?="([^"]*)"', drop, start) + text[tag_end.end():]



class PreservingXml:
    """A parsed part that serializes back with the original bytes wherever nothing changed.

    The prolog, the root start tag and every top-level child whose XML is unchanged are copied
    from the original; new or changed children are serialized by lxml without re-declaring the
    root's namespaces. So an edit to one element leaves the rest of the part byte-identical.
    """

    def __init__(self, data: bytes, file: str, part: str):
        self.data = data
        self.root = parse(data, file, part)
        self._originals = list(self.root)
        self._layout = _layout(data, self._originals)
        self._root_at = self._layout.root_at
        self._snapshots = self._layout.snapshots
        self._attrs = dict(self.root.attrib)

    def spliceable(self) -> bool:
        """True while ``to_bytes`` copies unchanged children from the original bytes (and so can
        take ``inserts`` / ``replace``): the part could be split into its top-level children and
        the root element's attributes are as parsed."""
        spans = self._layout.spans(self.data)
        return spans is not None and len(spans[1]) == len(self._originals) and dict(self.root.attrib) == self._attrs

    def to_bytes(self, inserts: dict | None = None, changed=None, replace: dict | None = None) -> bytes | None:
        """The part's bytes. ``inserts`` maps top-level children to serialized XML to write as
        their last children (records kept as text); with it, None means the part must be
        serialized whole, and the caller has to put those records in the tree first.

        ``changed``: when the caller knows every top-level child it modified, those children (a
        set); any other original child is then copied without serializing it to compare.
        ``replace``: new top-level children (placeholders) -> the serialized XML to write in
        their place; like ``inserts``, only while :meth:`spliceable` (else None)."""
        data, root = self.data, self.root
        if not self.spliceable():
            if inserts or replace:
                return None
            return data[:self._root_at] + etree.tostring(root, encoding="UTF-8", xml_declaration=False)
        spans = self._layout.spans(data)
        root_tag, child_span, closing = spans
        base = self._root_at
        index = {el: i for i, el in enumerate(self._originals)}
        chunks = [data[:base + root_tag]]
        used = 0
        for child in root:
            if replace and child in replace:
                chunks.append(replace[child])
                continue
            extra = inserts.get(child) if inserts else None
            i = index.get(child)
            if extra is None and i is not None and (
                    (changed is not None and child not in changed) or etree.tostring(child) == self._snapshots[i]):
                chunks.append(data[base + child_span[i][0]:base + child_span[i][1]])
            elif extra is None:
                chunks.append(fragment(child, root.nsmap))
            else:
                chunks.append(_append_inside(fragment(child, root.nsmap), extra))
                used += 1
        if inserts and used != len(inserts):
            return None
        chunks.append(data[base + closing:])
        return b"".join(chunks)


_NAME = re.compile(rb"<([^\s/>]+)")


def _append_inside(element: bytes, extra: bytes) -> bytes:
    """``element`` (serialized by lxml) with ``extra`` added after its last child."""
    if element.endswith(b"/>"):  # lxml writes a childless, textless element as <name .../>
        name = _NAME.match(element).group(1)
        return element[:-2] + b">" + extra + b"</" + name + b">"
    end = element.rindex(b"</")
    return element[:end] + extra + element[end:]


class _Layout:
    """What PreservingXml needs about a part's original bytes: where the root starts, each
    top-level child as lxml serializes it, and (computed on first save) the children's spans."""

    def __init__(self, data: bytes, originals: list):
        self.root_at = _first_element_start(data)
        self.snapshots = [etree.tostring(c) for c in originals]
        self._spans: tuple | None = None
        self._spans_done = False

    def spans(self, data: bytes):
        if not self._spans_done:
            self._spans = child_spans(data[self.root_at:])
            self._spans_done = True
        return self._spans


#: a part's bytes -> its _Layout (parts up to _LAYOUT_MAX_BYTES)
_LAYOUTS = caching.Cache("xml.layouts", 64)
_LAYOUT_MAX_BYTES = 256 * 1024


def _layout(data: bytes, originals: list) -> _Layout:
    """The layout of ``data``, shared per process by parts with the same bytes (departmental
    workbooks made from one template have identical styles, workbook and content-type parts)."""
    if len(data) > _LAYOUT_MAX_BYTES:
        return _Layout(data, originals)
    found = _LAYOUTS.get(data)
    return found if found is not None else _LAYOUTS.put(data, _Layout(data, originals))


def serialize(root: etree._Element) -> bytes:
    """The root element with Excel's usual XML declaration."""
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def local(tag: object) -> str:
    """Local name of an element's tag ('' for comments and PIs)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def insert_in_order(parent: etree._Element, child: etree._Element, order: Sequence[str]) -> None:
    """Insert ``child`` where a schema sequence ``order`` (local names) puts it.

    It goes after the last existing sibling whose name comes no later in ``order``; siblings
    that ``order`` does not know (mc:AlternateContent, other vendors' elements) are stepped over.
    """
    rank = {name: i for i, name in enumerate(order)}
    parent.insert(position_in_order([local(sib.tag) for sib in parent], local(child.tag), rank), child)


def position_in_order(names: Sequence[str], name: str, rank: dict[str, int]) -> int:
    """Where ``name`` goes among siblings named ``names`` in the schema order ``rank``: after the
    last sibling that comes no later, else before the first that must come later, else last."""
    mine = rank[name]
    after = None
    for i, sib in enumerate(names):
        r = rank.get(sib)
        if r is not None and r <= mine:
            after = i
    if after is not None:
        return after + 1
    return next((i for i, sib in enumerate(names) if rank.get(sib, -1) > mine), len(names))


#: what ``excel_text`` changes: an underscore that starts a ``_xHHHH_`` look-alike (escaped as
#: ``_x005F_`` so it reads back as typed; a lookahead, so ``_x0041_x0042_`` escapes both), the
#: C0 controls XML 1.0 forbids or normalises away (CR; tab and line feed are kept), lone
#: surrogates and the non-characters U+FFFE/U+FFFF. Compiled once: on ordinary text the one
#: ``search`` finds nothing and the text is returned unchanged (the hot path of batch fills).
_EXCEL_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")
#: the same for attribute values, where tab and line feed would be normalised to spaces
_EXCEL_ESCAPE_ATTR = re.compile("_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x1f\ud800-\udfff\ufffe\uffff]")
#: characters XML 1.0 cannot hold at all, for text without the ``_xHHHH_`` convention
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_UNESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")
#: what a lone surrogate or U+FFFE/U+FFFF becomes: no XML 1.0 text holds them, and Excel's
#: ``_xD800_`` / ``_xFFFF_`` escapes are not read back by every reader (calamine keeps them as
#: literal text), so they are replaced, the way a UTF-8 decoder replaces broken input
REPLACEMENT = "\ufffd"


def _escape_one(m: re.Match) -> str:
    ch = m.group(0)
    if ch == "_":
        return "_x005F_"
    o = ord(ch)
    if o < 0x20:
        return f"_x{o:04X}_"
    return REPLACEMENT


def excel_text(text: str, attribute: bool = False) -> str:
    """Text as Excel stores it in OOXML string content (ST_Xstring: cells, shared strings, formulas,
    chart titles, categories and series names, table column names, custom properties).

    Control characters become ``_xHHHH_`` (CR too: an XML parser would turn a raw CR into LF);
    an underscore that starts a literal ``_xHHHH_`` becomes ``_x005F_`` so the text reads back as
    typed; lone surrogates and U+FFFE/U+FFFF become U+FFFD (see ``REPLACEMENT``). ``attribute``:
    for a value written into an XML attribute, where tab and line feed are escaped as well.
    The result still needs ``esc`` for ``& < > "``. Ordinary text is returned unchanged.
    """
    if "_x" not in text and text.isprintable():  # everything escaped is non-printable or "_x…"
        return text
    pattern = _EXCEL_ESCAPE_ATTR if attribute else _EXCEL_ESCAPE
    if pattern.search(text) is None:  # e.g. a line feed in element text, "_x" not before 4 hex digits
        return text
    return pattern.sub(_escape_one, text)


def excel_unescape(text: str) -> str:
    """The inverse of ``excel_text``: ``_xHHHH_`` -> the character (``_x005F_x0041_`` -> ``_x0041_``).

    One left-to-right pass, as Excel reads ST_Xstring; every reader of text reviewkit wrote
    (table column names, custom properties) decodes through this, so they agree with the cells
    (read by calamine, which decodes the same ``_x00HH_`` escapes ``excel_text`` writes)."""
    if "_x" not in text:
        return text
    return _EXCEL_UNESCAPE.sub(_unescape_one, text)


def _unescape_one(m: re.Match) -> str:
    o = int(m.group(1), 16)
    return REPLACEMENT if 0xD800 <= o <= 0xDFFF or o >= 0xFFFE else chr(o)


_UNSTORABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")


def storable_text(text: str) -> str:
    """``text`` with what no XML 1.0 part can hold (lone surrogates, U+FFFE/U+FFFF) replaced by
    ``REPLACEMENT``, as ``excel_text`` does; for writers that escape control characters and
    ``_xHHHH_`` look-alikes themselves (XlsxWriter, used by ``templates``)."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(REPLACEMENT, text)


def xml_text(text: str) -> str:
    """Text for XML content that has no ``_xHHHH_`` convention (VML captions, relationship
    targets): characters XML 1.0 cannot hold are dropped (lone surrogates and U+FFFE/U+FFFF
    become U+FFFD); then escaped with ``esc``."""
    if _NOT_XML.search(text) is not None:
        text = _NOT_XML.sub(lambda m: "" if m.group(0) < "\x20" else REPLACEMENT, text)
    return esc(text)


def esc(text: str) -> str:
    """Escape text for element content or a double-quoted attribute."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))
