"""Bring exports and DataFrames into a review workbook: an ERP CSV, a 飞书 Bitable JSON, pandas.

    python examples/import_exports.py [FOLDER]

Writes 复盘.xlsx into FOLDER (a temporary folder by default):
1. a new workbook with this year's scorecard from a DataFrame (``reviewkit.new(..., tables=...)``);
2. the ERP's GBK sales detail into Facts, its two odd headers mapped, the mapping kept in Settings;
3. the 飞书 task table into Progress by upsert, twice: the second run changes nothing;
then reads the workbook back and prints what each step did.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

import reviewkit
from reviewkit.importing import import_sources
from reviewkit.reading import read_review

SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "data" / "import"


def main(argv: list[str] | None = None) -> Path:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="reviewkit-import-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "复盘.xlsx"
    scorecard = pd.DataFrame({"unit": ["华东", "华南"], "kpi": ["revenue", "revenue"],
                              "target": [1200.0, 900.0], "actual": [1080.0, 945.0], "last_year": [960.0, 850.0]})
    reviewkit.new(path, preset="sales", lang="zh", tables={"scorecard": scorecard}, overwrite=True)
    print(f"new: {path.name} with {len(scorecard)} scorecard rows")
    # an ERP export: GBK, its amount and quantity columns named the ERP's way
    facts = import_sources([SAMPLES / "erp_sales_gbk.csv"], path, table="facts",
                           mapping="价税合计=销售额,数量=订单数", save_map=True)
    print(facts)
    # this week's 飞书 export, twice: upsert updates rows by task id instead of adding them again
    for _ in range(2):
        print(import_sources([SAMPLES / "feishu_bitable_tasks.json"], path, table="progress", mode="upsert"))
    # next month the saved mapping is used without naming it again
    print(import_sources([SAMPLES / "erp_sales_gbk.csv"], path, table="facts", dry_run=True))
    review = read_review(path)
    print(f"read back: {len(review.facts)} fact rows, {len(review.tables['Progress'])} progress rows, "
          f"{len(review.scorecard)} scorecard rows")
    return path


if __name__ == "__main__":
    main()
