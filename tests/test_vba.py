"""The Refresh button: the VBA in generated .xlsm files is macros/*.bas, and it reaches Python.

Runs on Linux without Excel: the VBA project is read back with oletools, the button's
binding from the sheet's VML drawing, and the Python entry point is imported and called
with a fake book.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import io
import random
import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from reviewkit import vba
from reviewkit.errors import InputError

REPO = Path(__file__).resolve().parents[1]
MACROS = REPO / "macros"
SHIPPED = REPO / "src" / "reviewkit" / "data" / "vbaProject.bin"


def _load_build_script():
    spec = importlib.util.spec_from_file_location("build_vba", REPO / "scripts" / "build_vba.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _macro_sources() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(MACROS.glob("*.bas"))}


@pytest.fixture(scope="module")
def xlsm(tmp_path_factory) -> Path:
    """An .xlsm as the template builder makes it: buttons on a guide and a summary sheet."""
    path = tmp_path_factory.mktemp("vba") / "review.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    guide = wb.add_worksheet("说明")
    summary = wb.add_worksheet("汇总")
    wb.add_worksheet("计分卡")
    guide.write("A1", "复盘")
    vba.add_refresh_button(wb, guide, "zh")
    vba.add_refresh_button(wb, summary, "zh", cell="B2")
    wb.close()
    return path


# --- the shipped project is macros/ ----------------------------------------------------
def test_macros_dir_holds_the_reviewkit_module():
    sources = _macro_sources()
    assert vba.MODULE_NAME in sources
    for name, text in sources.items():
        assert text.isascii(), f"{name}.bas must be ASCII (code page 1252 project)"
        assert f'Attribute VB_Name = "{name}"' in text.splitlines()[0]


def test_shipped_project_holds_exactly_the_macros_source():
    modules = vba.read_macros(SHIPPED)
    sources = _macro_sources()
    standard = {k: v for k, v in modules.items() if k not in ("ThisWorkbook", "Sheet1")}
    assert set(standard) == set(sources), "run: python scripts/build_vba.py"
    for name, text in sources.items():
        assert vba.normalize_vba(standard[name]) == vba.normalize_vba(text), (
            f"{SHIPPED.name} is out of date with macros/{name}.bas; run: python scripts/build_vba.py")


def test_shipped_project_rebuilds_byte_for_byte():
    """The build is deterministic, so the shipped bytes are what the build script makes now."""
    pytest.importorskip("ms_ovba", reason="ms-ovba (build-time tool) not installed: pip install ms-ovba")
    build = _load_build_script()
    assert build.build() == SHIPPED.read_bytes(), "run: python scripts/build_vba.py"


def test_vba_project_bytes_is_the_shipped_file():
    assert vba.vba_project_bytes() == SHIPPED.read_bytes()
    assert vba.vba_project_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")  # an OLE compound file


@pytest.mark.parametrize("data", [
    b"", b"a", b"abc" * 2000, b"Attribute VB_Name = \"X\"\r\n" * 300,
    bytes(random.Random(1).randrange(256) for _ in range(8192)),  # incompressible: raw chunks
    bytes(random.Random(2).choice(b"Sub End If\r\n ") for _ in range(12000)),
    (MACROS / "Reviewkit.bas").read_bytes().replace(b"\n", b"\r\n"),
])
def test_build_compressor_round_trips_through_oletools(data):
    """The build script's MS-OVBA compressor agrees with oletools' decompressor (Excel's format)."""
    from oletools.olevba import decompress_stream

    compressed = _load_build_script().compress(data)
    assert compressed[0] == 1
    assert bytes(decompress_stream(bytearray(compressed))) == data


def test_normalize_vba_ignores_line_ends_attributes_and_trailing_space():
    a = 'Attribute VB_Name = "M"\r\nSub X()  \r\n    Y\r\nEnd Sub\r\n\r\n'
    b = "Sub X()\n    Y\nEnd Sub\n"
    assert vba.normalize_vba(a) == vba.normalize_vba(b) == b
    assert vba.normalize_vba("Sub X()\n  Z\nEnd Sub") != b


# --- the generated workbook ------------------------------------------------------------
def test_xlsm_contains_the_macro_from_macros(xlsm):
    modules = vba.read_macros(xlsm)
    text = (MACROS / f"{vba.MODULE_NAME}.bas").read_text(encoding="utf-8")
    assert vba.normalize_vba(modules[vba.MODULE_NAME]) == vba.normalize_vba(text)


def test_xlsm_is_a_macro_enabled_package_with_one_project(xlsm):
    with zipfile.ZipFile(xlsm) as zf:
        names = zf.namelist()
        types = zf.read("[Content_Types].xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        workbook = zf.read("xl/workbook.xml").decode()
    assert names.count("xl/vbaProject.bin") == 1
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
    assert 'Target="vbaProject.bin"' in rels
    assert 'codeName="ThisWorkbook"' in workbook


def test_buttons_are_labelled_and_bound_to_a_macro_in_the_project(xlsm):
    bindings = vba.button_bindings(xlsm)
    assert [(b.sheet, b.caption) for b in bindings] == [("说明", "刷新分析"), ("汇总", "刷新分析")]
    modules = vba.read_macros(xlsm)
    for b in bindings:
        assert b.macro == "[0]!Refresh"
        proc = vba.resolve_macro(b.macro, modules)
        assert proc is not None and (proc.module, proc.name) == ("Reviewkit", "Refresh")
    # the anchor starts at the requested cells: H2 (col 7, row 1) and B2 (col 1, row 1)
    assert [b.anchor.split(",")[0::2][:2] for b in bindings] == [["7", " 1"], ["1", " 1"]]


def test_english_caption(tmp_path):
    path = tmp_path / "en.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    vba.add_refresh_button(wb, wb.add_worksheet("Guide"), "en", cell="C3")
    wb.close()
    assert [(b.sheet, b.caption) for b in vba.button_bindings(path)] == [("Guide", "Refresh analysis")]


def test_resolve_macro_rejects_what_a_button_cannot_run():
    modules = {"M": "Private Sub Hidden()\nEnd Sub\nPublic Function F()\nEnd Function\n"
                    "Sub Args(x As Long)\nEnd Sub\nSub Ok()\nEnd Sub\n"}
    assert vba.resolve_macro("[0]!Hidden", modules) is None
    assert vba.resolve_macro("[0]!F", modules) is None
    assert vba.resolve_macro("[0]!Args", modules) is None
    assert vba.resolve_macro("[0]!Missing", modules) is None
    assert vba.resolve_macro("[0]!Ok", modules).name == "Ok"
    assert vba.resolve_macro("'Book 1.xlsm'!M.Ok", modules).module == "M"
    assert vba.resolve_macro("[0]!Other.Ok", modules) is None


def test_a_broken_binding_is_caught(tmp_path):
    """The check above can fail: a button bound to a macro that is not in the project."""
    path = tmp_path / "bad.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_vba_project(io.BytesIO(vba.vba_project_bytes()), is_stream=True)
    wb.add_worksheet("S").insert_button("B2", {"macro": "Refrsh", "caption": "x"})
    wb.close()
    (b,) = vba.button_bindings(path)
    assert vba.resolve_macro(b.macro, vba.read_macros(path)) is None


def test_add_refresh_button_refuses_xlsx_and_unknown_language(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "r.xlsx"))
    ws = wb.add_worksheet()
    with pytest.raises(InputError, match=r"r\.xlsx: .*\.xlsm"):
        vba.add_refresh_button(wb, ws, "zh")
    wb2 = xlsxwriter.Workbook(str(tmp_path / "r.xlsm"))
    with pytest.raises(InputError, match="language"):
        vba.add_refresh_button(wb2, wb2.add_worksheet(), "fr")
    wb.close()
    wb2.close()


# --- the macro reaches a real Python entry point ----------------------------------------
def _run_python_commands(source: str) -> list[str]:
    """The Python code strings the module hands to RunPython."""
    consts = dict(re.findall(r'Const\s+(\w+)\s+As\s+String\s*=\s*"([^"]*)"', source))
    calls = re.findall(r"CallRunPython\((\w+|\"[^\"]*\")\)", source)
    return [c.strip('"') if c.startswith('"') else consts[c] for c in calls]


def test_macro_calls_an_importable_entry_point_that_accepts_a_book(xlsm):
    source = vba.read_macros(xlsm)[vba.MODULE_NAME]
    refresh_body = re.search(r"Public Sub Refresh\(\)(.*?)End Sub", source, re.S).group(1)
    assert "CallRunPython(PYTHON_COMMAND)" in refresh_body
    assert "RunPython" in source and "xlwings.xlam!RunPython" in source
    (command,) = _run_python_commands(source)
    assert command == vba.PYTHON_COMMAND
    m = re.fullmatch(r"import ([\w.]+); ([\w.]+)\.(\w+)\(\)", command)
    assert m, command
    module_name, qualifier, func_name = m.groups()
    assert qualifier == module_name
    module = importlib.import_module(module_name)
    func = getattr(module, func_name)
    params = inspect.signature(func).parameters
    assert "book" in params and params["book"].default is None  # RunPython calls it with no argument


@pytest.mark.libreoffice
def test_libreoffice_opens_the_xlsm_and_links_the_button_to_our_macro(xlsm, soffice, tmp_path):
    """An independent VBA reader: LibreOffice loads the project and resolves the button itself.

    Re-saved as .xlsm, LibreOffice writes the binding it resolved ("[0]!Refresh" becomes
    "Reviewkit.Refresh") and the module source it read.
    """
    from reviewkit.libreoffice import convert

    out = convert([xlsm], "xlsm:Calc MS Excel 2007 VBA XML", tmp_path / "lo")[xlsm.resolve()]
    assert out is not None, "LibreOffice could not open the .xlsm"
    bindings = vba.button_bindings(out)
    assert [(b.sheet, b.caption, b.macro) for b in bindings] == [
        ("说明", "刷新分析", "Reviewkit.Refresh"), ("汇总", "刷新分析", "Reviewkit.Refresh")]
    modules = vba.read_macros(out)
    assert vba.normalize_vba(modules["Reviewkit"]) == vba.normalize_vba(
        (MACROS / "Reviewkit.bas").read_text(encoding="utf-8"))
    assert vba.resolve_macro(bindings[0].macro, modules).name == "Refresh"


def test_button_and_macro_survive_the_lossless_writer(xlsm, tmp_path):
    """What fill does to a workbook (write cells, rebuild an owned sheet) keeps the button working."""
    from reviewkit.ooxml import Cell, SheetSpec, WorkbookEditor

    before_bindings = vba.button_bindings(xlsm)
    with zipfile.ZipFile(xlsm) as zf:
        project = zf.read("xl/vbaProject.bin")
    with WorkbookEditor.open(xlsm) as ed:
        ed.sheet("计分卡").write("B2", 0.9)
        ed.sheet("说明").write("A5", "filled")
        ed.replace_sheet("排名", SheetSpec(cells=[Cell("A1", "rank")]))
        out = ed.save(tmp_path / "filled.xlsm")
    assert out.suffix == ".xlsm"
    assert vba.button_bindings(out) == before_bindings
    with zipfile.ZipFile(out) as zf:
        assert zf.read("xl/vbaProject.bin") == project
        assert "macroEnabled" in zf.read("[Content_Types].xml").decode()
    modules = vba.read_macros(out)
    for b in vba.button_bindings(out):
        assert vba.resolve_macro(b.macro, modules).name == "Refresh"


def test_refresh_button_vml_is_the_button_add_refresh_button_draws(xlsm):
    from lxml import etree

    ns = {"x": "urn:schemas-microsoft-com:office:excel", "v": "urn:schemas-microsoft-com:vml"}

    def looks(data: bytes):
        root = etree.fromstring(data)
        return (root.findtext(".//x:FmlaMacro", namespaces=ns), root.findtext(".//x:Anchor", namespaces=ns),
                "".join(root.find(".//v:textbox", ns).itertext()).strip())

    vml = vba.refresh_button_vml("zh", cell="B2")
    with zipfile.ZipFile(xlsm) as zf:  # the summary sheet's button in the fixture is at B2
        assert looks(vml) == looks(zf.read("xl/drawings/vmlDrawing2.vml"))
    assert looks(vml)[0] == "[0]!Refresh" and looks(vml)[2] == "刷新分析"
    assert "Refresh analysis" in vba.refresh_button_vml("en").decode("utf-8")


_UNO_SCRIPT = r'''
import json, os, subprocess, sys, time
import uno
from com.sun.star.beans import PropertyValue

path, profile, port = sys.argv[1], sys.argv[2], sys.argv[3]
proc = subprocess.Popen([sys.argv[4], "-env:UserInstallation=" + uno.systemPathToFileUrl(profile), "--headless",
                         "--norestore", "--nologo", "--accept=socket,host=127.0.0.1,port=%s;urp;" % port],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
out = {}
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(120):
        try:
            ctx = resolver.resolve("uno:socket,host=127.0.0.1,port=%s;urp;StarOffice.ComponentContext" % port)
            break
        except Exception:
            time.sleep(0.5)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    def pv(n, v):
        p = PropertyValue(); p.Name = n; p.Value = v; return p
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0,
                                       (pv("Hidden", True), pv("MacroExecutionMode", 4)))
    libs = doc.BasicLibraries
    for name in libs.getElementNames():
        libs.loadLibrary(name)
    out["modules"] = {n: list(libs.getByName(n).getElementNames()) for n in libs.getElementNames()}
    lib = [n for n, mods in out["modules"].items() if "Reviewkit" in mods][0]
    sp = doc.getScriptProvider()
    def call(fn, *args):
        s = sp.getScript("vnd.sun.star.script:%s.Reviewkit.%s?language=Basic&location=document" % (lib, fn))
        return s.invoke(args, (), ())[0]
    out["U"] = call("U", "5237 65B0 5206 6790")
    out["CallRunPython"] = call("CallRunPython", "import reviewkit.button; reviewkit.button.refresh()")
    doc.close(True)
finally:
    try:
        desktop.terminate()
    except Exception:
        pass
    time.sleep(0.5)
    proc.kill()
print(json.dumps(out))
'''


def _python_with_uno() -> str | None:
    import shutil
    import subprocess

    for exe in (shutil.which("python3"), "/usr/bin/python3", "/usr/lib/libreoffice/program/python"):
        if exe and Path(exe).exists():
            ok = subprocess.run([exe, "-c", "import uno"], capture_output=True, timeout=60).returncode == 0
            if ok:
                return exe
    return None


@pytest.mark.libreoffice
def test_the_macro_compiles_and_runs_in_libreoffice_vba_mode(xlsm, soffice, tmp_path):
    """An independent VBA implementation compiles macros/Reviewkit.bas from our project and runs
    it: U() spells Chinese from code points, and CallRunPython finds no RunPython (no xlwings
    here), so it returns "" (the button then shows the set-up help) instead of failing."""
    import json
    import socket
    import subprocess

    python = _python_with_uno()
    if python is None:
        pytest.skip("no Python with LibreOffice's UNO bridge (Debian: apt-get install python3-uno)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = tmp_path / "run_macro.py"
    script.write_text(_UNO_SCRIPT, encoding="utf-8")
    done = subprocess.run([python, str(script), str(xlsm.resolve()), str(tmp_path / "profile"), str(port), soffice],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "Reviewkit" in out["modules"]["VBAProject"]
    assert out["U"] == "刷新分析"
    assert out["CallRunPython"] == ""


@pytest.mark.parametrize("lang,caption", [("zh", "刷新分析"), ("en", "Refresh analysis")])
def test_reviewkit_new_macro_writes_the_button_and_the_project(tmp_path, lang, caption):
    """`reviewkit new --macro` (the template builder) puts the bound button on the guide sheet."""
    pytest.importorskip("reviewkit.templates", reason="the template builder has not landed yet")
    from click.testing import CliRunner

    from reviewkit.cli import main
    from reviewkit.model import owned_sheet_name

    path = tmp_path / f"review_{lang}.xlsm"
    result = CliRunner().invoke(main, ["new", str(path), "--macro", "--lang", lang], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    bindings = vba.button_bindings(path)
    guide = owned_sheet_name("guide", lang)
    assert (guide, caption, "[0]!Refresh") in [(b.sheet, b.caption, b.macro) for b in bindings]
    modules = vba.read_macros(path)
    assert vba.normalize_vba(modules["Reviewkit"]) == vba.normalize_vba(
        (MACROS / "Reviewkit.bas").read_text(encoding="utf-8"))
    assert all(vba.resolve_macro(b.macro, modules) for b in bindings)


def test_status_cell_becomes_the_name_refresh_reports_to(tmp_path):
    import openpyxl

    path = tmp_path / "status.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    vba.add_refresh_button(wb, wb.add_worksheet("说明 1"), "zh", status_cell="h4")
    wb.close()
    names = openpyxl.load_workbook(path).defined_names
    assert list(names["ReviewkitStatus"].destinations) == [("说明 1", "$H$4")]
