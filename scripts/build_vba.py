"""Compile macros/*.bas into src/reviewkit/data/vbaProject.bin (no Excel needed).

    python scripts/build_vba.py            # rebuild the shipped project
    python scripts/build_vba.py --check    # exit 1 if the shipped project is out of date

Needs the build-time tool ``ms-ovba`` (``pip install ms-ovba``); users of reviewkit never
do, because the built project is shipped in the package. The output is deterministic: the
project id and dates are fixed and the one random input of the format (the seed of the
CMG/DPB/GC obfuscation) comes from a fixed ``random.Random``, so the same sources always
give the same bytes and ``--check`` can compare bytes.

The project holds the two document modules Excel expects (``ThisWorkbook``, ``Sheet1``),
one standard module per ``macros/*.bas`` file (named after the file) and the stdole and
Office references. It carries no compiled p-code cache, so Excel compiles the source
when the workbook is opened.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import unittest.mock
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MACROS = REPO / "macros"
OUTPUT = REPO / "src" / "reviewkit" / "data" / "vbaProject.bin"

PROJECT_ID = "{5E1E3C2A-7B2D-4C55-9E61-52455649454B}"  # fixed: reviewkit's VBA project
SEED = 20261122

# Document modules every Excel VBA project has, with their type-library GUIDs.
DOCUMENT_MODULES = {
    "ThisWorkbook": "00020819-0000-0000-C000-000000000046",
    "Sheet1": "00020820-0000-0000-C000-000000000046",
}
DOCUMENT_SOURCE = """VERSION 1.0 CLASS
BEGIN
  MultiUse = -1  'True
END
Attribute VB_Name = "{name}"
Attribute VB_GlobalNameSpace = False
Attribute VB_Creatable = False
Attribute VB_PredeclaredId = True
Attribute VB_Exposed = True
"""


def compress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1 compression (a CompressedContainer), written out from the spec.

    ms-ovba 0.0.1 ships a compressor (``ms_ovba_compression`` 1.0.1) whose copy tokens are
    wrong for ordinary source text: oletools (and Excel) read back garbage after the first
    few hundred bytes. This one is checked against oletools' decompressor in the tests.
    """
    out = bytearray(b"\x01")  # SignatureByte
    for start in range(0, len(data), 4096):
        chunk = data[start:start + 4096]
        body = _compress_chunk(chunk)
        if len(body) > 4096:  # incompressible: a raw chunk, which must hold 4096 bytes
            if len(chunk) != 4096:
                raise ValueError("cannot store a short incompressible chunk")
            header, body = 0x3000 | (4096 - 1), bytes(chunk)  # flag 0, size field 4095
        else:
            header = 0x8000 | 0x3000 | (len(body) + 2 - 3)  # flag 1, signature 0b011, size-3
        out += header.to_bytes(2, "little") + body
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    out = bytearray()
    seen: dict[bytes, list[int]] = {}  # 3-byte prefix -> earlier positions (match candidates)
    pos, end = 0, len(chunk)

    def remember(upto: int) -> None:
        for p in range(remember.done, upto):
            seen.setdefault(chunk[p:p + 3], []).append(p)
        remember.done = upto

    remember.done = 0
    while pos < end:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            offset, length = _longest_match(chunk, pos, seen.get(chunk[pos:pos + 3], ()))
            if length >= 3:
                bit_count = max((pos - 1).bit_length(), 4)  # ceil(log2(pos)), at least 4
                token = ((offset - 1) << (16 - bit_count)) | (length - 3)
                out += token.to_bytes(2, "little")
                flags |= 1 << bit
                pos += length
            else:
                out.append(chunk[pos])
                pos += 1
            remember(pos)
        out[flag_at] = flags
    return bytes(out)


def _longest_match(chunk: bytes, pos: int, candidates) -> tuple[int, int]:
    """Best (offset, length) of an earlier copy of chunk[pos:], overlapping allowed."""
    if pos == 0:
        return 0, 0
    bit_count = max((pos - 1).bit_length(), 4)
    max_length = min((0xFFFF >> bit_count) + 3, len(chunk) - pos)
    best_offset, best_length = 0, 0
    for candidate in reversed(candidates):  # nearest first
        length = 0
        while length < max_length and chunk[candidate + length] == chunk[pos + length]:
            length += 1
        if length > best_length:
            best_offset, best_length = pos - candidate, length
            if length == max_length:
                break
    return best_offset, best_length


def build(macro_dir: Path = MACROS) -> bytes:
    """Return the bytes of a vbaProject.bin holding every ``*.bas`` in ``macro_dir``."""
    try:
        from ms_ovba.Models.Entities.doc_module import DocModule
        from ms_ovba.Models.Entities.reference import Reference
        from ms_ovba.Models.Entities.reference_registered import ReferenceRegistered
        from ms_ovba.Models.Entities.std_module import StdModule
        from ms_ovba.Models.Fields.libid_reference import LibidReference
        from ms_ovba.Views.project_ole_file import ProjectOleFile
        from ms_ovba.vbaProject import VbaProject
        from ms_ovba_compression.ms_ovba import MsOvba
    except ImportError as exc:  # pragma: no cover - depends on the build machine
        raise SystemExit(f"build_vba.py needs ms-ovba: pip install ms-ovba ({exc})") from exc

    sources = sorted(Path(macro_dir).glob("*.bas"))
    if not sources:
        raise SystemExit(f"no .bas files in {macro_dir}")
    for src in sources:
        text = src.read_text(encoding="utf-8")
        if not text.isascii():
            raise SystemExit(f"{src}: VBA source must be ASCII (the project uses code page 1252)")

    # ms-ovba writes its intermediate files beside the sources and into the current
    # directory, and appends to them: work on copies in a fresh directory.
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="reviewkit-vba-") as tmp:
        work = Path(tmp)
        try:
            os.chdir(work)
            project = VbaProject()
            project.project_id = PROJECT_ID
            for name, guid in DOCUMENT_MODULES.items():
                path = work / f"{name}.cls"
                path.write_text(DOCUMENT_SOURCE.format(name=name), encoding="ascii", newline="\n")
                module = DocModule(name)
                module.add_file(str(path))
                module.add_guid(uuid.UUID(guid))
                module.normalize_file()
                project.add_module(module)
            for src in sources:
                path = work / src.name
                # normalise line ends to LF; normalize_file() writes CRLF as VBA stores it
                path.write_text(src.read_text(encoding="utf-8").replace("\r\n", "\n"),
                                encoding="ascii", newline="\n")
                module = StdModule(src.stem)
                module.add_file(str(path))
                module.normalize_file()
                project.add_module(module)
            stdole = LibidReference(uuid.UUID("00020430-0000-0000-C000-000000000046"), "2.0", "0",
                                    "C:\\Windows\\System32\\stdole2.tlb", "OLE Automation")
            office = LibidReference(uuid.UUID("2DF8D04C-5BFA-101B-BDE5-00AA0044DE52"), "2.0", "0",
                                    "C:\\Program Files\\Common Files\\Microsoft Shared\\OFFICE16\\MSO.DLL",
                                    "Microsoft Office 16.0 Object Library")
            project.add_reference(Reference(ReferenceRegistered(stdole), "stdole"))
            project.add_reference(Reference(ReferenceRegistered(office), "Office"))
            rng = random.Random(SEED)
            with unittest.mock.patch("random.randint", rng.randint), \
                    unittest.mock.patch.object(MsOvba, "compress", lambda _self, data: compress(bytes(data))):
                ProjectOleFile.write_file(project)
            return (work / "vbaProject.bin").read_bytes()
        finally:
            os.chdir(cwd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file, do not write")
    parser.add_argument("-o", "--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    data = build()
    if args.check:
        current = args.out.read_bytes() if args.out.exists() else b""
        if current != data:
            print(f"{args.out} is out of date with {MACROS}; run: python scripts/build_vba.py")
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_bytes(data)
    shutil.move(str(tmp), args.out)
    print(f"wrote {args.out} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
