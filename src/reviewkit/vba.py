"""The Refresh button: the VBA project reviewkit ships and the button bound to it.

The VBA source lives in ``macros/*.bas`` as plain text. ``scripts/build_vba.py`` compiles
it (without Excel) into ``reviewkit/data/vbaProject.bin``, which is shipped in the package
and embedded by :func:`add_refresh_button`; ``tests/test_vba.py`` proves the shipped project
holds exactly the source in ``macros/``.

The button runs the macro ``Refresh`` (module ``Reviewkit``), which calls xlwings'
``RunPython`` with :data:`PYTHON_COMMAND`, i.e. :func:`reviewkit.button.refresh`.

Reading helpers (:func:`read_macros`, :func:`button_bindings`, :func:`resolve_macro`) let
tests, and any code that must prove the button survived an edit, look inside an .xlsm.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from . import caching
from .errors import InputError, MissingDependencyError, WorkbookFormatError
from .model import LANGS

MODULE_NAME = "Reviewkit"
MACRO_NAME = "Refresh"
PYTHON_COMMAND = "import reviewkit.button; reviewkit.button.refresh()"
BUTTON_CAPTIONS = {"zh": "刷新分析", "en": "Refresh analysis"}
BUTTON_DESCRIPTIONS = {
    "zh": "运行 reviewkit，重新计算本工作簿中的复盘分析（需要 Python 与 xlwings）",
    "en": "Runs reviewkit to recompute the review in this workbook (needs Python and xlwings)",
}
BUTTON_SIZE = (132, 30)  # width, height in pixels


@caching.memo("vba.project", 1)
def vba_project_bytes() -> bytes:
    """The shipped ``vbaProject.bin`` built from ``macros/*.bas``."""
    return resources.files("reviewkit").joinpath("data/vbaProject.bin").read_bytes()


def add_refresh_button(workbook, worksheet, lang: str, cell: str = "H2", *,
                       status_cell: str | None = None) -> None:
    """Put a labelled Refresh button on ``worksheet`` of an XlsxWriter ``workbook``.

    Adds the VBA project the first time it is called for a workbook (later calls reuse it)
    and binds the button to the ``Refresh`` macro. The workbook must be written as .xlsm:
    Excel refuses an .xlsx that carries macros. ``status_cell`` (e.g. ``"H4"``, on the same
    sheet) becomes the workbook name ``ReviewkitStatus``, where each refresh writes when it
    ran and how it went.
    """
    if lang not in LANGS:
        raise InputError("unknown language for the Refresh button", value=lang, expected=" or ".join(LANGS))
    filename = getattr(workbook, "filename", None)
    if isinstance(filename, (str, Path)) and Path(filename).suffix.lower() != ".xlsm":
        raise InputError("a workbook with a Refresh button must be saved as .xlsm", file=filename,
                         value=Path(filename).suffix, expected=".xlsm")
    if not getattr(workbook, "vba_project", None):
        workbook.add_vba_project(io.BytesIO(vba_project_bytes()), is_stream=True)
    if status_cell is not None:
        from .engines.plan import parse_cell
        from .ooxml.cellref import num_to_col
        from .engines.xlwings_engine import STATUS_NAME

        row, col = parse_cell(status_cell)
        sheet = worksheet.get_name().replace("'", "''")
        workbook.define_name(STATUS_NAME, f"='{sheet}'!${num_to_col(col)}${row}")
    width, height = BUTTON_SIZE
    worksheet.insert_button(cell, {
        "macro": MACRO_NAME,
        "caption": BUTTON_CAPTIONS[lang],
        "description": BUTTON_DESCRIPTIONS[lang],
        "width": width,
        "height": height,
        "x_offset": 2,
        "y_offset": 2,
    })


def refresh_button(lang: str, cell: str = "H2"):
    """The Refresh button as a :class:`reviewkit.ooxml.Button`, for a sheet rebuilt by
    ``WorkbookEditor.replace_sheet`` (``SheetSpec(buttons=[refresh_button(lang, "J2")])``): the
    caption, macro, size and offsets :func:`add_refresh_button` uses. The workbook must have a
    VBA project (an .xlsm from ``reviewkit new --macro``); ``replace_sheet`` refuses it otherwise.
    """
    if lang not in LANGS:
        raise InputError("unknown language for the Refresh button", value=lang, expected=" or ".join(LANGS))
    from .ooxml import Button

    width, height = BUTTON_SIZE
    return Button(cell, BUTTON_CAPTIONS[lang], MACRO_NAME, width=width, height=height,
                  description=BUTTON_DESCRIPTIONS[lang], x_offset=2, y_offset=2)


def refresh_button_vml(lang: str, cell: str = "H2") -> bytes:
    """The legacy-drawing part (``xl/drawings/vmlDrawingN.vml``) of a Refresh button at ``cell``.

    For writers that rebuild a sheet from scratch (an owned sheet such as the summary): put
    these bytes in a part, relate it from the sheet (``.../relationships/vmlDrawing``), add
    ``<legacyDrawing r:id="..."/>`` to the sheet and the ``vml`` content type, and the sheet
    carries the same button :func:`add_refresh_button` draws. Made by XlsxWriter itself, so
    both routes give identical VML.
    """
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    add_refresh_button(wb, ws, lang, cell=cell)
    wb.close()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        return zf.read("xl/drawings/vmlDrawing1.vml")


# --- reading an .xlsm back ------------------------------------------------------------
def normalize_vba(source: str) -> str:
    """Source text as compared between ``macros/`` and a workbook.

    Line ends become LF, ``Attribute VB_*`` lines (VBA keeps them out of the editor) and
    trailing spaces go, and the text ends with exactly one newline.
    """
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = [ln.rstrip() for ln in lines if not ln.startswith("Attribute VB_")]
    return "\n".join(kept).strip("\n") + "\n"


def read_macros(path: str | Path) -> dict[str, str]:
    """The VBA modules of an .xlsm or vbaProject.bin: module name -> source (as stored)."""
    try:
        from oletools.olevba import VBA_Parser
    except ImportError as exc:  # pragma: no cover - oletools is a test dependency
        raise MissingDependencyError("reading VBA needs oletools: pip install oletools") from exc
    path = Path(path)
    try:
        parser = VBA_Parser(str(path))
    except Exception as exc:  # oletools raises its own FileOpenError and friends
        raise WorkbookFormatError("cannot read the VBA project", file=path, value=str(exc)) from exc
    try:
        modules: dict[str, str] = {}
        if parser.detect_vba_macros():
            for _container, _stream, vba_filename, code in parser.extract_macros():
                name = vba_filename.rsplit(".", 1)[0]
                modules[name] = code if isinstance(code, str) else code.decode("cp1252")
        return modules
    finally:
        parser.close()


_PROCEDURE = re.compile(
    r"^[ \t]*(?:(Public|Private|Friend)[ \t]+)?(?:Static[ \t]+)?(Sub|Function)[ \t]+(\w+)[ \t]*\(([^)]*)\)",
    re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Procedure:
    module: str
    name: str
    kind: str  # "Sub" or "Function"
    public: bool
    params: str


def procedures(modules: dict[str, str]) -> list[Procedure]:
    """Every Sub and Function declared in ``modules`` (module name -> source)."""
    out = []
    for module, source in modules.items():
        for m in _PROCEDURE.finditer(source):
            scope, kind, name, params = m.groups()
            out.append(Procedure(module, name, kind.capitalize(),
                                 (scope or "Public").lower() != "private", params.strip()))
    return out


def resolve_macro(binding: str, modules: dict[str, str]) -> Procedure | None:
    """The procedure a button's macro reference runs, or None when none matches.

    ``binding`` is what Excel stores (``[0]!Refresh``, ``'Book.xlsm'!Module.Refresh`` or
    ``Refresh``). A button can run a public Sub without parameters.
    """
    name = binding.rsplit("!", 1)[-1].strip()
    module = None
    if "." in name:
        module, name = name.split(".", 1)
    for proc in procedures(modules):
        if (proc.name.lower() == name.lower() and (module is None or proc.module.lower() == module.lower())
                and proc.kind == "Sub" and proc.public and not proc.params):
            return proc
    return None


@dataclass(frozen=True)
class ButtonBinding:
    sheet: str
    caption: str
    macro: str  # as stored in <x:FmlaMacro>, e.g. "[0]!Refresh"
    anchor: str  # "<x:Anchor>" text: left col, dx, top row, dy, right col, dx, bottom row, dy


_NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "v": "urn:schemas-microsoft-com:vml",
    "x": "urn:schemas-microsoft-com:office:excel",
}


def button_bindings(path: str | Path) -> list[ButtonBinding]:
    """Every form-control button in the legacy (VML) drawings of a workbook, with its macro."""
    from lxml import etree

    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise WorkbookFormatError("not an .xlsx/.xlsm package", file=path, value=str(exc)) from exc
    with zf:
        names = set(zf.namelist())

        def rels(part: str) -> dict[str, str]:
            rels_part = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
            if rels_part not in names:
                return {}
            root = etree.fromstring(zf.read(rels_part), parser)
            return {r.get("Id"): posixpath.normpath(posixpath.join(posixpath.dirname(part), r.get("Target")))
                    for r in root.iterfind("rel:Relationship", _NS) if r.get("TargetMode") != "External"}

        workbook = "xl/workbook.xml"
        wb_rels = rels(workbook)
        root = etree.fromstring(zf.read(workbook), parser)
        out: list[ButtonBinding] = []
        for sheet in root.iterfind("main:sheets/main:sheet", _NS):
            part = wb_rels.get(sheet.get(f"{{{_NS['r']}}}id"))
            if part not in names:
                continue
            sheet_rels = rels(part)
            sroot = etree.fromstring(zf.read(part), parser)
            for legacy in sroot.iterfind("main:legacyDrawing", _NS):
                vml = sheet_rels.get(legacy.get(f"{{{_NS['r']}}}id"))
                if vml not in names:
                    continue
                vroot = etree.fromstring(zf.read(vml), parser)
                for shape in vroot.iter(f"{{{_NS['v']}}}shape"):
                    data = shape.find("x:ClientData", _NS)
                    if data is None or data.get("ObjectType") != "Button":
                        continue
                    macro = (data.findtext("x:FmlaMacro", default="", namespaces=_NS) or "").strip()
                    anchor = (data.findtext("x:Anchor", default="", namespaces=_NS) or "").strip()
                    box = shape.find("v:textbox", _NS)
                    caption = "".join(box.itertext()).strip() if box is not None else ""
                    out.append(ButtonBinding(sheet.get("name"), caption, macro, anchor))
        return out
