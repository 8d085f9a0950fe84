"""The OPC package: a zip of parts, their content types and relationships.

``Package`` reads a workbook once, checks it is safe to edit, and keeps every zip entry as it
was. Editors replace whole parts (``set``) or remove them; ``write`` then emits untouched entries
by copying their compressed bytes (no recompression, same CRC, same timestamps) and deflates only
the parts that changed. Saving is atomic: a temporary file in the target's directory, fsync,
``os.replace``.
"""
from __future__ import annotations

import os
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote

from lxml import etree

from ..errors import UnsafeWorkbookError, WorkbookFormatError
from ..files import Source, check_target, lock_file_for, write_file  # noqa: F401 (lock_file_for: re-exported)
from . import _xml
from ._xml import CT_NS, PKG_REL, q

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_MARKERS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
#: parts checked for a DTD by every reader (check's reader, the editor, safety)
XML_SUFFIXES = (".xml", ".rels", ".vml")


_CONTROL_CHAR = re.compile("[\x00-\x1f]")


def check_entry(info: zipfile.ZipInfo, file: str) -> None:
    """Refuse a zip entry whose name could escape the package, or that is encrypted or oddly packed.

    Shared by the editor and by ``reviewkit.safety.check_package`` (departmental files).
    """
    fn = info.filename
    if fn.startswith(("/", "\\")) or ".." in fn.split("/") or ":" in fn or "\\" in fn \
            or _CONTROL_CHAR.search(fn):
        raise UnsafeWorkbookError("unsafe part name in the zip (a part with an unsafe name could point "
                                  "outside the package)", file=file, value=fn,
                                  expected="relative names inside the package")
    if info.flag_bits & 0x1:
        raise WorkbookFormatError("a zip entry is encrypted", file=file, value=fn,
                                  expected="an unencrypted package")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise WorkbookFormatError("unsupported zip compression", file=file, value=info.compress_type,
                                  expected="stored or deflated entries")


@dataclass(frozen=True)
class Limits:
    """What a workbook may contain before it is refused: ONE set for every reader of a package
    (``check``'s reader, the editor behind ``fill``, and ``safety.check_package`` before
    ``split``/``batch``/``rollup``), so they accept the same files.

    A departmental review is a few hundred KB; the defaults leave a wide margin (a 100,000-row
    fact sheet is ~30 MB of XML) while refusing the classic zip bombs (42.zip expands 4.5 PB,
    ratio > 10^6; a single deflate stream cannot exceed a ratio of ~1032).
    """

    max_file_bytes: int = 512 * 1024**2         # the .xlsx file itself
    max_entries: int = 10_000
    max_part_uncompressed: int = 512 * 1024**2  # any one part
    max_total_uncompressed: int = 1024**3       # all parts together
    max_ratio: float = 200.0                    # uncompressed/compressed for parts above ratio_floor
    ratio_floor: int = 4 * 1024**2


DEFAULT_LIMITS = Limits()


def check_size(file: str, part: str, size: int, compressed: int, limits: Limits) -> None:
    """Refuse a part of ``size`` uncompressed bytes (declared, or inflated so far) over the limits."""
    if size > limits.max_part_uncompressed:
        raise UnsafeWorkbookError(f"part {part} is too large when uncompressed (possible zip bomb)", file=file,
                                  value=size, expected=f"at most {limits.max_part_uncompressed} bytes")
    if size > limits.ratio_floor and size > limits.max_ratio * max(compressed, 1):
        raise UnsafeWorkbookError(f"part {part} expands suspiciously (possible zip bomb)", file=file,
                                  value=f"{compressed} -> {size}+ bytes",
                                  expected=f"a compression ratio below {limits.max_ratio:g}")


def check_file_size(size: int, file: str, limits: Limits = DEFAULT_LIMITS) -> None:
    if size > limits.max_file_bytes:
        raise UnsafeWorkbookError(f"the file is too large ({size:,} bytes)", file=file, value=size,
                                  expected=f"at most {limits.max_file_bytes:,} bytes")


def check_content_types(names, file: str) -> None:
    """Refuse a package without ``[Content_Types].xml`` (``names``: its part names)."""
    if not any(n.lower() == "[content_types].xml" for n in names):
        raise WorkbookFormatError("[Content_Types].xml is missing", file=file,
                                  expected="an Office Open XML package (.xlsx/.xlsm)")


def check_entries(infos: list[zipfile.ZipInfo], file: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """The one check of a package's zip directory, before any part is inflated: entry count,
    duplicate names (also ones differing only in case, which OPC treats as the same part),
    unsafe or encrypted entries, declared part and total sizes, compression ratio."""
    if len(infos) > limits.max_entries:
        raise UnsafeWorkbookError("too many zip entries", file=file, value=len(infos),
                                  expected=f"at most {limits.max_entries}")
    seen: set[str] = set()
    declared = 0
    for info in infos:
        fn = info.filename
        low = fn.lower()
        if low in seen:
            raise UnsafeWorkbookError("duplicate part names in the zip", file=file, value=fn,
                                      expected="each part stored once (part names ignore case)")
        seen.add(low)
        check_entry(info, file)
        check_size(file, fn, info.file_size, info.compress_size, limits)
        declared += info.file_size
        if declared > limits.max_total_uncompressed:
            raise UnsafeWorkbookError("the package is too large when uncompressed (possible zip bomb)",
                                      file=file, value=declared,
                                      expected=f"at most {limits.max_total_uncompressed} bytes")


@dataclass
class Relationship:
    id: str
    type: str
    target: str
    external: bool = False


def local_payload(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """An entry's compressed bytes, sliced from the whole file's ``data``, when zipfile would read
    its local header without complaint (plain header, no flags zipfile refuses, the same name in
    both headers, complete); else None, and the caller lets zipfile read (and report) it."""
    off = info.header_offset
    if info.flag_bits & 0x61 or data[off:off + 4] != b"PK\x03\x04":
        return None
    flags, n, m = struct.unpack("<H18xHH", data[off + 6:off + 30])
    if flags & 0x60:  # zipfile refuses these (patched data, strong encryption) in the local header
        return None
    try:
        name = data[off + 30:off + 30 + n].decode("utf-8" if flags & 0x800 else "cp437")
    except UnicodeDecodeError:
        return None
    if name != info.orig_filename:
        return None
    start = off + 30 + n + m
    payload = data[start:start + info.compress_size]
    return payload if len(payload) == info.compress_size else None

class Package:
    """Zip entries by name, in their original order, with tombstones for removed parts."""

    def __init__(self, path: Path, data: bytes, zf: zipfile.ZipFile, limits: Limits):
        self.path = path
        self._data = data
        self._on_disk = data  # what ``path`` holds as far as this package knows (``save`` checks it)
        self._zip = zf
        self.limits = limits
        self._infos: dict[str, zipfile.ZipInfo] = {}
        self._order: list[str] = []
        self._new: dict[str, bytes] = {}       # name -> new content (changed or added)
        self._removed: set[str] = set()
        self._lower: dict[str, str] = {}
        for info in zf.infolist():
            self._infos[info.filename] = info
            self._order.append(info.filename)
            self._lower[info.filename.lower()] = info.filename
        self.content_types = ContentTypes(self)
        self._rels_cache: dict[str, list[Relationship]] = {}
        self._rels_dirty: set[str] = set()
        self._whole: dict[str, bytes] = {}  # parts a caller already inflated and checked (``open``)

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, limits: Limits | None = None, *, data: bytes | None = None,
             zf: zipfile.ZipFile | None = None, inflated: dict[str, bytes] | None = None) -> Package:
        """Open ``path``, or ``data`` already read from it (``reviewkit.safety.load_checked``).

        ``zf``: a zip opened on ``data`` (its directory is not parsed again); ``inflated``: parts
        by zip name, each exactly what reading the entry with zipfile gives (not inflated again).
        """
        path = Path(path)
        limits = limits or DEFAULT_LIMITS
        name = str(path)
        if data is None and not path.is_file():
            raise WorkbookFormatError("no such workbook", file=name, expected="an existing .xlsx/.xlsm file")
        if data is None:
            check_file_size(path.stat().st_size, name, limits)
            data = path.read_bytes()
        else:
            check_file_size(len(data), name, limits)
        if data[:8] == OLE_MAGIC:
            if any(marker in data for marker in _ENCRYPTION_MARKERS):
                raise WorkbookFormatError("the workbook is encrypted (password to open)", file=name,
                                          value="OLE compound file with EncryptionInfo",
                                          expected="an unencrypted .xlsx/.xlsm; remove the password in Excel first")
            raise WorkbookFormatError("this is a legacy binary workbook (.xls, OLE compound file)", file=name,
                                      expected="an .xlsx/.xlsm; save it from Excel as .xlsx first")
        if not data.startswith(b"PK"):
            raise WorkbookFormatError("not a zip package", file=name, value=data[:8],
                                      expected="an .xlsx/.xlsm (a zip starting with 'PK')")
        try:
            zf = zipfile.ZipFile(_BytesReader(data)) if zf is None else zf
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise WorkbookFormatError(f"the zip is damaged or truncated ({exc})", file=name,
                                      expected="a complete .xlsx/.xlsm; re-save or re-download it") from exc
        pkg = cls(path, data, zf, limits)
        pkg._whole = inflated or {}
        pkg._check_entries()
        pkg._check_prologs()
        return pkg

    def _check_prologs(self) -> None:
        """Refuse any XML part that declares a DTD or entities, reading only each part's start."""
        for info in self._zip.infolist():
            if not info.filename.lower().endswith(XML_SUFFIXES) or info.file_size == 0:
                continue
            key = self._cache_key(info)
            if key is not None and key in _CLEAN_PROLOGS:  # these very bytes passed below before
                continue
            # the prolog is what matters and is short: a small head decides as the 4 KB one
            # would whenever the root element starts well inside it (or it is the whole part)
            head = self._inflate(info, 512, key[-1] if key is not None else None)
            if head is not None:
                root_at = _xml._first_element_start(head)
                if len(head) == info.file_size or 0 <= root_at <= len(head) - 9:
                    _xml.check_no_dtd(head, str(self.path), info.filename, root_at)
                    if key is not None:
                        _remember(_CLEAN_PROLOGS, key, None)
                    continue
            head = self._inflate(info, 4096)
            if head is not None and (_xml._first_element_start(head) >= 0 or len(head) < 4096):
                _xml.check_no_dtd(head, str(self.path), info.filename)
                continue
            try:
                with self._zip.open(info) as fh:
                    head = _xml.read_prolog(fh)  # a long comment before the root: looks further
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
                raise WorkbookFormatError(f"part {info.filename} cannot be decompressed ({exc})",
                                          file=str(self.path), expected="an undamaged package") from exc
            _xml.check_no_dtd(head, str(self.path), info.filename)

    def _check_entries(self) -> None:
        name = str(self.path)
        infos = self._zip.infolist()
        check_entries(infos, name, self.limits)
        for info in infos:
            fn = info.filename
            # the local header and data must lie inside the file (truncation, overlap)
            off = info.header_offset
            if off + 30 > len(self._data) or self._data[off:off + 4] != b"PK\x03\x04":
                raise WorkbookFormatError(f"zip entry {fn} is damaged or truncated", file=name,
                                          expected="a complete .xlsx/.xlsm; re-save or re-download it")
            n, m = struct.unpack("<HH", self._data[off + 26:off + 30])
            if off + 30 + n + m + info.compress_size > len(self._data):
                raise WorkbookFormatError(f"zip entry {fn} is truncated", file=name,
                                          expected="a complete .xlsx/.xlsm; re-save or re-download it")
        check_content_types(self._infos, name)

    # -- parts ---------------------------------------------------------------------------
    def resolve_name(self, name: str) -> str | None:
        """Actual zip name for a part name (OPC names compare case-insensitively)."""
        name = name.lstrip("/")
        if name in self._new:
            return name
        if name in self._removed:
            return None
        actual = self._lower.get(name.lower())
        if actual is None or actual in self._removed:
            return None
        return actual

    def exists(self, name: str) -> bool:
        return self.resolve_name(name) is not None

    def read(self, name: str) -> bytes:
        actual = self.resolve_name(name)
        if actual is None:
            raise WorkbookFormatError(f"part {name} is missing", file=str(self.path),
                                      expected="every part the relationships point to")
        if actual in self._new:
            return self._new[actual]
        whole = self._whole.get(actual)  # inflated and checked already (safety.load_checked)
        if whole is not None:
            return whole
        info = self._infos[actual]
        # worksheets are read to be edited and differ between workbooks: not worth keeping
        key = None if _is_worksheet(actual) else self._cache_key(info)
        if key is not None:
            data = _INFLATED.get(key)
            if data is not None:  # these very bytes inflated and checked before
                return data
        data = self._inflate(info, info.file_size, key[-1] if key is not None else None)
        if data is not None and len(data) == info.file_size:
            if key is not None:
                _remember(_INFLATED, key, data)
            return data
        try:
            with self._zip.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise WorkbookFormatError(f"part {actual} cannot be decompressed ({exc})", file=str(self.path),
                                      expected="an undamaged package") from exc
        if len(data) > info.file_size:
            raise UnsafeWorkbookError(f"part {actual} is larger than its zip header says", file=str(self.path),
                                      expected="sizes that match the zip directory")
        return data

    def _cache_key(self, info: zipfile.ZipInfo) -> tuple | None:
        """(size, CRC, compression, compressed bytes) of a small part with a plain local header:
        the same key means the same bytes once inflated. None otherwise."""
        if info.compress_size > _CACHED_MAX_BYTES or info.file_size > _CACHED_MAX_BYTES:
            return None
        payload = self._payload(info)
        return None if payload is None else (info.file_size, info.CRC, info.compress_type, payload)

    def _payload(self, info: zipfile.ZipInfo) -> bytes | None:
        return local_payload(self._data, info)

    def _inflate(self, info: zipfile.ZipInfo, limit: int, payload: bytes | None = None) -> bytes | None:
        """The first ``limit`` bytes of an entry, inflated straight from the file's bytes.

        Opening an entry with zipfile costs more than inflating a small part, and a workbook
        has dozens of them. Only an entry that zipfile would read without complaint is read
        here (plain header, same name in both headers, CRC checked when the whole part is
        read); anything else gives None and the caller falls back to zipfile, which then
        reports the problem exactly as before. ``payload``: ``_payload(info)`` if known.
        """
        whole = self._whole.get(info.filename)  # inflated and checked already (safety.load_checked)
        if whole is not None:
            return whole[:limit]
        if payload is None:
            payload = self._payload(info)
            if payload is None:
                return None
        size = info.file_size
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != size:
                return None
            out = payload[:limit]
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            try:
                # one byte more than the whole part: a stream longer than its header says shows
                out = zlib.decompressobj(-15).decompress(payload, limit if size > limit else size + 1)
            except zlib.error:
                return None
        else:
            return None
        if len(out) != min(limit, size):
            return None
        if size <= limit and zlib.crc32(out) != info.CRC:
            return None
        return out

    def read_xml(self, name: str) -> etree._Element:
        return _xml.parse(self.read(name), str(self.path), name)

    def set(self, name: str, data: bytes, content_type: str | None = None) -> None:
        name = name.lstrip("/")
        actual = self._lower.get(name.lower(), name)
        self._removed.discard(actual)
        self._new[actual] = data
        if content_type:
            self.content_types.want(actual, content_type)

    def remove(self, name: str) -> None:
        actual = self.resolve_name(name)
        if actual is None:
            return
        self._new.pop(actual, None)
        if actual in self._infos:
            self._removed.add(actual)
        rels = rels_name(actual)
        if self.exists(rels):
            self.remove(rels)
        self._rels_cache.pop(actual, None)
        self._rels_dirty.discard(actual)

    def names(self) -> list[str]:
        """Current part names, original ones first in zip order, then added ones."""
        out = [n for n in self._order if n not in self._removed]
        out += [n for n in self._new if n not in self._infos]
        return out

    def changed(self, name: str) -> bool:
        return name in self._new

    def unique_name(self, pattern: str) -> str:
        """Lowest free ``pattern.format(n)`` for n >= 1, e.g. ``xl/worksheets/sheet{}.xml``."""
        n = 1
        while self.exists(pattern.format(n)):
            n += 1
        return pattern.format(n)

    # -- relationships -------------------------------------------------------------------
    def rels(self, source: str) -> list[Relationship]:
        """Relationships of part ``source`` ('' for the package). Mutable; call ``touch_rels`` after."""
        if source in self._rels_cache:
            return self._rels_cache[source]
        name = rels_name(source)
        out: list[Relationship] = []
        if self.exists(name):
            data = self.read(name)
            found = _RELS_BY_CONTENT.get(data)
            if found is None:
                root = _xml.parse(data, str(self.path), name)
                found = tuple((el.get("Id", ""), el.get("Type", ""), el.get("Target", ""),
                               el.get("TargetMode") == "External")
                              for el in root.iter(q("Relationship", PKG_REL)))
                _remember(_RELS_BY_CONTENT, data, found)
            out = [Relationship(*fields) for fields in found]
        self._rels_cache[source] = out
        return out

    def touch_rels(self, source: str) -> None:
        self._rels_dirty.add(source)

    def resolve_target(self, source: str, rel: Relationship) -> str:
        return resolve_target(source, rel.target)

    def relative_target(self, source: str, target_part: str) -> str:
        base = posixpath.dirname(source)
        return quote(posixpath.relpath(target_part, base or "."), safe="/._-~")

    def add_rel(self, source: str, rel_type: str, target_part: str) -> str:
        rels = self.rels(source)
        ids = {r.id for r in rels}
        n = 1
        while f"rId{n}" in ids:
            n += 1
        rid = f"rId{n}"
        rels.append(Relationship(rid, rel_type, self.relative_target(source, target_part)))
        self.touch_rels(source)
        return rid

    def _flush_rels(self) -> None:
        for source in sorted(self._rels_dirty):
            rels = self._rels_cache[source]
            name = rels_name(source)
            if not rels and not self.exists(name):
                continue
            data = _rels_xml(rels)
            if self.exists(name) and self.read(name) == data:
                continue
            self.set(name, data)
        self._rels_dirty.clear()

    # -- writing -------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        self._flush_rels()
        self.content_types.flush()
        out = bytearray()
        central = bytearray()
        names = self.names()
        for name in names:
            offset = len(out)
            info = self._infos.get(name)
            if name in self._new:
                local, cen = _deflated_entry(name, self._new[name], info, offset)
                out += local
            else:
                local, cen = self._copied_entry(info, offset)
                out += local
            central += cen
        cd_offset = len(out)
        out += central
        comment = self._zip.comment or b""
        out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(names), len(names), len(central),
                           cd_offset, len(comment))
        out += comment
        return bytes(out)

    def _copied_entry(self, info: zipfile.ZipInfo, offset: int) -> tuple[bytes, bytes]:
        """Local header + compressed data copied from the source, and a central record for it."""
        off = info.header_offset
        n, m = struct.unpack("<HH", self._data[off + 26:off + 30])
        start = off + 30 + n + m
        payload = self._data[start:start + info.compress_size]
        local_sizes = struct.unpack("<2L", self._data[off + 18:off + 26])
        if info.flag_bits & 0x08 or 0xFFFFFFFF in local_sizes or local_sizes != (info.compress_size, info.file_size):
            # a data descriptor or zip64 sizes: write a plain local header carrying the real sizes
            flags = info.flag_bits & ~0x08
            local = _local_header(info, flags, _raw_name(info), b"")
        else:
            local = self._data[off:start]
            flags = info.flag_bits
        extra = _strip_zip64(info.extra)
        cen = _central_record(info, flags, _raw_name(info), extra, offset)
        return local + payload, cen

    def save(self, target: str | os.PathLike | None = None, *, replace: bool = True,
             source: Source | None = None) -> Path:
        """Write the package to ``target`` (default: over the file it was read from) through
        ``reviewkit.files.write_file``: atomic, refusing a ``~$`` lock file or a read-only file."""
        target = Path(target) if target is not None else self.path
        if source is None and target == self.path and os.path.lexists(target):  # in place: still what was read?
            source = Source.of(self.path, self._on_disk)
        check_target(target, replace=replace, source=source)
        data = self.to_bytes()
        write_file(target, data, replace=replace, source=source)
        if target == self.path:
            self._on_disk = data
        return target


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


def _rels_xml(rels: list[Relationship]) -> bytes:
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


@lru_cache(maxsize=4096)
def resolve_target(source: str, target: str) -> str:
    """Part name a relationship target points to, relative to its source part."""
    target = unquote(target.split("#", 1)[0])
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    base = posixpath.dirname(source.lstrip("/"))
    return posixpath.normpath(posixpath.join(base, target)).lstrip("/")


#: small parts by ``Package._cache_key``: workbooks split from one master share most of their
#: parts (rels, tables, theme, styles, workbook, instruction sheets), so each is inflated and its
#: prolog checked once per process. _CLEAN_PROLOGS: keys whose prolog passed the DTD check;
#: _INFLATED: key -> the whole part, CRC-checked (not worksheets).
_CLEAN_PROLOGS: dict[tuple, None] = {}
#: a .rels part's bytes -> its relationships (id, type, target, external), parsed once per process
_RELS_BY_CONTENT: dict[bytes, tuple] = {}
_INFLATED: dict[tuple, bytes] = {}
_CACHED_MAX_BYTES = 32 * 1024


def _is_worksheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and "/_rels/" not in name


def _remember(cache: dict, key, value) -> None:
    if len(cache) >= 512:
        cache.pop(next(iter(cache)))
    cache[key] = value


class _BytesReader:
    """A seekable read-only view for zipfile without copying the bytes again."""

    def __init__(self, data: bytes):
        self._mv = memoryview(data)
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._mv) if n is None or n < 0 else min(len(self._mv), self._pos + n)
        out = bytes(self._mv[self._pos:end])
        self._pos = end
        return out

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._mv)}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        pass


def _raw_name(info: zipfile.ZipInfo) -> bytes:
    if info.flag_bits & 0x800:
        return info.filename.encode("utf-8")
    try:
        return info.orig_filename.encode("cp437")
    except UnicodeEncodeError:
        return info.orig_filename.encode("utf-8")


def _strip_zip64(extra: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack("<HH", extra[i:i + 4])
        if tag != 0x0001:
            out += extra[i:i + 4 + size]
        i += 4 + size
    return bytes(out)


def _dos_time(date_time: tuple) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time
    return (h << 11) | (mi << 5) | (s // 2), ((max(y, 1980) - 1980) << 9) | (mo << 5) | d


def _local_header(info, flags: int, name: bytes, extra: bytes) -> bytes:
    t, d = _dos_time(info.date_time)
    return struct.pack("<4s5H3L2H", b"PK\x03\x04", max(info.extract_version, 20), flags, info.compress_type,
                       t, d, info.CRC, info.compress_size, info.file_size, len(name), len(extra)) + name + extra


def _central_record(info, flags: int, name: bytes, extra: bytes, offset: int) -> bytes:
    t, d = _dos_time(info.date_time)
    comment = info.comment or b""
    return struct.pack("<4s6H3L5H2L", b"PK\x01\x02", (info.create_system << 8) | info.create_version,
                       max(info.extract_version, 20), flags, info.compress_type, t, d, info.CRC,
                       info.compress_size, info.file_size, len(name), len(extra), len(comment), 0,
                       info.internal_attr, info.external_attr, offset) + name + extra + comment


BIG_PART = 16 * 1024**2


#: small parts deflated in this process, by content: workbooks made from one template write the
#: same workbook, content-type, relationship and often styles parts, and setting up a deflate
#: stream costs as much as compressing a few KB
_DEFLATED: dict[bytes, tuple[bytes, int]] = {}
_DEFLATED_MAX_BYTES = 32 * 1024


def _deflate(data: bytes) -> tuple[bytes, int]:
    """(raw deflate stream, CRC-32) of ``data``."""
    small = len(data) <= _DEFLATED_MAX_BYTES
    if small:
        found = _DEFLATED.get(data)
        if found is not None:
            return found
    # level 6 like Excel for ordinary parts; level 1 for huge sheets (4x faster, ~25% larger)
    co = zlib.compressobj(6 if len(data) < BIG_PART else 1, zlib.DEFLATED, -15)
    found = (co.compress(data) + co.flush(), zlib.crc32(data))
    if small:
        if len(_DEFLATED) >= 128:
            _DEFLATED.pop(next(iter(_DEFLATED)))
        _DEFLATED[data] = found
    return found


def _deflated_entry(name: str, data: bytes, original: zipfile.ZipInfo | None, offset: int) -> tuple[bytes, bytes]:
    payload, crc = _deflate(data)
    info = zipfile.ZipInfo(name, date_time=original.date_time if original else _FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.CRC = crc
    info.compress_size = len(payload)
    info.file_size = len(data)
    info.create_system = 0
    info.create_version = 20
    info.extract_version = 20
    info.external_attr = 0
    flags = 0x800 if not name.isascii() else 0
    raw = name.encode("utf-8")
    return _local_header(info, flags, raw, b"") + payload, _central_record(info, flags, raw, b"", offset)
