"""docProps/custom.xml: named document properties (text, number, bool)."""
from __future__ import annotations

from lxml import etree

from ..errors import InputError
from . import _xml

CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
PART = "docProps/custom.xml"


class CustomProperties:
    def __init__(self, data: bytes | None, file: str, part: str = PART):
        self.part = part
        self.created = data is None
        self.changed = False
        self._doc = None
        if data is None:
            self.root = etree.Element(f"{{{CUSTOM_NS}}}Properties", nsmap={None: CUSTOM_NS, "vt": VT_NS})
        else:
            self._doc = _xml.PreservingXml(data, file, part)
            self.root = self._doc.root

    def _find(self, name: str):
        for el in self.root.findall(f"{{{CUSTOM_NS}}}property"):
            if el.get("name") == name:
                return el
        return None

    def get(self, name: str, default=None):
        el = self._find(name)
        if el is None or len(el) == 0:
            return default
        v = el[0]
        kind, text = _xml.local(v.tag), v.text or ""
        if kind == "bool":
            return text.strip().lower() in ("1", "true")
        if kind in ("i1", "i2", "i4", "i8", "int", "ui1", "ui2", "ui4", "ui8", "uint"):
            return int(text)
        if kind in ("r4", "r8", "decimal"):
            return float(text)
        return _xml.excel_unescape(text)

    def set(self, name: str, value) -> None:
        if not isinstance(name, str) or not name or len(name) > 255:
            raise InputError("custom property names are 1..255 characters", value=name)
        if isinstance(value, bool):
            kind, text = "bool", "true" if value else "false"
        elif isinstance(value, int):
            kind, text = ("i4", str(value)) if -2**31 <= value < 2**31 else ("r8", repr(float(value)))
        elif isinstance(value, float):
            kind, text = "r8", repr(value)
        elif isinstance(value, str):
            kind, text = "lpwstr", _xml.excel_text(value)
        else:
            raise InputError("unsupported custom property value", value=type(value).__name__,
                             expected="str, int, float or bool")
        el = self._find(name)
        if el is not None and len(el) == 1 and _xml.local(el[0].tag) == kind and (el[0].text or "") == text:
            return
        if el is None:
            pids = [int(p.get("pid", "1")) for p in self.root.findall(f"{{{CUSTOM_NS}}}property")]
            el = etree.SubElement(self.root, f"{{{CUSTOM_NS}}}property", fmtid=FMTID, pid=str(max([1, *pids]) + 1),
                                  name=name)
        for child in list(el):
            el.remove(child)
        etree.SubElement(el, f"{{{VT_NS}}}{kind}").text = text
        self.changed = True

    def to_bytes(self) -> bytes:
        return self._doc.to_bytes() if self._doc is not None else _xml.serialize(self.root)
