"""Builders shared by the test modules, the golden corpus (tests/golden/golden.py) and benchmarks/.

Test modules import what they share from here, never from each other. Sections: the scalar
scorecard reference (an oracle independent of reviewkit's analysis), review builders, reading
filled workbooks back.
"""
from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from python_calamine import CalamineWorkbook

from reviewkit import formulas as F
from reviewkit import model
from reviewkit.presets import fact_column, get_preset
from reviewkit.templates import build_workbook


# --- an independent scalar reference ---------------------------------------------------
# Written from the rules in docs/analysis.md, not from reviewkit's code; rows are dicts of the
# scorecard inputs (None = blank), kpis map a key to its direction, bands and thresholds.
def ref_achievement(a, t, k):
    """Achievement of actual ``a`` against target ``t`` under KPI ``k`` ("" when blank)."""
    if a is None:
        return ""
    d = k["direction"]
    if d == "range":
        lo, hi = k.get("range_low"), k.get("range_high")
        if lo is not None and a < lo:
            ref = abs(lo) if lo != 0 else ((hi - lo) if hi is not None and hi > lo else 1.0)
            v = max(0.0, 1 - (lo - a) / ref)
        elif hi is not None and a > hi:
            ref = abs(hi) if hi != 0 else ((hi - lo) if lo is not None and hi > lo else 1.0)
            v = max(0.0, 1 - (a - hi) / ref)
        else:
            v = 1.0
    else:
        if t is None:
            return ""
        if t == 0:
            return F.NM
        if d == "higher":
            v = a / t if t > 0 else 1 + (a - t) / abs(t)
        elif k.get("lower_rule", "linear") == "linear":
            v = 2 - a / t if t > 0 else 1 - (a - t) / abs(t)
        else:
            bound = k.get("cap") or 2.0
            v = (min(t / a, bound) if a > 0 else bound) if t > 0 else 1 - (a - t) / abs(t)
    if k.get("cap") is not None:
        v = min(v, k["cap"])
    return v


def ref_status(a, t, k, lang="zh"):
    """The status label (green / amber / red / neutral / grey) in ``lang``."""
    lab = F.STATUS_LABELS[lang]
    if a is None:
        return lab["grey"]
    if k["direction"] != "range":
        if t is None:
            return lab["grey"]
        if t == 0:
            good = a >= 0 if k["direction"] == "higher" else a <= 0
            return lab["green"] if good else lab["red"]
    r = round(ref_achievement(a, t, k), 9)
    band = k.get("neutral_band")
    if band is not None and abs(r - 1) <= band + 1e-9:
        return lab["neutral"]
    if r >= k.get("green", 1.0):
        return lab["green"]
    return lab["amber"] if r >= k.get("amber", 0.9) else lab["red"]


def ref_diff(x, y, k):
    """x - y, in percentage points for a pp KPI."""
    if x is None or y is None:
        return ""
    return (x - y) * (100 if k.get("pp") else 1)


def ref_pct(x, base):
    """Change of x over base; n.m. for a base at or below zero."""
    if x is None or base is None:
        return ""
    return F.NM if base <= 0 else (x - base) / base


def ref_rank_key(v, k):
    """The sort key that ranks ``v`` best-first under KPI ``k``."""
    d = k["direction"]
    if d == "higher":
        return v
    if d == "lower":
        return -v
    return ref_achievement(v, None, {**k, "cap": None})


def ref_ranks(rows, kpis, field):
    """Competition ranks of ``field`` within each KPI (ties share a rank)."""
    out = []
    for r in rows:
        v = r[field]
        if v is None:
            out.append("")
            continue
        k = kpis[r["kpi"]]
        mine = ref_rank_key(v, k)
        out.append(1 + sum(1 for o in rows if o["kpi"] == r["kpi"] and o[field] is not None
                           and ref_rank_key(o[field], k) > mine))
    return out


def reference(rows, kpis, lang="zh"):
    """Every computed scorecard column of every row, by the scalar reference."""
    rk = ref_ranks(rows, kpis, "actual")
    rl = ref_ranks(rows, kpis, "last_year")
    out = []
    for i, r in enumerate(rows):
        k = kpis[r["kpi"]]
        a, t = r["actual"], r["target"]
        out.append({
            "achievement": ref_achievement(a, t, k), "gap": ref_diff(a, t, k),
            "change_ly": ref_diff(a, r["last_year"], k),
            "change_ly_pct": ref_pct(a, r["last_year"]), "change_yb_pct": ref_pct(a, r["year_before"]),
            "vs_industry_avg": ref_diff(a, r["industry_avg"], k),
            "vs_competitor": ref_diff(a, r["competitor"], k),
            "vs_industry_top": ref_diff(a, r["industry_top"], k),
            "status": ref_status(a, t, k, lang), "rank": rk[i], "rank_ly": rl[i],
            "rank_change": (rl[i] - rk[i]) if rk[i] != "" and rl[i] != "" else "",
        })
    return out


def same(x, y) -> bool:
    """Equal text, or numbers equal to 1e-9 relative."""
    if isinstance(x, str) or isinstance(y, str):
        return x == y
    return math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-12)


def random_case(seed: int, n_kpis: int = 8, n_units: int = 9):
    """(rows, kpis): random KPIs of every direction and values with blanks, zeros, negatives and ties."""
    rnd = random.Random(seed)
    kpis = {}
    for i in range(n_kpis):
        d = rnd.choice(["higher", "higher", "lower", "range"])
        k = {"direction": d, "pp": rnd.random() < 0.3}
        if d == "range":
            lo = rnd.choice([None, 0.0, round(rnd.uniform(-5, 50), 2)])
            hi = None if lo is not None and rnd.random() < 0.3 else round((lo or 0) + rnd.uniform(0, 40), 2)
            k.update(range_low=lo, range_high=hi)
        if rnd.random() < 0.3:
            k["cap"] = rnd.choice([1.2, 1.5])
        if rnd.random() < 0.3:
            k["green"], k["amber"] = rnd.choice([(1.0, 0.9), (1.1, 0.8), (0.95, 0.95)])
        if rnd.random() < 0.3:
            k["neutral_band"] = rnd.choice([0.01, 0.05])
        kpis[f"k{i}"] = k

    def value():
        x = rnd.random()
        if x < 0.08:
            return None
        if x < 0.14:
            return 0
        if x < 0.2:
            return -round(rnd.uniform(1, 50), 1)
        if x < 0.3:
            return rnd.randint(1, 6) * 10  # ties
        if x < 0.4:
            return rnd.randint(1, 99) / rnd.randint(1, 99)  # 17-digit floats
        return round(rnd.uniform(0, 200), rnd.choice([0, 2]))

    rows = []
    for key in kpis:
        for u in range(n_units):
            if rnd.random() < 0.15:
                continue
            rows.append({"unit": f"U{u}", "kpi": key, "target": value(), "actual": value(),
                         "last_year": value(), "year_before": value(), "industry_avg": value(),
                         "competitor": value(), "industry_top": value()})
    return rows, kpis


# --- review builders ---------------------------------------------------------------------
SETTINGS = {"zh": {"company": "示例公司", "review_year": 2025, "unit_label": "区域", "as_of": "2025-12-31",
                   "plan_end": "2026-12-31"},
            "en": {"company": "Acme", "review_year": 2025, "unit_label": "region", "as_of": "2025-12-31",
                   "plan_end": "2026-12-31"}}
BASE = {"revenue": 1200, "new_customers": 500, "repurchase_rate": 0.3, "churn_rate": 0.1, "sales_cycle": 30,
        "delivery_days": 10}


def sales_review(lang: str = "zh", seed: int = 1, units: int = 4) -> model.Review:
    """A sales review with facts for two years, one cause, a blank and a zero-base row."""
    rnd = random.Random(seed)
    kpis = get_preset("sales", lang)
    names = (["华东", "华北", "华南", "西部", "东北"] if lang == "zh" else ["East", "North", "South", "West", "NE"])[:units]
    rows = []
    for u in names:
        for k in kpis.itertuples():
            pct = k.unit == "%"
            nd = 3 if pct else 0
            t = BASE[k.key] * rnd.uniform(0.9, 1.1)
            a = t * rnd.uniform(0.8, 1.2)
            rows.append({"unit": u, "kpi": k.key, "target": round(t, nd), "actual": round(a, nd),
                         "last_year": round(a * rnd.uniform(0.8, 1.1), nd),
                         "year_before": round(a * rnd.uniform(0.7, 1.0), nd),
                         "industry_avg": BASE[k.key], "competitor": None, "industry_top": round(BASE[k.key] * 1.3, 3)})
    rows[1]["actual"] = None  # no actual: grey
    rows[2]["year_before"] = 0  # n.m.
    facts = []
    inds = ["互联网", "制造", "零售"] if lang == "zh" else ["Internet", "Manufacturing", "Retail"]
    for y in (2024, 2025):
        for mo in range(1, 13, 3):
            for u in names:
                for ind in inds:
                    facts.append({"period": f"{y}-{mo:02d}", "unit": u, fact_column("industry", lang): ind,
                                  fact_column("sales", lang): float(rnd.randint(50, 150) * (1.1 if y == 2025 else 1)),
                                  fact_column("new_customers", lang): rnd.randint(5, 30),
                                  fact_column("customers", lang): rnd.randint(50, 100),
                                  fact_column("repurchased", lang): rnd.randint(10, 40),
                                  fact_column("churned", lang): rnd.randint(2, 15),
                                  fact_column("orders", lang): rnd.randint(10, 40),
                                  fact_column("cycle_days", lang): rnd.randint(200, 900),
                                  fact_column("delivery_days", lang): rnd.randint(100, 300)})
    causes = pd.DataFrame([{"unit": names[0], "kpi": "revenue", "kind": "problem", "cause": "price war",
                            "evidence": "40% of lost customers moved to a cheaper product", "action": "cheaper plan",
                            "owner": "Zhang", "due": pd.Timestamp("2026-03-31")}])
    plan = pd.DataFrame([
        {"task_id": "T1", "goal": "Q3 East +20%", "task": "online channels", "owner": "A",
         "start": pd.Timestamp("2026-01-05"), "end": pd.Timestamp("2026-02-27"), "milestone": "N"},
        {"task_id": "T2", "goal": "renewals", "task": "price plan for small firms", "owner": "B",
         "start": pd.Timestamp("2026-02-02"), "end": pd.Timestamp("2026-04-30"), "milestone": "Y"}])
    campaigns = pd.DataFrame([{"name": "618", "start": pd.Timestamp("2026-06-01"), "end": pd.Timestamp("2026-06-18"),
                               "kind": "campaign"}])
    next_year = pd.DataFrame([{"unit": names[0], "kpi": "revenue", "annual_target": 1500.0, "strategy": "new product"},
                              {"unit": names[1], "kpi": "new_customers", "annual_target": 533.0},
                              {"unit": "", "kpi": "churn_rate", "annual_target": 0.085}])
    return model.Review(tables={"KPIs": kpis, "Scorecard": pd.DataFrame(rows), "Facts": pd.DataFrame(facts),
                                "Causes": causes, "Plan": plan, "Campaigns": campaigns, "NextYear": next_year},
                        settings=SETTINGS[lang], lang=lang)


def preset_review(preset: str, lang: str, seed: int = 5, units: int = 3) -> model.Review:
    """Any preset: random scorecard around plausible levels, two years of facts for its measures."""
    from reviewkit.presets import preset_fact_columns

    rnd = random.Random(seed)
    kpis = get_preset(preset, lang)
    names = ["A", "B", "C", "D"][:units]
    rows = []
    for u in names:
        for k in kpis.itertuples():
            pct = k.unit == "%"
            base = rnd.uniform(0.2, 0.9) if pct else rnd.choice([12, 300, 5000])
            nd = 3 if pct else 1
            rows.append({"unit": u, "kpi": k.key, "target": round(base, nd),
                         "actual": round(base * rnd.uniform(0.8, 1.2), nd),
                         "last_year": round(base * rnd.uniform(0.8, 1.2), nd),
                         "year_before": round(base * rnd.uniform(0.7, 1.1), nd),
                         "industry_avg": round(base * rnd.uniform(0.9, 1.1), nd)})
    facts = []
    for y in (2024, 2025):
        for q in ("01", "04", "07", "10"):
            for u in names:
                for ind in ("x", "y", "z"):
                    row = {"period": f"{y}-{q}", "unit": u, fact_column("industry", lang): ind}
                    for c in preset_fact_columns(preset, lang):
                        row[c] = float(rnd.randint(20, 80))
                    facts.append(row)
    return model.Review(tables={"KPIs": kpis, "Scorecard": pd.DataFrame(rows), "Facts": pd.DataFrame(facts)},
                        settings=SETTINGS[lang], lang=lang)


def random_review(seed: int) -> model.Review:
    """An English review of ``random_case(seed)``: six random KPIs over seven units."""
    rows, kpis = random_case(seed, n_kpis=6, n_units=7)
    krows = []
    for key, k in kpis.items():
        if k["direction"] == "range":  # the reader wants both bounds of a band
            lo = k.get("range_low")
            lo = 0.0 if lo is None else lo
            hi = k.get("range_high")
            k["range_low"], k["range_high"] = lo, (lo + 10.0 if hi is None else hi)
        krows.append({"key": key, "name": key.upper(), "unit": "%" if k.get("pp") else "",
                      "direction": k["direction"], "aggregation": "sum", "green": k.get("green", 1.0),
                      "amber": k.get("amber", 0.9), "neutral_band": k.get("neutral_band"),
                      "range_low": k.get("range_low"), "range_high": k.get("range_high"), "weight": 1.0})
    sc = pd.DataFrame(rows).drop_duplicates(["unit", "kpi"])
    return model.Review(tables={"KPIs": pd.DataFrame(krows), "Scorecard": sc}, settings=SETTINGS["en"], lang="en")


# --- reading workbooks back ---------------------------------------------------------------
def sheet_rows(path: Path, sheet: str) -> list[list]:
    """Every row of ``sheet`` as python-calamine reads it (empty area kept)."""
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def same_cell(a, b) -> bool:
    """``same`` for cell values: dates, times and booleans compare exactly."""
    import datetime as dt

    if isinstance(a, (dt.date, dt.datetime, dt.time, dt.timedelta)) or isinstance(b, (dt.date, dt.datetime)):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    return same(a, b)


def formula_cells(path: Path) -> dict[str, list[tuple[int, int]]]:
    """Zero-based (row, column) of every formula cell, by sheet."""
    wb = openpyxl.load_workbook(path, read_only=False)
    out = {}
    for ws in wb.worksheets:
        cells = [(c.row - 1, c.column - 1) for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and c.value.startswith("=")]
        if cells:
            out[ws.title] = cells
    return out


# --- the split / batch / rollup master ------------------------------------------------------
EVIL = '=HYPERLINK("http://evil.example","click")'
UNITS = ["华东区", "华南区", "华北区", "../../etc/passwd", "CON", EVIL]
YEARS = (2023, 2024, 2025)


def master_review(lang: str = "zh", seed: int = 7) -> model.Review:
    """The split / batch / rollup master: six units (three with hostile names), three years of
    monthly facts by segment, scorecard actuals computed from them."""
    rng = np.random.default_rng(seed)
    kpis = pd.DataFrame({
        "key": ["revenue", "new_customers", "renewal_rate"],
        "name": ["销售额", "新客户数", "续约率"],
        "unit": ["万元", "个", "%"],
        "direction": ["higher", "higher", "higher"],
        "aggregation": ["sum", "sum", "ratio"],
        "measure": ["revenue", "new_customers", ""],
        "numerator": ["", "", "renewed"], "denominator": ["", "", "due"],
        "green": [1.0, 1.0, 1.0], "amber": [0.9, 0.9, 0.9],
        "number_format": ["#,##0", "0", "0.0%"],
        "weight": [0.5, 0.3, 0.2],
    })
    facts = []
    for u in UNITS:
        for y in YEARS:
            for m in range(1, 13):
                for seg in ("大客户", "中小客户"):
                    due = float(rng.integers(10, 20))
                    facts.append({"period": pd.Timestamp(y, m, 1), "unit": u, "segment": seg,
                                  "revenue": float(rng.integers(50, 150)),
                                  "new_customers": float(rng.integers(1, 10)),
                                  "due": due, "renewed": float(rng.integers(5, int(due)))})
    facts = pd.DataFrame(facts)
    rows = []
    for u in UNITS:
        by_year = facts[facts["unit"] == u].groupby(facts["period"].dt.year)[
            ["revenue", "new_customers", "due", "renewed"]].sum()
        for key, fn, target in (("revenue", lambda t: t["revenue"], 2400.0),
                                ("new_customers", lambda t: t["new_customers"], 130.0),
                                ("renewal_rate", lambda t: t["renewed"] / t["due"], 0.7)):
            rows.append({"unit": u, "kpi": key, "target": target, "actual": float(fn(by_year.loc[2025])),
                         "last_year": float(fn(by_year.loc[2024])), "year_before": float(fn(by_year.loc[2023]))})
    causes = pd.DataFrame([{"unit": "华东区", "kpi": "renewal_rate", "kind": "problem",
                            "cause": "=1+1 小客户价格敏感", "evidence": "40%流失客户转向低价产品",
                            "action": "推出入门版", "owner": "张三", "due": pd.Timestamp(2026, 3, 31)}])
    return model.Review(
        tables={"KPIs": kpis, "Scorecard": pd.DataFrame(rows), "Facts": facts, "Causes": causes},
        settings={"company": "示例公司", "review_year": 2025, "unit_label": "部门",
                  "as_of": pd.Timestamp(2025, 12, 31), "plan_end": pd.Timestamp(2026, 12, 31)},
        lang=lang, dimensions=["segment"], measures=["revenue", "new_customers", "due", "renewed"])


def write_master(path: Path, lang: str = "zh") -> Path:
    """``master_review(lang)`` written as a review workbook at ``path``."""
    return build_workbook(path, master_review(lang), lang=lang, overwrite=True)


def small_review(units: list[str], seed: int = 3) -> model.Review:
    """A small English review (two KPIs, two years of facts) over the given unit names, for tests
    that go through split, fill and rollup with unit names of their choosing."""
    rng = np.random.default_rng(seed)
    kpis = pd.DataFrame({
        "key": ["revenue", "renewal_rate"], "name": ["Revenue", "Renewal rate"], "unit": ["万元", "%"],
        "direction": ["higher", "higher"], "aggregation": ["sum", "ratio"], "measure": ["revenue", ""],
        "numerator": ["", "renewed"], "denominator": ["", "due"], "green": [1.0, 1.0], "amber": [0.9, 0.9],
        "number_format": ["#,##0", "0.0%"], "weight": [0.6, 0.4]})
    facts, rows = [], []
    for u in units:
        for y in (2024, 2025):
            for m in (3, 9):
                facts.append({"period": pd.Timestamp(y, m, 1), "unit": u, "segment": "big",
                              "revenue": float(rng.integers(50, 150)), "due": 20.0,
                              "renewed": float(rng.integers(5, 20))})
        f = pd.DataFrame(facts)
        mine = f[f["unit"] == u]
        this, last = mine[mine["period"].dt.year == 2025], mine[mine["period"].dt.year == 2024]
        rows.append({"unit": u, "kpi": "revenue", "target": 200.0, "actual": this["revenue"].sum(),
                     "last_year": last["revenue"].sum()})
        rows.append({"unit": u, "kpi": "renewal_rate", "target": 0.7,
                     "actual": this["renewed"].sum() / this["due"].sum(),
                     "last_year": last["renewed"].sum() / last["due"].sum()})
    return model.Review(
        tables={"KPIs": kpis, "Scorecard": pd.DataFrame(rows), "Facts": pd.DataFrame(facts)},
        settings={"company": "Co", "review_year": 2025, "unit_label": "Unit",
                  "as_of": pd.Timestamp(2025, 12, 31), "plan_end": pd.Timestamp(2026, 12, 31)},
        lang="en", dimensions=["segment"], measures=["revenue", "due", "renewed"])


# --- editing a workbook the way a user does ------------------------------------------------
def table_sheet(wb, table_name):
    """(worksheet, table) of the Excel table ``table_name`` in an openpyxl workbook."""
    for ws in wb.worksheets:
        if table_name in ws.tables:
            return ws, ws.tables[table_name]
    raise KeyError(table_name)


def rename_header(path: Path, table_name: str, old: str, new: str) -> None:
    """Rename one header of a table in place, as a user would in Excel (through openpyxl)."""
    wb = openpyxl.load_workbook(path)
    ws, table = table_sheet(wb, table_name)
    min_col, min_row, max_col, max_row = openpyxl.utils.cell.range_boundaries(table.ref)
    for c in range(min_col, max_col + 1):
        if ws.cell(min_row, c).value == old:
            ws.cell(min_row, c).value = new
            break
    else:
        raise AssertionError(f"no header {old}")
    for tc in table.tableColumns:
        if tc.name == old:
            tc.name = new
    wb.save(path)
