"""Writing a package back: entries that did not change are copied as their original compressed
bytes (no recompression, same CRC, same timestamps); only changed parts are deflated."""
from __future__ import annotations

import struct
import zipfile
import zlib

from .. import caching

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def zip_bytes(names: list[str], infos: dict[str, zipfile.ZipInfo], new: dict[str, bytes], data: bytes,
              comment: bytes) -> bytes:
    """A zip of ``names`` in order: ``new`` content deflated, the others copied from ``data``."""
    out = bytearray()
    central = bytearray()
    for name in names:
        offset = len(out)
        if name in new:
            local, cen = _deflated_entry(name, new[name], infos.get(name), offset)
        else:
            local, cen = _copied_entry(data, infos[name], offset)
        out += local
        central += cen
    cd_offset = len(out)
    out += central
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(names), len(names), len(central),
                       cd_offset, len(comment))
    out += comment
    return bytes(out)


def _copied_entry(data: bytes, info: zipfile.ZipInfo, offset: int) -> tuple[bytes, bytes]:
    """Local header + compressed data copied from the source, and a central record for it."""
    off = info.header_offset
    n, m = struct.unpack("<HH", data[off + 26:off + 30])
    start = off + 30 + n + m
    payload = data[start:start + info.compress_size]
    local_sizes = struct.unpack("<2L", data[off + 18:off + 26])
    if info.flag_bits & 0x08 or 0xFFFFFFFF in local_sizes or local_sizes != (info.compress_size, info.file_size):
        # a data descriptor or zip64 sizes: write a plain local header carrying the real sizes
        flags = info.flag_bits & ~0x08
        local = _local_header(info, flags, _raw_name(info), b"")
    else:
        local = data[off:start]
        flags = info.flag_bits
    extra = _strip_zip64(info.extra)
    cen = _central_record(info, flags, _raw_name(info), extra, offset)
    return local + payload, cen


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
_DEFLATED = caching.Cache("package.deflated", 128)
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
        _DEFLATED.put(data, found)
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
