"""Fill a review workbook and look at what the write plan contains.

    python examples/fill_review.py [WORKBOOK]

Without an argument it builds a small sales review (4 regions x 6 KPIs, two years of facts) in the
temporary folder, fills it, fills it again (nothing changes the second time) and prints the plan.
"""
from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

import pandas as pd

from reviewkit import model
from reviewkit.fill import build_fill_plan, fill_workbook, is_stale
from reviewkit.presets import fact_column, get_preset
from reviewkit.reading import read_review
from reviewkit.templates import build_workbook

BASE = {"revenue": 1200, "new_customers": 500, "repurchase_rate": 0.3, "churn_rate": 0.1, "sales_cycle": 30,
        "delivery_days": 10}


def example_review(lang: str = "zh", seed: int = 7) -> model.Review:
    rnd = random.Random(seed)
    kpis = get_preset("sales", lang)
    units = ["华东", "华北", "华南", "西部"] if lang == "zh" else ["East", "North", "South", "West"]
    rows = []
    for u in units:
        for k in kpis.itertuples():
            nd = 3 if k.unit == "%" else 0
            t = BASE[k.key] * rnd.uniform(0.9, 1.1)
            a = t * rnd.uniform(0.8, 1.2)
            rows.append({"unit": u, "kpi": k.key, "target": round(t, nd), "actual": round(a, nd),
                         "last_year": round(a * rnd.uniform(0.8, 1.1), nd),
                         "year_before": round(a * rnd.uniform(0.7, 1.0), nd),
                         "industry_avg": BASE[k.key], "industry_top": round(BASE[k.key] * 1.3, 3)})
    facts = []
    inds = ["互联网", "制造", "零售"] if lang == "zh" else ["Internet", "Manufacturing", "Retail"]
    for y in (2024, 2025):
        for m in range(1, 13):
            for u in units:
                for ind in inds:
                    facts.append({"period": f"{y}-{m:02d}", "unit": u, fact_column("industry", lang): ind,
                                  fact_column("sales", lang): float(rnd.randint(20, 60) * (1.1 if y == 2025 else 1)),
                                  fact_column("new_customers", lang): rnd.randint(1, 12),
                                  fact_column("customers", lang): rnd.randint(20, 40),
                                  fact_column("repurchased", lang): rnd.randint(4, 15),
                                  fact_column("churned", lang): rnd.randint(1, 6),
                                  fact_column("orders", lang): rnd.randint(5, 15),
                                  fact_column("cycle_days", lang): rnd.randint(100, 400),
                                  fact_column("delivery_days", lang): rnd.randint(40, 150)})
    settings = {"company": "示例公司" if lang == "zh" else "Acme", "review_year": 2025,
                "unit_label": "区域" if lang == "zh" else "region", "as_of": "2025-12-31", "plan_end": "2026-12-31"}
    return model.Review(tables={"KPIs": kpis, "Scorecard": pd.DataFrame(rows), "Facts": pd.DataFrame(facts)},
                        settings=settings, lang=lang)


def main(argv: list[str]) -> None:
    if argv:
        path = Path(argv[0])
    else:
        path = Path(tempfile.gettempdir()) / "reviewkit_example_review.xlsx"
        build_workbook(path, example_review(), lang="zh", overwrite=True)
    print(fill_workbook(path))
    print(fill_workbook(path))  # the second fill changes nothing
    print("stale:", is_stale(path))
    plan = build_fill_plan(read_review(path))
    first = next(c for c in plan.cells if c.formula)
    print(f"{len(plan.cells)} cells, {plan.formulas} formulas; e.g. {first.sheet}!{first.cell} {first.formula}"
          f" (cached {first.value!r})")
    for s in plan.sheets:
        print(f"owned sheet {s.name}: {len(s.spec.cells)} cells, {len(s.spec.charts)} charts")


if __name__ == "__main__":
    main(sys.argv[1:])
