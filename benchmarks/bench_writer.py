"""Benchmark: reviewkit's package-level writer vs openpyxl load+save, same edits, same run.

    python benchmarks/bench_writer.py [--rows 100000] [--cols 12] [--repeat 3]

Builds two workbooks with XlsxWriter (a small review template and a large data sheet),
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
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Data")
    for r in range(rows):
        ws.write_row(r, 0, [r if c % 3 else f"row {r % 1000}" for c in range(cols)])
    wb.close()


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


def best(fn, repeat: int) -> float:
    return min(fn() for _ in range(repeat))


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
        print(f"{'workbook':<22}{'reviewkit':>12}{'openpyxl':>12}{'ratio':>9}")
        for label, src, rows, ox_repeat in (("small (4x200 rows)", small, 200, args.repeat),
                                            (f"large ({args.rows}x{args.cols})", large, args.rows, 1)):
            rk = best(lambda: run_reviewkit(src, tmp / "rk.xlsx", rows), args.repeat)
            ox = best(lambda: run_openpyxl(src, tmp / "ox.xlsx", rows), ox_repeat)
            print(f"{label:<22}{rk:>11.3f}s{ox:>11.3f}s{ox / rk:>8.1f}x")
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
