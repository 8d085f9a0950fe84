"""Builders shared by the test modules, the golden corpus (tests/golden/golden.py) and benchmarks/.

Test modules import what they share from here, never from each other (the OOXML helpers are in
ooxml_helpers.py). Sections: the scalar scorecard reference (an oracle independent of reviewkit's
analysis); review builders (sales, preset, random); reading workbooks back; the split / batch /
rollup master and a small review; editing a table the way a user does; the reader's sample
workbooks; the bad-input cases; a workbook with the user's own content.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import random
import shutil
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import openpyxl
import pandas as pd
import xlsxwriter
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


# --- review workbooks for the reader (XlsxWriter tables, every input stated in full) ---------
def write_book(path: Path, tables: dict[str, dict], *, extra_sheets: dict[str, list[list]] | None = None,
               options: dict | None = None) -> Path:
    """Write an .xlsx with one Excel Table per entry of ``tables``.

    Each entry: ``sheet``, ``headers``, ``rows`` (None = empty cell), optional ``at`` (zero-based
    (row, col) of the header cell; default (2, 0), below a title and a hint row), ``formulas``
    ({header: (formula, [cached value per row])}), ``totals`` (add a totals row), ``name``
    (override the table name).
    """
    wb = xlsxwriter.Workbook(str(path), options or {})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    sheets: dict[str, object] = {}
    for name, t in tables.items():
        ws = sheets.get(t["sheet"]) or wb.add_worksheet(t["sheet"])
        sheets[t["sheet"]] = ws
        r0, c0 = t.get("at", (2, 0))
        if r0 >= 2:
            ws.write(r0 - 2, c0, f"{name} title")
            ws.write(r0 - 1, c0, "hint: fill the white columns")
        rows = t["rows"]
        formulas = t.get("formulas", {})
        columns = []
        for h in t["headers"]:
            col = {"header": h}
            if h in formulas:
                col["formula"] = formulas[h][0]
            columns.append(col)
        last_row = r0 + max(len(rows), 1) + (1 if t.get("totals") else 0)
        options = {"name": t.get("name", name), "columns": columns}
        if t.get("totals"):
            options["total_row"] = True
            columns[0]["total_string"] = "合计"
            for col in columns[1:]:
                col["total_function"] = "sum"
        ws.add_table(r0, c0, last_row, c0 + len(columns) - 1, options)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                h = t["headers"][j]
                if h in formulas:
                    ws.write_formula(r0 + 1 + i, c0 + j, formulas[h][0], None, formulas[h][1][i])
                elif v is None:
                    continue
                elif isinstance(v, (dt.date, dt.datetime)):
                    ws.write_datetime(r0 + 1 + i, c0 + j, v, date_fmt)
                elif isinstance(v, str) and v.startswith("="):
                    ws.write_formula(r0 + 1 + i, c0 + j, v)
                elif isinstance(v, tuple):  # (formula, cached value) in an input column
                    ws.write_formula(r0 + 1 + i, c0 + j, v[0], None, v[1])
                else:
                    ws.write(r0 + 1 + i, c0 + j, v)
    for sheet, cells in (extra_sheets or {}).items():
        ws = sheets.get(sheet) or wb.add_worksheet(sheet)
        for i, row in enumerate(cells):
            for j, v in enumerate(row):
                if v is not None:
                    ws.write(i, j, v)
    wb.close()
    return Path(path)


HEADERS = {
    "zh": {
        "Settings": ["项目", "值", "说明"],
        "KPIs": ["KPI代码", "KPI名称", "单位", "方向", "汇总方式", "明细度量", "分子", "分母", "绿灯阈值", "黄灯阈值"],
        "Scorecard": ["单位", "KPI代码", "目标", "实际", "去年", "前年", "行业平均"],
        "Facts": ["期间", "单位", "行业", "客户规模", "销售额", "到期数", "续约数"],
        "Causes": ["单位", "KPI代码", "类型", "原因", "数据证据", "改进措施", "负责人", "截止日期"],
        "Actions": ["改进事项", "具体措施", "负责人", "完成期限", "状态", "单位", "KPI代码"],
    },
    "en": {
        "Settings": ["Setting", "Value", "Note"],
        "KPIs": ["KPI key", "KPI name", "Unit", "Direction", "Aggregation", "Fact measure", "Numerator", "Denominator", "Green at", "Amber at"],
        "Scorecard": ["Unit", "KPI key", "Target", "Actual", "Last year", "Year before", "Industry average"],
        "Facts": ["Period", "Unit", "Industry", "Size", "Sales", "Due", "Renewed"],
        "Causes": ["Unit", "KPI key", "Kind", "Cause", "Evidence", "Action", "Owner", "Due"],
        "Actions": ["Improvement item", "Measure", "Owner", "Due", "Status", "Unit", "KPI key"],
    },
}
SHEETS = {lang: {t.name: t.sheet(lang) for t in model.TABLES} for lang in ("zh", "en")}


def sample_rows(lang: str = "zh") -> dict[str, list[list]]:
    """The METHOD.md worked examples, typed the way users type them."""
    zh = lang == "zh"
    fact_cols = ("销售额", "到期数", "续约数") if zh else ("Sales", "Due", "Renewed")
    return {
        "Settings": [
            ["复盘年度" if zh else "Review year", 2025, None],
            ["公司" if zh else "Company", "华东科技", None],
            ["进度偏差阈值" if zh else "Deviation threshold", "10%", None],
            ["截止日期" if zh else "As-of date", dt.date(2025, 12, 31), None],
        ],
        "KPIs": [
            ["sales", "销售额", "万元", "越高越好" if zh else "Higher is better", "求和" if zh else "Sum",
             fact_cols[0], None, None, "100%", "90%"],
            ["renew", "续约率", "%", "越高越好" if zh else "Higher is better", "比率" if zh else "Ratio",
             None, fact_cols[2], fact_cols[1], 1, 0.9],
            ["churn", "流失率", "%", "越低越好" if zh else "Lower is better", "平均" if zh else "Average",
             None, None, None, 95, 85],
        ],
        "Scorecard": [
            ["华东", "sales", "1,200万", "1,080万", "1,000万", 900, None],
            ["华东", "renew", "15%", 0.18, "12%", None, "14%"],
            ["华北", "sales", 800, "（500）", "-", None, None],
        ],
        "Facts": [
            ["2025-03", "华东", "互联网", "<300", 1200.5, 10, 8],
            [dt.date(2024, 3, 1), "华东", "制造", "300+", "1,000", 4, 3],
            ["2025Q3", "华北", "互联网", "<300", "2.5万", 6, 6],
        ],
        "Causes": [
            ["华东", "sales", "问题" if zh else "Problem", "预算削减", "40%流失客户转向低价产品", "推出低价套餐", "张三",
             "2026/3/31"],
        ],
        "Actions": [
            ["续约挽回", "低价套餐", "李四", dt.date(2026, 6, 30), "进行中" if zh else "In progress", "华东", "renew"],
        ],
    }


def sample_book(path: Path, lang: str = "zh", **overrides) -> Path:
    """The sample tables written with ``write_book``; ``overrides`` replace (or, None, drop) a table's entry."""
    rows = sample_rows(lang)
    tables = {name: {"sheet": SHEETS[lang][name], "headers": HEADERS[lang][name], "rows": rows[name]}
              for name in rows}
    for name, change in overrides.items():
        if change is None:
            tables.pop(name)
        else:
            tables[name] = {**tables.get(name, {}), **change}
    return write_book(path, tables)


# --- bad inputs: one bad workbook (or file) per case --------------------------------------
# test_check_bad_inputs.py checks each; test_check_agrees_with_fill.py checks that fill agrees.
CORPUS_STRICT = Path(__file__).resolve().parent / "corpus" / "excel-made" / "SampleSS.strict.xlsx"


# --- helpers to damage a good workbook ------------------------------------------------------
def _rewrite_zip(path: Path, change: Callable[[dict[str, bytes]], dict[str, bytes]]) -> None:
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts = change(parts)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)
    path.write_bytes(buf.getvalue())


def good_book(folder: Path, name: str = "review.xlsx", **overrides) -> Path:
    """The zh sample workbook in ``folder`` (see ``sample_book`` for ``overrides``)."""
    return sample_book(folder / name, "zh", **overrides)


def changed_cell(table: str, index: int, column: str, value) -> dict:
    """Override one cell of the sample (zh headers) data: ``{table: {"rows": ...}}``."""
    rows = [list(r) for r in sample_rows("zh")[table]]
    rows[index][HEADERS["zh"][table].index(column)] = value
    return {table: {"rows": rows}}


@dataclass
class Case:
    """One bad input: how to build it, and what its one problem must say and where."""

    id: str
    build: Callable[[Path], Path]
    fragments: tuple[str, ...]  # all must appear in one problem's message
    sheet: str | None = None
    cell: str | None = None
    severity: str = "error"
    extra: dict = field(default_factory=dict)


def missing_file(folder):
    """A path where no file is."""
    return folder / "missing.xlsx"


def _directory(folder):
    d = folder / "looks_like.xlsx"
    d.mkdir()
    return d


def empty_file(folder):
    """A zero-byte .xlsx."""
    p = folder / "empty.xlsx"
    p.write_bytes(b"")
    return p


def csv_file(folder):
    """A CSV export saved with an .xlsx name."""
    p = folder / "export.xlsx"
    p.write_text("单位,目标\n华东,1200\n", encoding="utf-8")
    return p


def _truncated(folder):
    p = good_book(folder, "cut.xlsx")
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    return p


def ole_file(folder, encrypted: bool, name: str):
    """An OLE compound file (an encrypted workbook, or a legacy .xls) named ``name``."""
    p = folder / name
    body = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    body += ("EncryptionInfo" if encrypted else "Workbook").encode("utf-16-le") + b"\x00" * 1024
    p.write_bytes(body)
    return p


def _strict(folder):
    p = folder / "strict.xlsx"
    shutil.copyfile(CORPUS_STRICT, p)  # saved by Excel as Strict Open XML
    return p


def _docx(folder):
    p = folder / "report.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    return p


def _html(folder):
    p = folder / "web_export.xls"
    p.write_text("<html><body><table><tr><td>1</td></tr></table></body></html>", encoding="utf-8")
    return p


def _bomb(folder):
    p = good_book(folder, "bomb.xlsx")
    _rewrite_zip(p, lambda parts: {**parts, "xl/media/padding.bin": b"\x00" * (8 * 1024 * 1024)})
    return p


def _entities(folder):
    p = good_book(folder, "laughs.xlsx")
    evil = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>')
    _rewrite_zip(p, lambda parts: {**parts, "xl/workbook.xml": evil + parts["xl/workbook.xml"].split(b"?>", 1)[1]})
    return p


def _entities_in_strings(folder):
    p = good_book(folder, "strings.xlsx")
    evil = b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    _rewrite_zip(p, lambda parts: {**parts, "xl/sharedStrings.xml":
                                   evil + parts["xl/sharedStrings.xml"].split(b"?>", 1)[1]})
    return p


def _traversal(folder):
    p = good_book(folder, "traversal.xlsx")
    _rewrite_zip(p, lambda parts: {**parts, "../../evil.txt": b"x"})
    return p


def _broken_table_xml(folder):
    p = good_book(folder, "broken_table.xlsx")
    _rewrite_zip(p, lambda parts: {**parts, **{n: d[: len(d) // 2] for n, d in parts.items()
                                              if n.startswith("xl/tables/")}})
    return p


def _damaged_sheet(folder):
    """Bytes flipped inside the compressed cells of the 计分卡 sheet (a bad disk or download)."""
    p = good_book(folder, "damaged.xlsx")
    data = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("xl/worksheets/sheet3.xml")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    for k in range(start + 20, start + 60):
        data[k] ^= 0x5A
    p.write_bytes(bytes(data))
    return p


def _lock_file(folder):
    p = folder / "~$review.xlsx"  # what Excel leaves beside an open workbook
    p.write_bytes(b"\x06user  " + b"\x00" * 100)
    return p


def _plain_cells(folder):
    """The scorecard pasted as plain cells on its sheet: no Excel Table."""
    rows = sample_rows("zh")
    tables = {n: {"sheet": {"Settings": "设置", "KPIs": "KPI定义", "Facts": "明细", "Causes": "原因与经验",
                            "Actions": "改进行动"}[n], "headers": HEADERS["zh"][n], "rows": rows[n]}
              for n in rows if n != "Scorecard"}
    return write_book(folder / "plain.xlsx", tables,
                      extra_sheets={"计分卡": [HEADERS["zh"]["Scorecard"], *rows["Scorecard"]]})


def _renamed_table(folder):
    return good_book(folder, "renamed.xlsx", Scorecard={"name": "Table1"})


def _missing_column(folder):
    return good_book(folder, "nocol.xlsx", Scorecard={"headers": ["单位", "指标名", "目标", "实际", "去年", "前年", "行业平均"]})


def _facts_without_period(folder):
    headers = ["月度"] + HEADERS["zh"]["Facts"][1:]  # "月度" is not a period synonym
    return good_book(folder, "noperiod.xlsx", Facts={"headers": headers})


def _no_header_row(folder):
    p = good_book(folder, "noheader.xlsx")
    _rewrite_zip(p, lambda parts: {**parts, **{n: d.replace(b'<table ', b'<table headerRowCount="0" ', 1)
                                              for n, d in parts.items()
                                              if n.startswith("xl/tables/") and b'name="Scorecard"' in d}})
    return p


def _excel_error(folder):
    p = good_book(folder, "error_cell.xlsx")

    def change(parts):
        n = "xl/worksheets/sheet3.xml"  # 计分卡, the third sheet XlsxWriter wrote
        d = parts[n]
        start = d.index(b'<c r="D4"')
        end = d.index(b"</c>", start) + 4
        parts[n] = d[:start] + b'<c r="D4" t="e"><f>1/0</f><v>#DIV/0!</v></c>' + d[end:]
        return parts

    _rewrite_zip(p, change)
    return p


CASES = [
    # -- files that are not usable workbooks ---------------------------------------------
    Case("missing file", missing_file, ("missing.xlsx", "file not found")),
    Case("directory", _directory, ("looks_like.xlsx", "folder")),
    Case("empty file", empty_file, ("empty.xlsx", "empty (0 bytes)")),
    Case("csv renamed", csv_file, ("export.xlsx", "not a zip")),
    Case("truncated download", _truncated, ("cut.xlsx", "truncated or damaged")),
    Case("encrypted", lambda f: ole_file(f, True, "secret.xlsx"), ("secret.xlsx", "password-protected")),
    Case("legacy xls", lambda f: ole_file(f, False, "old.xls"), ("old.xls", "97-2003 (.xls)", "Save As")),
    Case("strict ooxml", _strict, ("strict.xlsx", "Strict Open XML")),
    Case("word document", _docx, ("report.xlsx", "Word document")),
    Case("html as xls", _html, ("web_export.xls", "HTML")),
    Case("zip bomb", _bomb, ("bomb.xlsx", "zip bomb", "padding.bin")),
    Case("xml entities", _entities, ("laughs.xlsx", "DTD/entities")),
    Case("external entity in shared strings", _entities_in_strings,
         ("strings.xlsx", "xl/sharedStrings.xml", "DTD/entities")),
    Case("path traversal", _traversal, ("traversal.xlsx", "unsafe name", "../../evil.txt")),
    Case("damaged sheet data", _damaged_sheet, ("damaged.xlsx", "cannot be read", "save it again"), sheet="计分卡"),
    Case("broken table xml", _broken_table_xml, ("broken_table.xlsx", "not well-formed XML")),
    # -- tables and columns -------------------------------------------------------------
    Case("no table, plain cells", _plain_cells, ("plain.xlsx", "no Excel Table named 'Scorecard'", "Insert > Table"),
         sheet="计分卡"),
    Case("table with another name", _renamed_table, ("renamed.xlsx", "Table1", "rename it to 'Scorecard'"),
         sheet="计分卡", cell="A3:G6"),
    Case("missing required column", _missing_column, ("nocol.xlsx", "lacks the required column 'KPI代码'", "指标名"),
         sheet="计分卡", cell="A3:G3"),
    Case("detail facts without a period column", _facts_without_period,
         ("noperiod.xlsx", "lacks the required column '期间'", "月度"), sheet="明细", cell="A3:G3"),
    Case("no header row", _no_header_row, ("noheader.xlsx", "no header row"), sheet="计分卡"),
    # -- values ---------------------------------------------------------------------------
    Case("text where a number belongs", lambda f: good_book(f, "text.xlsx", **changed_cell("Scorecard", 1, "目标", "很多")),
         ("text.xlsx", "not a number", "'很多'", "column '目标'"), sheet="计分卡", cell="C5"),
    Case("two decimal points", lambda f: good_book(f, "dots.xlsx", **changed_cell("Scorecard", 0, "实际", "1.2.3")),
         ("dots.xlsx", "more than one decimal point", "'1.2.3'"), sheet="计分卡", cell="D4"),
    Case("double percent", lambda f: good_book(f, "pct.xlsx", **changed_cell("Scorecard", 1, "去年", "12%%")),
         ("pct.xlsx", "more than one percent sign", "'12%%'"), sheet="计分卡", cell="E5"),
    Case("excel error value", _excel_error, ("error_cell.xlsx", "'#DIV/0!'"), sheet="计分卡", cell="D4"),
    Case("required value empty", lambda f: good_book(f, "blankunit.xlsx", **changed_cell("Scorecard", 2, "单位", None)),
         ("blankunit.xlsx", "required '单位' is empty"), sheet="计分卡", cell="A6"),
    Case("unknown direction", lambda f: good_book(f, "dir.xlsx", **changed_cell("KPIs", 0, "方向", "sideways")),
         ("dir.xlsx", "unknown value", "'sideways'", "越高越好 / Higher is better"), sheet="KPI定义", cell="D4"),
    Case("unknown cause kind", lambda f: good_book(f, "kind.xlsx", **changed_cell("Causes", 0, "类型", "maybe")),
         ("kind.xlsx", "unknown value", "'maybe'", "问题 / Problem"), sheet="原因与经验", cell="C4"),
    Case("unknown action status", lambda f: good_book(f, "status.xlsx", **changed_cell("Actions", 0, "状态", "half done")),
         ("status.xlsx", "unknown value", "'half done'"), sheet="改进行动", cell="E4"),
    Case("date that is not a date", lambda f: good_book(f, "due.xlsx", **changed_cell("Causes", 0, "截止日期", "next week")),
         ("due.xlsx", "not a date", "'next week'", "column '截止日期'"), sheet="原因与经验", cell="H4"),
    Case("month 13", lambda f: good_book(f, "m13.xlsx", **changed_cell("Actions", 0, "完成期限", "2025-13-01")),
         ("m13.xlsx", "month 13 does not exist", "'2025-13-01'"), sheet="改进行动", cell="D4"),
    Case("bad period in facts", lambda f: good_book(f, "period.xlsx", **changed_cell("Facts", 1, "期间", "someday")),
         ("period.xlsx", "'someday'", "expected a period"), sheet="明细", cell="A5"),
    Case("text in a measure", lambda f: good_book(f, "measure.xlsx", **changed_cell("Facts", 2, "销售额", "n/a")),
         ("measure.xlsx", "measure column '销售额'", "'n/a'"), sheet="明细", cell="E6"),
    Case("setting that is not a year", lambda f: good_book(f, "year.xlsx", **changed_cell("Settings", 0, "值", "明年")),
         ("year.xlsx", "not a number", "'明年'", "setting '复盘年度'", "expected a year such as 2025"),
         sheet="设置", cell="B4"),
    Case("setting year out of range", lambda f: good_book(f, "y3.xlsx", **changed_cell("Settings", 0, "值", 25)),
         ("y3.xlsx", "not a year", "setting '复盘年度'", "expected a year such as 2025"), sheet="设置", cell="B4"),
    # -- across rows and tables -----------------------------------------------------------
    Case("unknown KPI in scorecard", lambda f: good_book(f, "kpi.xlsx", **changed_cell("Scorecard", 2, "KPI代码", "salez")),
         ("kpi.xlsx", "unknown KPI key in table 'Scorecard'", "'salez'", "renew"), sheet="计分卡", cell="B6"),
    Case("KPI key in the wrong case", lambda f: good_book(f, "case.xlsx", **changed_cell("Scorecard", 2, "KPI代码", "Sales")),
         ("case.xlsx", "unknown KPI key", "'Sales'", "'sales' (keys are matched exactly)"), sheet="计分卡", cell="B6"),
    Case("KPIs table left empty", lambda f: good_book(f, "nokpis.xlsx", KPIs={"rows": [[None] * 10]}),
         ("nokpis.xlsx", "unknown KPI key in table 'Scorecard'", "'sales'", "(none yet)"), sheet="计分卡", cell="B4"),
    Case("unknown KPI in causes", lambda f: good_book(f, "ckpi.xlsx", **changed_cell("Causes", 0, "KPI代码", "profit")),
         ("ckpi.xlsx", "unknown KPI key in table 'Causes'", "'profit'"), sheet="原因与经验", cell="B4"),
    Case("unknown KPI in actions", lambda f: good_book(f, "akpi.xlsx", **changed_cell("Actions", 0, "KPI代码", "nps")),
         ("akpi.xlsx", "unknown KPI key in table 'Actions'", "'nps'"), sheet="改进行动", cell="G4"),
    Case("duplicate unit and KPI", lambda f: good_book(f, "dup.xlsx", **changed_cell("Scorecard", 2, "单位", "华东")),
         ("dup.xlsx", "duplicate row in table 'Scorecard'", "'华东 + sales'", "same 单位 + KPI代码 as B4"),
         sheet="计分卡", cell="B6"),
    Case("duplicate KPI key", lambda f: good_book(f, "dupkpi.xlsx", **changed_cell("KPIs", 2, "KPI代码", "renew")),
         ("dupkpi.xlsx", "duplicate row in table 'KPIs'", "'renew'"), sheet="KPI定义", cell="A6"),
    Case("ratio numerator not in facts", lambda f: good_book(f, "num.xlsx", **changed_cell("KPIs", 1, "分子", "续费数")),
         ("num.xlsx", "numerator '续费数' is not a column of table 'Facts'", "销售额, 到期数, 续约数"),
         sheet="KPI定义", cell="G5"),
    Case("ratio without denominator", lambda f: good_book(f, "den.xlsx", **changed_cell("KPIs", 1, "分母", None)),
         ("den.xlsx", "ratio KPI 'renew' has no denominator"), sheet="KPI定义", cell="H5"),
    Case("measure is a text column", lambda f: good_book(f, "dimmeasure.xlsx", **changed_cell("KPIs", 0, "明细度量", "行业")),
         ("dimmeasure.xlsx", "measure '行业' is a text column"), sheet="KPI定义", cell="F4"),
    Case("percent KPI with mixed scales", lambda f: good_book(f, "scale.xlsx", **changed_cell("Scorecard", 1, "目标", 15)),
         ("scale.xlsx", "KPI 'renew' is a percentage but this row mixes scales: 目标 15 vs 实际 0.18", "15%"),
         sheet="计分卡", cell="C5", severity="warning"),
    Case("excel lock file", _lock_file,
         ("~$review.xlsx", "temporary lock file", "'review.xlsx'")),
    Case("target of zero", lambda f: good_book(f, "zero.xlsx", **changed_cell("Scorecard", 2, "目标", 0)),
         ("zero.xlsx", "target of 华北 / sales is 0", "(found 0)"), sheet="计分卡", cell="C6", severity="warning"),
]


# --- reading a workbook's package ------------------------------------------------------------
def part_of(book: Path, table: str) -> tuple[str, str]:
    """(table part, sheet part) of ``table``."""
    with zipfile.ZipFile(book) as zf:
        for n in zf.namelist():
            if n.startswith("xl/tables/") and f'displayName="{table}"'.encode() in zf.read(n):
                tpart = n
        for n in zf.namelist():
            if n.startswith("xl/worksheets/_rels/") and tpart.rsplit("/", 1)[1].encode() in zf.read(n):
                return tpart, "xl/worksheets/" + n.rsplit("/", 1)[1][:-5]
    raise AssertionError(table)


# --- a workbook with the user's own content -------------------------------------------------
VBA = Path(__file__).resolve().parents[1] / "src" / "reviewkit" / "data" / "vbaProject.bin"

USER_KPIS = [  # key, name, unit, direction, weight
    ("revenue", "销售额", "万元", "越高越好", 3),
    ("cost", "费用", "万元", "越低越好", 1),
    ("renew", "续约率", "%", "越高越好", 2),
]
USER_UNITS = ["华东", "华北", "华南"]
USER_DATA = {("华东", "revenue"): (1200, 1080, 960, 900), ("华北", "revenue"): (1000, 1100, 1000, 950),
        ("华南", "revenue"): (800, 820, 850, 700), ("华东", "cost"): (100, 90, 95, 99),
        ("华北", "cost"): (100, 120, 100, 98), ("华南", "cost"): (80, 80, 82, 0),
        ("华东", "renew"): (0.8, 0.75, 0.78, 0.7), ("华北", "renew"): (0.8, 0.82, 0.8, 0.81),
        ("华南", "renew"): (0.8, 0.8, 0.79, 0.77)}


def png_bytes() -> bytes:
    """A 2x2 red PNG (no Pillow needed)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def build_user_content(path: Path, tmp: Path, computed: bool = True) -> None:
    """A zh review workbook made by another writer (XlsxWriter) with the user's own things: a comment,
    a colour scale, a sparkline, a picture, a chart, a button, a list validation, a sheet with the name
    reviewkit would use, a text box, a defined name (and a VBA project in an .xlsm). ``computed=False``:
    the scorecard has input columns only."""
    wb = xlsxwriter.Workbook(str(path))
    if path.suffix == ".xlsm":
        wb.add_vba_project(str(VBA))
    settings = wb.add_worksheet("设置")
    rows = [("公司", "示例公司"), ("复盘年度", 2025), ("比较单位", "区域")]
    settings.add_table(0, 0, len(rows), 1, {"name": "Settings", "columns": [{"header": "项目"}, {"header": "值"}],
                                            "data": [list(r) for r in rows]})
    kp = wb.add_worksheet("KPI定义")
    kp.add_table(0, 0, len(USER_KPIS), 4, {"name": "KPIs", "data": [list(k) for k in USER_KPIS], "columns": [
        {"header": h} for h in ("KPI代码", "KPI名称", "单位", "方向", "权重")]})
    ws = wb.add_worksheet("计分卡")
    cols = model.SCORECARD.columns if computed else model.SCORECARD.input_columns
    data = []
    for u in USER_UNITS:
        for key, *_ in USER_KPIS:
            t, a, ly, yb = USER_DATA[(u, key)]
            data.append([u, key, t, a, ly, yb, None, None, None] + [None] * (len(cols) - 9))
    last = len(data)
    ws.add_table(0, 0, last, len(cols) - 1, {"name": "Scorecard", "data": data,
                                             "columns": [{"header": c.zh} for c in cols]})
    # the user's own things on the scorecard sheet
    ws.write_comment("D2", "实际值来自财务系统 ERP 导出", {"author": "Li"})
    ws.conditional_format(f"D2:D{last + 1}", {"type": "3_color_scale"})
    ws.add_sparkline(f"X2", {"range": f"计分卡!C2:F2"})
    ws.insert_image("Y2", "logo.png", {"image_data": __import__("io").BytesIO(png_bytes())})
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"categories": f"=计分卡!$A$2:$A$4", "values": f"=计分卡!$D$2:$D$4", "name": "实际"})
    ws.insert_chart("Y8", chart)
    ws.insert_button("Y25", {"macro": "Refresh" if path.suffix == ".xlsm" else "", "caption": "刷新"})
    ws.data_validation(f"A2:A{last + 1}", {"validate": "list", "source": USER_UNITS})
    # a sheet of their own with a text box and a defined name
    mine = wb.add_worksheet("汇总")  # the user's own summary sheet, with the name reviewkit would use
    mine.write("A1", "我自己的汇总")
    notes = wb.add_worksheet("我的备注")
    notes.write("A1", "会议纪要")
    notes.insert_textbox("B3", "下季度重点：华北费用", {"width": 300})
    wb.define_name("目标合计", "=SUM(计分卡!$C$2:$C$10)")
    wb.close()
