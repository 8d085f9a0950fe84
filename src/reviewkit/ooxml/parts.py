"""The package's model of parts: relationships (``.rels``) and ``[Content_Types].xml``."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import unquote

from typing import TYPE_CHECKING

from lxml import etree

from .. import caching
from . import _xml
from ._xml import CT_NS, PKG_REL, q

if TYPE_CHECKING:
    from .package import Package


@dataclass
class Relationship:
    id: str
    type: str
    target: str
    external: bool = False


class ContentTypes:
    """[Content_Types].xml; overrides for new parts are reconciled once, at save."""

    NAME = "[Content_Types].xml"

    def __init__(self, pkg: Package):
        self._pkg = pkg
        self._doc: _xml.PreservingXml | None = None
        self._wanted: dict[str, str] = {}
        self._defaults: dict[str, str] = {}
        #: ({"/part" lowercased: type}, {extension: type}), first declaration wins; None after a change
        self._lookup: tuple[dict[str, str | None], dict[str, str | None]] | None = None

    @property
    def root(self) -> etree._Element:
        if self._doc is None:
            self._doc = _xml.PreservingXml(self._pkg.read(self.NAME), str(self._pkg.path), self.NAME)
        return self._doc.root

    def _index(self) -> tuple[dict[str, str | None], dict[str, str | None]]:
        """Declared types by part name and by extension, built once instead of a scan per lookup."""
        if self._lookup is None:
            overrides: dict[str, str | None] = {}
            defaults: dict[str, str | None] = {}
            for el in self.root.iter(q("Override", CT_NS)):
                overrides.setdefault(unquote(el.get("PartName", "")).lower(), el.get("ContentType"))
            for el in self.root.iter(q("Default", CT_NS)):
                defaults.setdefault(el.get("Extension", "").lower(), el.get("ContentType"))
            self._lookup = (overrides, defaults)
        return self._lookup

    def get(self, name: str) -> str | None:
        if name.lstrip("/") in self._wanted:
            return self._wanted[name.lstrip("/")]
        return self._declared(name)

    def _declared(self, name: str) -> str | None:
        """The type [Content_Types].xml declares for ``name`` (an Override, else a Default)."""
        part = "/" + name.lstrip("/")
        overrides, defaults = self._index()
        key = part.lower()
        if key in overrides:
            return overrides[key]
        ext = posixpath.splitext(part)[1].lstrip(".").lower()
        return defaults.get(ext)

    def want(self, name: str, content_type: str) -> None:
        self._wanted[name.lstrip("/")] = content_type

    def want_default(self, extension: str, content_type: str) -> None:
        """Declare ``<Default Extension=... ContentType=...>`` at save unless the extension has one."""
        self._defaults[extension.lower()] = content_type

    def flush(self) -> None:
        root = self.root
        changed = False
        existing = set(self._pkg.names())
        gone = {n.lower() for n in self._pkg._removed} - {n.lower() for n in existing}
        if gone:
            for el in list(root.iter(q("Override", CT_NS))):
                part = unquote(el.get("PartName", "")).lstrip("/")
                if part.lower() in gone:
                    root.remove(el)
                    changed = True
        modified: set = set()  # original top-level elements edited in place
        for ext, ct in self._defaults.items():
            defaults = list(root.iter(q("Default", CT_NS)))
            if any(el.get("Extension", "").lower() == ext for el in defaults):
                continue
            new = etree.Element(q("Default", CT_NS), Extension=ext, ContentType=ct)
            if defaults:
                defaults[-1].addnext(new)
                modified.add(_top_level(defaults[-1], root))  # compared as before (its tail may move)
            else:
                root.insert(0, new)
            changed = True
        if changed:
            self._lookup = None
        by_name: dict[str, etree._Element] | None = None  # "part" lowercased, no leading '/' -> Override
        for name, ct in self._wanted.items():
            if name not in existing:
                continue
            if self._declared(name) == ct:  # already covered (an Override or a Default)
                continue
            if by_name is None:
                by_name = {}
                for el in root.iter(q("Override", CT_NS)):
                    by_name.setdefault(unquote(el.get("PartName", "")).lstrip("/").lower(), el)
            el = by_name.get(name.lower())
            if el is not None:
                if el.get("ContentType") != ct:
                    el.set("ContentType", ct)
                    modified.add(_top_level(el, root))
                    changed = True
                self._lookup = None
            else:
                el = etree.SubElement(root, q("Override", CT_NS), PartName="/" + name, ContentType=ct)
                by_name.setdefault(name.lower(), el)
                # the index as a rebuild would give it: the new Override comes last
                self._index()[0].setdefault(unquote("/" + name).lower(), ct)
                changed = True
        if changed:
            # only this method edits the tree: elements added or removed, and ``modified``
            self._pkg.set(self.NAME, self._doc.to_bytes(changed=modified))


def _top_level(el: etree._Element, root: etree._Element) -> etree._Element:
    """The child of ``root`` that holds ``el`` (itself when it is one)."""
    parent = el.getparent()
    while parent is not None and parent is not root:
        el, parent = parent, parent.getparent()
    return el


def rels_xml(rels: list[Relationship]) -> bytes:
    """A .rels part as lxml serializes it; plain printable values are written as text directly."""
    if all(isinstance(v, str) and v.isprintable() for r in rels for v in (r.id, r.type, r.target)):
        items = "".join(f'<Relationship Id="{_xml.esc(r.id)}" Type="{_xml.esc(r.type)}" Target="{_xml.esc(r.target)}"'
                        + (' TargetMode="External"/>' if r.external else "/>") for r in rels)
        body = f'<Relationships xmlns="{PKG_REL}">{items}</Relationships>' if rels else \
            f'<Relationships xmlns="{PKG_REL}"/>'
        return _xml.XML_DECLARATION + body.encode("utf-8")
    root = etree.Element(q("Relationships", PKG_REL), nsmap={None: PKG_REL})
    for r in rels:
        el = etree.SubElement(root, q("Relationship", PKG_REL), Id=r.id, Type=r.type, Target=r.target)
        if r.external:
            el.set("TargetMode", "External")
    return _xml.serialize(root)


def rels_name(source: str) -> str:
    """``xl/workbook.xml`` -> ``xl/_rels/workbook.xml.rels``; '' -> ``_rels/.rels``."""
    source = source.lstrip("/")
    d, f = posixpath.split(source)
    return posixpath.join(d, "_rels", f + ".rels")


@caching.memo("package.resolve_target", 4096)
def resolve_target(source: str, target: str) -> str:
    """Part name a relationship target points to, relative to its source part."""
    target = unquote(target.split("#", 1)[0])
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    base = posixpath.dirname(source.lstrip("/"))
    return posixpath.normpath(posixpath.join(base, target)).lstrip("/")


#: a .rels part's bytes -> its relationships (id, type, target, external): workbooks split from
#: one master repeat their relationship parts, so each is parsed once per process
_RELS = caching.Cache("package.rels", 512)


def parse_rels(data: bytes, file: str, name: str) -> tuple:
    """The relationships of the .rels part ``data`` as (id, type, target, external) tuples."""
    found = _RELS.get(data)
    if found is None:
        root = _xml.parse(data, file, name)
        found = _RELS.put(data, tuple((el.get("Id", ""), el.get("Type", ""), el.get("Target", ""),
                                       el.get("TargetMode") == "External")
                                      for el in root.iter(q("Relationship", PKG_REL))))
    return found
