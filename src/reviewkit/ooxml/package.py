"""The opened package: ONE object that ``safety``, the reader and the editor all take.

``Package.open`` reads a workbook file once, parses its zip directory once and checks it once
(the limits, entry names, local headers, ``[Content_Types].xml`` and every XML part's prolog for
a DTD, ``limits.py``); every part is then inflated at most once (``read``) by one inflater and
kept for whoever asks next: the safety check that streams every XML part, the reader's table
lookup and error cells, the editor. Editors replace whole parts (``set``) or remove them;
``to_bytes`` copies untouched entries as they were and deflates only changed parts
(``zipwrite.py``). Saving is atomic (``reviewkit.files.write_file``).
"""
from __future__ import annotations

import os
import posixpath
import zipfile
import zlib
from pathlib import Path
from urllib.parse import quote

from lxml import etree

from .. import caching
from ..errors import UnsafeWorkbookError, WorkbookFormatError
from ..files import Source, check_target, write_file
from . import _xml
from .limits import (DEFAULT_LIMITS, XML_SUFFIXES, Limits, check_entries, check_file_size, check_head, check_path,
                     not_a_zip)
from .parts import ContentTypes, Relationship, parse_rels, rels_name, rels_xml, resolve_target  # noqa: F401
from .zipwrite import zip_bytes

#: small parts (compressed and inflated) by (size, CRC, compression, compressed bytes): workbooks
#: split from one master share most of their parts (rels, tables, theme, styles, workbook), so
#: each is inflated once per process. Only parts read whole, CRC-checked, are stored.
_INFLATED = caching.Cache("package.inflated", 512)
_CACHED_MAX_BYTES = 32 * 1024
_CORRUPT = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError)


class Package:
    """Zip entries by name, in their original order, with tombstones for removed parts."""

    def __init__(self, path: Path, data: bytes, zf: zipfile.ZipFile, limits: Limits):
        self.path = path
        self.data = data  # the file's bytes as read, once
        self._on_disk = data  # what ``path`` holds as far as this package knows (``save`` checks it)
        self._zip = zf
        self.limits = limits
        self.infos: dict[str, zipfile.ZipInfo] = {}  # the zip directory, by exact name, in order
        self._new: dict[str, bytes] = {}       # name -> new content (changed or added)
        self._removed: set[str] = set()
        self._lower: dict[str, str] = {}
        for info in zf.infolist():
            self.infos[info.filename] = info
            self._lower[info.filename.lower()] = info.filename
        self.content_types = ContentTypes(self)
        self._rels_cache: dict[str, list[Relationship]] = {}
        self._rels_dirty: set[str] = set()
        self._whole: dict[str, bytes] = {}  # original parts inflated whole so far (each once)

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, limits: Limits | None = None, *, data: bytes | None = None) -> Package:
        """Open ``path`` (or ``data`` already read from it): read once, check once.

        Raises ``WorkbookFormatError`` for what is not an .xlsx/.xlsm package and
        ``UnsafeWorkbookError`` for what breaks the limits or declares a DTD.
        """
        path = Path(path)
        limits = limits or DEFAULT_LIMITS
        name = str(path)
        if data is None:
            check_file_size(check_path(path), name, limits)  # before reading it
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise WorkbookFormatError(f"cannot read the file: {exc.strerror or exc}", file=name,
                                          expected="a readable file") from None
        check_head(path, data, limits)
        try:
            zf = zipfile.ZipFile(_BytesReader(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise not_a_zip(path, data) from None
        check_entries(zf.infolist(), data, name, limits)
        pkg = cls(path, data, zf, limits)
        pkg._check_prologs()
        return pkg

    def _check_prologs(self) -> None:
        """Refuse any XML part that declares a DTD or entities, inflating only each part's start
        (a small sound part whole: it is read next anyway)."""
        file = str(self.path)
        for info in self.infos.values():
            if not info.filename.lower().endswith(XML_SUFFIXES) or info.file_size == 0:
                continue
            head = self._read_sound(info) if info.file_size <= _CACHED_MAX_BYTES else None
            if head is None:
                head = self._inflate(info, 4096)
            if head is None or (len(head) == 4096 and _xml._first_element_start(head) < 0):
                head = bytearray()  # odd, or a long comment before the root: look further, raw
                for chunk in self.stream(info, 4096):
                    head += chunk
                    if len(head) >= _xml.PROLOG_SCAN or _xml._first_element_start(head) >= 0:
                        break
            _xml.check_no_dtd(bytes(head), file, info.filename)

    def _damaged(self, part: str, exc: BaseException) -> WorkbookFormatError:
        return WorkbookFormatError(f"part {part!r} cannot be read: it is damaged ({exc})", file=str(self.path),
                                   sheet=self._sheet_of(part), expected="an undamaged .xlsx; save it again in Excel")

    def _sheet_of(self, part: str) -> str | None:
        """The name of the sheet stored in ``part`` (for an error about it), if it is one."""
        try:
            wb = "xl/workbook.xml"
            parts = {r.id: resolve_target(wb, r.target) for r in self.rels(wb)}
            for sheet in self.read_xml(wb).iter(_xml.q("sheet")):
                if parts.get(sheet.get(_xml.q("id", _xml.REL_NS))) == part:
                    return sheet.get("name")
        except (WorkbookFormatError, UnsafeWorkbookError):
            pass
        return None

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
        """The part's current bytes (a changed part's new content)."""
        actual = self.resolve_name(name)
        if actual is None:
            raise WorkbookFormatError(f"part {name} is missing", file=str(self.path),
                                      expected="every part the relationships point to")
        if actual in self._new:
            return self._new[actual]
        return self._read_original(self.infos[actual])

    def _read_original(self, info: zipfile.ZipInfo) -> bytes:
        """The entry's bytes as zipfile would read them, inflated once per package."""
        data = self._read_sound(info)
        if data is None:  # anything odd: zipfile reads (and reports) it
            try:
                with self._zip.open(info) as fh:
                    data = fh.read(info.file_size + 1)
            except _CORRUPT as exc:
                raise self._damaged(info.filename, exc) from exc
            if len(data) > info.file_size:
                raise UnsafeWorkbookError(f"part {info.filename} is larger than its zip header says",
                                          file=str(self.path), expected="sizes that match the zip directory")
            self._whole[info.filename] = data
        return data

    def _read_sound(self, info: zipfile.ZipInfo) -> bytes | None:
        """The whole entry when it is plainly sound (``_inflate``), kept; else None."""
        found = self._whole.get(info.filename)
        if found is not None:
            return found
        key = self._cache_key(info)
        data = _INFLATED.get(key) if key is not None else None
        if data is None:
            data = self._inflate(info, info.file_size, key[-1] if key is not None else None)
            if data is None:
                return None
            if key is not None:
                _INFLATED.put(key, data)
        self._whole[info.filename] = data
        return data

    def _cache_key(self, info: zipfile.ZipInfo) -> tuple | None:
        """(size, CRC, compression, compressed bytes) of a small part with a plain local header:
        the same key means the same bytes once inflated. None otherwise."""
        if info.compress_size > _CACHED_MAX_BYTES or info.file_size > _CACHED_MAX_BYTES:
            return None
        payload = self._payload(info)
        return None if payload is None else (info.file_size, info.CRC, info.compress_type, payload)

    def _payload(self, info: zipfile.ZipInfo) -> bytes | None:
        """An entry's compressed bytes when zipfile would read its local header without complaint
        (plain header, no flags zipfile refuses, the same name in both headers, complete); else
        None, and the caller lets zipfile read (and report) it."""
        data = self.data
        off = info.header_offset
        if info.flag_bits & 0x61 or data[off:off + 4] != b"PK\x03\x04":
            return None
        flags = int.from_bytes(data[off + 6:off + 8], "little")
        n = int.from_bytes(data[off + 26:off + 28], "little")
        m = int.from_bytes(data[off + 28:off + 30], "little")
        if flags & 0x60:  # zipfile refuses these (patched data, strong encryption) in the local header
            return None
        raw = data[off + 30:off + 30 + n]
        try:
            name = raw.decode("ascii" if raw.isascii() else "utf-8" if flags & 0x800 else "cp437")
        except UnicodeDecodeError:
            return None
        if name != info.orig_filename:
            return None
        start = off + 30 + n + m
        payload = data[start:start + info.compress_size]
        return payload if len(payload) == info.compress_size else None

    def _inflate(self, info: zipfile.ZipInfo, limit: int, payload: bytes | None = None) -> bytes | None:
        """The package's one inflater: the first ``limit`` bytes of an entry, straight from the
        file's bytes (opening an entry with zipfile costs more than inflating a small part).

        Only an entry that zipfile would read without complaint is read here (plain header, same
        name in both headers, CRC checked when the whole part is read, no longer than declared);
        anything else gives None and the caller falls back to zipfile, which then reports the
        problem exactly as it always did. ``payload``: ``_payload(info)`` if known.
        """
        whole = self._whole.get(info.filename)
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

    def stream(self, info: zipfile.ZipInfo, chunk: int = 1 << 16):
        """Inflate one entry chunk by chunk from its raw data, never trusting its declared size
        (``safety.check`` counts what comes out); a damaged stream raises ``WorkbookFormatError``."""
        payload = self._raw(info)
        if info.compress_type == zipfile.ZIP_STORED:
            for i in range(0, len(payload), chunk):
                yield payload[i:i + chunk]
            return
        d = zlib.decompressobj(-15)
        for i in range(0, len(payload), chunk):
            if d.eof:
                break
            try:
                out = d.decompress(payload[i:i + chunk], chunk)
                while True:
                    if out:
                        yield out
                    if not d.unconsumed_tail:
                        break
                    out = d.decompress(d.unconsumed_tail, chunk)
            except zlib.error as exc:
                raise self._damaged(info.filename, exc) from None
        tail = d.flush()
        if tail:
            yield tail

    def _raw(self, info: zipfile.ZipInfo) -> memoryview:
        """The entry's compressed bytes as its local header places them (checked at open)."""
        off = info.header_offset
        start = off + 30 + int.from_bytes(self.data[off + 26:off + 28], "little") \
            + int.from_bytes(self.data[off + 28:off + 30], "little")
        return memoryview(self.data)[start:start + info.compress_size]

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
        if actual in self.infos:
            self._removed.add(actual)
        rels = rels_name(actual)
        if self.exists(rels):
            self.remove(rels)
        self._rels_cache.pop(actual, None)
        self._rels_dirty.discard(actual)

    def names(self) -> list[str]:
        """Current part names, original ones first in zip order, then added ones."""
        out = [n for n in self.infos if n not in self._removed]
        out += [n for n in self._new if n not in self.infos]
        return out

    def changed(self, name: str) -> bool:
        return name in self._new

    def unique_name(self, pattern: str) -> str:
        """Lowest free ``pattern.format(n)`` for n >= 1, e.g. ``xl/worksheets/sheet{}.xml``."""
        n = 1
        while self.exists(pattern.format(n)):
            n += 1
        return pattern.format(n)

    def signature(self, original: bool = False) -> dict[str, tuple[int, int]]:
        """``{part name: (CRC-32, size)}`` of the parts as they are now (``original``: as read):
        enough to tell whether a part changed."""
        if original:
            return {n: (i.CRC, i.file_size) for n, i in self.infos.items()}
        return {n: (zlib.crc32(self._new[n]), len(self._new[n])) if n in self._new
                else (self.infos[n].CRC, self.infos[n].file_size) for n in self.names()}

    # -- relationships -------------------------------------------------------------------
    def rels(self, source: str) -> list[Relationship]:
        """Relationships of part ``source`` ('' for the package). Mutable; call ``touch_rels`` after."""
        if source in self._rels_cache:
            return self._rels_cache[source]
        name = rels_name(source)
        out: list[Relationship] = []
        if self.exists(name):
            out = [Relationship(*fields) for fields in parse_rels(self.read(name), str(self.path), name)]
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
            data = rels_xml(rels)
            if self.exists(name) and self.read(name) == data:
                continue
            self.set(name, data)
        self._rels_dirty.clear()

    # -- writing -------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        self._flush_rels()
        self.content_types.flush()
        return zip_bytes(self.names(), self.infos, self._new, self.data, self._zip.comment or b"")

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
