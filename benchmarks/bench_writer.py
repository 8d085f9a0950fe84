"""Benchmark: reviewkit's package-level writer vs openpyxl load+save, same edits, same run.

    python benchmarks/bench_writer.py [--rows 100000] [--cols 12] [--repeat 3]

Builds two workbooks (a small review template with XlsxWriter, a large data sheet as XML text),
then for each one times:
  * reviewkit.ooxml.WorkbookEditor: open, write 50 values + 10 formulas with cached results
    (styled), set a conditional format, save to a new file;
  * openpyxl: load_workbook, the same cell writes, save (the obvious baseline).
Prints best-of-N wall times and the ratio. The openpyxl run on the large file is done once.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import xlsxwriter  # noqa: E402

from reviewkit.ooxml import CellIsRule, CellStyle, DxfStyle, WorkbookEditor  # noqa: E402

STYLE = CellStyle(num_format="0.0%", fill="#E2EFDA")


def build_small(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    for s in range(4):
        ws = wb.add_worksheet(f"Sheet{s + 1}")
        for r in range(200):
            ws.write_row(r, 0, [f"item {r}", r, r * 1.1, r % 5, "note"])
            ws.write_formula(r, 5, f"=B{r + 1}*C{r + 1}")
    wb.close()


def build_large(path: Path, rows: int, cols: int) -> None:
    """XlsxWriter makes the package; the big sheet's XML is generated as text (XlsxWriter's own
    row writer needs ~25 s for 1.2 million cells, which would dominate the run)."""
    import zipfile

    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Data").write("A1", 0)
    wb.close()
    letters = [chr(65 + c) if c < 26 else "A" + chr(65 + c - 26) for c in range(cols)]
    body = "".join(
        f'<row r="{r}" spans="1:{cols}">'
        + "".join(f'<c r="{letters[c]}{r}" t="inlineStr"><is><t>row {r % 1000}</t></is></c>' if c % 3 == 0
                  else f'<c r="{letters[c]}{r}"><v>{r * (c + 1)}</v></c>' for c in range(cols))
        + "</row>" for r in range(1, rows + 1))
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.'
           'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
           f'<dimension ref="A1:{letters[-1]}{rows}"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"/>'
           f'</sheetViews><sheetFormatPr defaultRowHeight="15"/><sheetData>{body}</sheetData><pageMargins left="0.7" '
           'right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
    with zipfile.ZipFile(path) as zin:
        parts = {i.filename: zin.read(i) for i in zin.infolist()}
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)


def targets(rows: int) -> list[int]:
    step = max(1, rows // 50)
    return [1 + i * step for i in range(50)]


def run_reviewkit(src: Path, out: Path, rows: int) -> float:
    t0 = time.perf_counter()
    with WorkbookEditor.open(src) as book:
        ws = book.sheet(book.sheet_names[0])
        for r in targets(rows):
            ws.write(f"P{r}", r / rows, style=STYLE)
        for r in targets(rows)[:10]:
            ws.write_formula(f"Q{r}", f"P{r}*2", cached=2 * r / rows, style=STYLE)
        ws.set_conditional_formats(owned=["P1:P1000000"], rules=[
            CellIsRule("P1:P1000000", ">", ["0.5"], DxfStyle(font_color="#006100"))])
        book.save(out)
    return time.perf_counter() - t0


def run_openpyxl(src: Path, out: Path, rows: int) -> float:
    import openpyxl
    from openpyxl.formatting.rule import CellIsRule as OxCellIs
    from openpyxl.styles import Font, PatternFill

    t0 = time.perf_counter()
    wb = openpyxl.load_workbook(src)
    ws = wb.worksheets[0]
    fill = PatternFill("solid", fgColor="FFE2EFDA")
    for r in targets(rows):
        c = ws[f"P{r}"]
        c.value, c.number_format, c.fill = r / rows, "0.0%", fill
    for r in targets(rows)[:10]:
        c = ws[f"Q{r}"]
        c.value, c.number_format, c.fill = f"=P{r}*2", "0.0%", fill
    ws.conditional_formatting.add("P1:P1000000", OxCellIs(operator="greaterThan", formula=["0.5"],
                                                          font=Font(color="FF006100")))
    wb.save(out)
    return time.perf_counter() - t0


def best(fn, repeat: int) -> tuple[float, float]:
    """Best (wall, CPU) seconds of ``repeat`` runs; CPU time is steadier on a busy machine."""
    runs = []
    for _ in range(repeat):
        c0 = time.process_time()
        wall = fn()
        runs.append((wall, time.process_time() - c0))
    return min(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--cols", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rk-bench-"))
    try:
        small, large = tmp / "small.xlsx", tmp / "large.xlsx"
        t0 = time.perf_counter()
        build_small(small)
        build_large(large, args.rows, args.cols)
        print(f"built inputs in {time.perf_counter() - t0:.1f} s: small {small.stat().st_size / 1e3:.0f} kB, "
              f"large {args.rows}x{args.cols} {large.stat().st_size / 1e6:.1f} MB")
        print(f"{'workbook':<22}{'reviewkit wall/cpu':>20}{'openpyxl wall/cpu':>20}{'ratio wall/cpu':>16}")
        for label, src, rows, ox_repeat in (("small (4x200 rows)", small, 200, args.repeat),
                                            (f"large ({args.rows}x{args.cols})", large, args.rows, 1)):
            rk = best(lambda: run_reviewkit(src, tmp / "rk.xlsx", rows), args.repeat)
            ox = best(lambda: run_openpyxl(src, tmp / "ox.xlsx", rows), ox_repeat)
            print(f"{label:<22}{rk[0]:>9.3f}s/{rk[1]:>7.3f}s{ox[0]:>10.3f}s/{ox[1]:>7.3f}s"
                  f"{ox[0] / rk[0]:>8.1f}x/{ox[1] / rk[1]:>5.1f}x")
        import tracemalloc
        import zipfile
        tracemalloc.start()
        run_reviewkit(large, tmp / "rk.xlsx", args.rows)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        xml = zipfile.ZipFile(large).getinfo("xl/worksheets/sheet1.xml").file_size
        print(f"reviewkit peak Python memory on the large file: {peak / 1e6:.0f} MB "
              f"({peak / xml:.1f}x the {xml / 1e6:.0f} MB sheet XML)")
        same = _untouched_parts_identical(large, tmp / "rk.xlsx")
        print(f"reviewkit output: {same} of the large file's untouched parts byte-identical")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _untouched_parts_identical(src: Path, out: Path) -> str:
    import zipfile
    a, b = zipfile.ZipFile(src), zipfile.ZipFile(out)
    owned = {"xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/workbook.xml", "[Content_Types].xml",
             "xl/_rels/workbook.xml.rels"}
    names = [n for n in a.namelist() if n not in owned]
    same = sum(1 for n in names if n in b.namelist() and a.read(n) == b.read(n))
    return f"{same}/{len(names)}"


if __name__ == "__main__":
    main()
