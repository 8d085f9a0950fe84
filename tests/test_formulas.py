"""The scorecard formulas give the engine's values once a real spreadsheet engine computes them.

Workbooks are built with XlsxWriter (inputs + formulas), recalculated by LibreOffice in one batch,
and read back with python-calamine. Expected values come from two independent sources: a small
scalar reference written here from the rules in docs/analysis.md, and the analysis engine
(``compare`` / ``rank``), which the fill caches beside every formula.
"""
from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from reviewkit import formulas as F
from reviewkit.analysis import compare, rank

INPUTS = ["unit", "kpi", "target", "actual", "last_year", "year_before", "industry_avg",
          "competitor", "industry_top"]
COMPUTED = list(F.FORMULA_COLUMNS)
COLS = INPUTS + COMPUTED
LETTER = {k: xlsxwriter.utility.xl_col_to_name(i) for i, k in enumerate(COLS)}
FIRST_ROW = 2  # header in row 1


# --- an independent scalar reference ---------------------------------------------------
def ref_achievement(a, t, k):
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
    if x is None or y is None:
        return ""
    return (x - y) * (100 if k.get("pp") else 1)


def ref_pct(x, base):
    if x is None or base is None:
        return ""
    return F.NM if base <= 0 else (x - base) / base


def ref_rank_key(v, k):
    d = k["direction"]
    if d == "higher":
        return v
    if d == "lower":
        return -v
    return ref_achievement(v, None, {**k, "cap": None})


def ref_ranks(rows, kpis, field):
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


# --- expected values from the engine ---------------------------------------------------
def _kpi_frame(kpis):
    return pd.DataFrame([{"key": key, "direction": k["direction"], "green": k.get("green", 1.0),
                          "amber": k.get("amber", 0.9), "neutral_band": k.get("neutral_band"),
                          "range_low": k.get("range_low"), "range_high": k.get("range_high"),
                          "cap": k.get("cap"), "unit": "%" if k.get("pp") else "",
                          "aggregation": "sum"} for key, k in kpis.items()])


def engine_values(rows, kpis, lower_rule="linear", lang="zh"):
    sc = pd.DataFrame(rows)[INPUTS]
    kf = _kpi_frame(kpis)
    c = compare(sc, kf, lower_rule=lower_rule)
    rk = rank(sc, kf, lower_rule=lower_rule)
    rk = rk[rk["kpi"] != "_overall"].set_index(["unit", "kpi"])

    def val(x):
        return "" if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)) else x

    out = []
    for _, r in c.iterrows():
        pp = kpis[r["kpi"]].get("pp", False)
        no_actual = math.isnan(r["actual"])
        nm_t = r["direction"] != "range" and r["target"] == 0 and not no_actual
        # (the engine's inverse rule returns its bound for a missing actual; a blank is meant)
        row = {"achievement": F.NM if nm_t else "" if no_actual else val(r["achievement"]),
               "gap": val(r["gap_pp"] if pp else r["gap"]),
               "change_ly": val(r["change_ly_pp"] if pp else r["change_ly"]),
               "change_ly_pct": F.NM if r["change_ly_nm"] else val(r["change_ly_pct"]),
               "change_yb_pct": (F.NM if not math.isnan(r["actual"]) and r["year_before"] <= 0
                                 else val(r["change_2y_pct"])),
               "status": F.STATUS_LABELS[lang][r["status"]]}
        for b in ("industry_avg", "competitor", "industry_top"):
            row[f"vs_{b}"] = val(r[f"gap_{b}"] * (100 if pp else 1))
        q = rk.loc[(r["unit"], r["kpi"])]
        for col in ("rank", "rank_ly", "rank_change"):
            row[col] = val(q[col])
            if row[col] != "":
                row[col] = int(row[col])
        out.append(row)
    return out


# --- building and recalculating workbooks ----------------------------------------------
def params(k, lower_rule="linear"):
    return F.KpiParams(direction=k["direction"], green=k.get("green", 1.0), amber=k.get("amber", 0.9),
                       neutral_band=k.get("neutral_band"), range_low=k.get("range_low"),
                       range_high=k.get("range_high"), cap=k.get("cap"), pp=k.get("pp", False),
                       lower_rule=lower_rule)


def build(path: Path, rows, kpis, lower_rule="linear", lang="zh"):
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Scorecard")
    for j, key in enumerate(COLS):
        ws.write(0, j, key)
    last = FIRST_ROW + len(rows) - 1
    ranges = F.ColumnRanges(kpi=f"${LETTER['kpi']}${FIRST_ROW}:${LETTER['kpi']}${last}",
                            actual=f"${LETTER['actual']}${FIRST_ROW}:${LETTER['actual']}${last}",
                            last_year=f"${LETTER['last_year']}${FIRST_ROW}:${LETTER['last_year']}${last}")
    for i, r in enumerate(rows):
        n = FIRST_ROW + i
        for j, key in enumerate(INPUTS):
            if r[key] is not None:
                ws.write(n - 1, j, r[key])
        refs = F.RowRefs(**{k: f"{LETTER[k]}{n}" for k in INPUTS[1:]},
                         achievement=f"{LETTER['achievement']}{n}", rank=f"{LETTER['rank']}{n}",
                         rank_ly=f"{LETTER['rank_ly']}{n}")
        forms = F.scorecard_formulas(refs, ranges, params(kpis[r["kpi"]], lower_rule), lang)
        for key, f in forms.items():
            assert f is not None
            ws.write_formula(n - 1, COLS.index(key), "=" + f, None, "")
    wb.close()


def read_back(path: Path, n):
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Scorecard").to_python()
    header = sheet[0]
    out = []
    for line in sheet[1:1 + n]:
        line = list(line) + [""] * (len(header) - len(line))
        out.append({k: ("" if line[header.index(k)] is None else line[header.index(k)]) for k in COMPUTED})
    return out


def same(x, y) -> bool:
    if isinstance(x, str) or isinstance(y, str):
        return x == y
    return math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-12)


def diffs(got, want, rows):
    bad = []
    for i, (g, w) in enumerate(zip(got, want)):
        for k in COMPUTED:
            if not same(g[k], w[k]):
                bad.append((i, rows[i]["unit"], rows[i]["kpi"], k, g[k], w[k]))
    return bad


# --- the cases -------------------------------------------------------------------------
HAND_KPIS = {
    "sales": {"direction": "higher"},
    "cost": {"direction": "lower"},
    "renew": {"direction": "higher", "pp": True, "neutral_band": 0.02},
    "cycle": {"direction": "range", "range_low": 10.0, "range_high": 20.0},
    "cap": {"direction": "higher", "cap": 1.2, "green": 1.05, "amber": 0.95},
    "zero": {"direction": "range", "range_low": 0.0, "range_high": 5.0},
}


def R(unit, kpi, target, actual, ly=None, yb=None, ia=None, co=None, top=None):
    return {"unit": unit, "kpi": kpi, "target": target, "actual": actual, "last_year": ly,
            "year_before": yb, "industry_avg": ia, "competitor": co, "industry_top": top}


HAND_ROWS = [
    R("East", "sales", 1200, 1080, 960, 1000, 1000, 1100, 1500),   # METHOD.md: 90%
    R("West", "sales", 500, 420, 420, 0),                           # 84%, n.m. vs year before
    R("North", "sales", 500, 550, -20, 10),                          # 110%, n.m. vs last year
    R("South", "sales", 0, 30, 30),                                  # target 0 -> n.m., green
    R("Central", "sales", -100, -50, None, None),                    # negative target
    R("Online", "sales", 200, None, 180),                            # no actual -> grey
    R("East", "cost", 100, 80, 90, 95),                              # lower: 120%
    R("West", "cost", 100, 130, 90),                                 # lower: 70%, red
    R("North", "cost", 0, 5, 5),                                     # lower, target 0, red
    R("South", "cost", 100, 80, 80),                                 # tie with East on actual
    R("East", "renew", 0.15, 0.18, 0.16, 0.14, 0.17),                # 120%, pp
    R("West", "renew", 0.8, 0.79, 0.82, 0.80),                       # inside neutral band
    R("North", "renew", 0.8, 45 / 54, 45 / 54),                      # 15-digit trap, ties
    R("South", "renew", 0.8, 45 / 54, 0.7),
    R("East", "cycle", None, 15, 25),                                # range: inside
    R("West", "cycle", None, 8, 9),                                  # below the band
    R("North", "cycle", 30, 26, 15),                                 # above the band
    R("South", "cycle", None, 50, None),                             # far above: 0
    R("East", "cap", 100, 150, 100),                                 # capped at 120%
    R("West", "cap", 100, 100, 101),                                 # amber between .95 and 1.05
    R("North", "cap", None, 100, 99),                                # no target
    R("East", "zero", None, -2, 7),                                  # bound 0: width as reference
    R("West", "zero", None, 9, 3),
]


def random_case(seed: int, n_kpis: int = 8, n_units: int = 9):
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


CASES = {
    "hand_zh": (HAND_ROWS, HAND_KPIS, "linear", "zh"),
    "hand_en_inverse": (HAND_ROWS, HAND_KPIS, "inverse", "en"),
    **{f"random_{s}": (*random_case(s), "linear" if s % 2 else "inverse", "zh" if s % 3 else "en")
       for s in range(16)},
}


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    from conftest import require_libreoffice

    require_libreoffice()
    from reviewkit.libreoffice import recalculate

    src = tmp_path_factory.mktemp("formulas")
    files = {}
    for name, (rows, kpis, rule, lang) in CASES.items():
        files[name] = src / f"{name}.xlsx"
        build(files[name], rows, kpis, rule, lang)
    out = recalculate(list(files.values()), src / "out")
    return {name: out[f.resolve()] for name, f in files.items()}


@pytest.mark.libreoffice
@pytest.mark.parametrize("case", list(CASES))
def test_libreoffice_computes_the_reference_values(recalculated, case):
    rows, kpis, rule, lang = CASES[case]
    kp = {k: {**v, "lower_rule": rule} for k, v in kpis.items()}
    path = recalculated[case]
    assert path is not None, "LibreOffice did not convert the workbook"
    got = read_back(path, len(rows))
    assert diffs(got, reference(rows, kp, lang), rows) == []


@pytest.mark.libreoffice
@pytest.mark.parametrize("case", list(CASES))
def test_libreoffice_computes_the_engine_values(recalculated, case):
    rows, kpis, rule, lang = CASES[case]
    got = read_back(recalculated[case], len(rows))
    assert diffs(got, engine_values(rows, kpis, rule, lang), rows) == []


# --- pure checks (no LibreOffice) --------------------------------------------------------
@pytest.mark.parametrize("case", list(CASES))
def test_reference_agrees_with_the_engine(case):
    rows, kpis, rule, lang = CASES[case]
    kp = {k: {**v, "lower_rule": rule} for k, v in kpis.items()}
    assert diffs(reference(rows, kp, lang), engine_values(rows, kpis, rule, lang), rows) == []


def test_method_examples_by_hand():
    ref = reference(HAND_ROWS, HAND_KPIS)
    assert ref[0]["achievement"] == pytest.approx(0.90)
    assert ref[1]["achievement"] == pytest.approx(0.84)
    assert ref[10]["achievement"] == pytest.approx(1.20)
    assert ref[10]["change_ly"] == pytest.approx(2.0)  # 18% vs 16%: +2 percentage points
    assert ref[6]["achievement"] == pytest.approx(1.20)  # cost 80 vs 100, lower is better
    # sales: East 1080, West 420, North 550, South 30, Central -50; Online has no actual
    assert [ref[i]["rank"] for i in range(6)] == [1, 3, 2, 4, 5, ""]
    # cost (lower is better): East 80, West 130, North 5, South 80 -> ties share rank 2
    assert [ref[i]["rank"] for i in range(6, 10)] == [2, 4, 1, 2]
    assert ref[3]["achievement"] == F.NM and ref[3]["status"] == "达标"
    assert ref[8]["status"] == "未达标"
    assert ref[2]["change_ly_pct"] == F.NM and ref[1]["change_yb_pct"] == F.NM


def test_formulas_use_only_portable_functions():
    import re

    allowed = {"IF", "AND", "OR", "COUNT", "ISNUMBER", "ABS", "MIN", "MAX", "ROUND", "SUMPRODUCT"}
    for name, (rows, kpis, rule, lang) in CASES.items():
        for k in kpis.values():
            refs = F.RowRefs(kpi="B2", target="C2", actual="D2", last_year="E2", year_before="F2",
                             industry_avg="G2", competitor="H2", industry_top="I2",
                             achievement="J2", rank="S2", rank_ly="T2")
            forms = F.scorecard_formulas(refs, F.ColumnRanges("$B$2:$B$9", "$D$2:$D$9", "$E$2:$E$9"),
                                         params(k, rule), lang)
            for f in forms.values():
                used = set(re.findall(r"([A-Z][A-Z0-9.]*)\(", f))
                assert used <= allowed, (f, used - allowed)


def test_missing_columns_give_no_formula():
    refs = F.RowRefs(kpi="B2", target="C2", actual="D2")
    forms = F.scorecard_formulas(refs, F.ColumnRanges("$B$2:$B$9", "$D$2:$D$9"), F.KpiParams())
    assert forms["change_ly"] is None and forms["vs_competitor"] is None and forms["rank_ly"] is None
    assert forms["achievement"] and forms["rank"] and forms["status"]


def test_bad_parameters_are_refused():
    from reviewkit.errors import InputError

    with pytest.raises(InputError):
        F.KpiParams(direction="sideways")
    with pytest.raises(InputError):
        F.KpiParams(direction="range")
    with pytest.raises(InputError):
        F.num(float("inf"))
    assert F.num(0.9) == "0.9" and F.num(2.0) == "2" and F.num(1e-5) == "1E-05"
