"""Benchmark: ``reviewkit import`` of an ERP fact export (CSV) into the Facts table of a new review
workbook, against pandas in the same run.

    python benchmarks/bench_import.py [--rows 1000000] [--baseline-rows 100000]

Each step runs in its own process so its peak memory (max RSS) is its own:
  * pandas ``read_csv`` alone (the floor: parsing the file, no workbook);
  * ``reviewkit.importing.import_sources`` into a fresh ``reviewkit new`` template: detects the
    encoding and delimiter, maps the headers, converts every value through the reader, grows the
    Facts table with the lossless editor, saves atomically;
  * pandas ``read_csv`` + openpyxl: load the template, write the rows into the Facts sheet, stretch
    the table's ref, save. openpyxl runs on ``--baseline-rows`` rows and its time is scaled
    linearly to ``--rows`` (stated in the output), since a million-row openpyxl save takes minutes.

The CSV has 6 columns like a sales detail export: month, department, industry, size, amount, orders.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def make_csv(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    months = np.array([f"2025-{m:02d}" for m in range(1, 13)])
    units = np.array(["华东", "华南", "华北", "西南", "西北", "东北"])
    industries = np.array(["制造业", "互联网", "零售", "金融", "教育"])
    sizes = np.array(["大型", "中型", "小型"])
    pd.DataFrame({"月份": months[rng.integers(0, 12, rows)], "部门": units[rng.integers(0, 6, rows)],
                  "行业": industries[rng.integers(0, 5, rows)], "客户规模": sizes[rng.integers(0, 3, rows)],
                  "销售额": np.round(rng.lognormal(8, 1, rows), 2), "订单数": rng.integers(1, 50, rows)}
                 ).to_csv(path, index=False)


STEPS = {
    "pandas": """
import pandas as pd
t0 = time.perf_counter()
df = pd.read_csv(CSV)
n = len(df)
""",
    "reviewkit": """
from reviewkit.importing import import_sources
from reviewkit.templates import build_template
build_template(BOOK, preset="sales", lang="zh", overwrite=True)
t0 = time.perf_counter()
result = import_sources([CSV], BOOK, table="facts")
n = result.added
""",
    "openpyxl": """
import pandas as pd
import openpyxl
from reviewkit.templates import build_template
build_template(BOOK, preset="sales", lang="zh", overwrite=True)
t0 = time.perf_counter()
df = pd.read_csv(CSV, nrows=ROWS)
wb = openpyxl.load_workbook(BOOK)
ws = wb["明细"]
table = ws.tables["Facts"]
headers = [c.value for c in ws[4]]
for name in df.columns:
    if name not in headers:
        headers.append(name)
        ws.cell(row=4, column=len(headers), value=name)
index = {name: headers.index(name) + 1 for name in df.columns}
index["月份"], index["部门"] = 1, 2
for i, row in enumerate(df.itertuples(index=False), start=5):
    for name, value in zip(df.columns, row):
        ws.cell(row=i, column=index[name], value=value.item() if hasattr(value, "item") else value)
from openpyxl.utils import get_column_letter
table.ref = f"A4:{get_column_letter(len(headers))}{4 + len(df)}"
wb.save(BOOK)
n = len(df)
""",
}

RUNNER = """
import json, resource, sys, time
sys.path.insert(0, {src!r})
CSV, BOOK, ROWS = {csv!r}, {book!r}, {rows}
t0 = time.perf_counter()
{body}
elapsed = time.perf_counter() - t0
print(json.dumps({{"seconds": elapsed, "rows": n,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run(step: str, csv: Path, book: Path, rows: int) -> dict:
    code = RUNNER.format(src=str(SRC), csv=str(csv), book=str(book), rows=rows, body=STEPS[step])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-rows", type=int, default=100_000, help="rows for the openpyxl baseline")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv = tmp / "facts.csv"
        make_csv(csv, args.rows)
        print(f"CSV: {args.rows:,} rows x 6 columns, {csv.stat().st_size / 1e6:.1f} MB")
        pandas = run("pandas", csv, tmp / "p.xlsx", args.rows)
        ours = run("reviewkit", csv, tmp / "r.xlsx", args.rows)
        size = (tmp / "r.xlsx").stat().st_size / 1e6
        base_rows = min(args.baseline_rows, args.rows)
        base = run("openpyxl", csv, tmp / "o.xlsx", base_rows)
        scale = args.rows / base_rows
        print(f"{'step':<44}{'seconds':>10}{'peak MB':>10}")
        print(f"{'pandas read_csv alone':<44}{pandas['seconds']:>10.1f}{pandas['peak_mb']:>10.0f}")
        print(f"{'reviewkit import into Facts':<44}{ours['seconds']:>10.1f}{ours['peak_mb']:>10.0f}"
              f"   ({size:.0f} MB workbook)")
        label = f"pandas + openpyxl ({base_rows:,} rows x {scale:g})"
        print(f"{label:<44}{base['seconds'] * scale:>10.1f}{base['peak_mb']:>10.0f}"
              f"   (measured {base['seconds']:.1f} s; memory not scaled)")
        print(f"reviewkit import / pandas read_csv: {ours['seconds'] / pandas['seconds']:.1f}x;"
              f" openpyxl (scaled) / reviewkit import: {base['seconds'] * scale / ours['seconds']:.1f}x")


if __name__ == "__main__":
    main()
