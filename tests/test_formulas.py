"""The scorecard formulas give the engine's values once a real spreadsheet engine computes them.

Workbooks are built with XlsxWriter (inputs + formulas), recalculated by LibreOffice in one batch,
and read back with python-calamine. Expected values come from two independent sources: a small
scalar reference (builders.py) written from the rules in docs/analysis.md, and the analysis engine
(``compare`` / ``rank``), which the fill caches beside every formula.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from reviewkit import formulas as F
from reviewkit.analysis import compare, rank

from builders import random_case, reference, same

INPUTS = ["unit", "kpi", "target", "actual", "last_year", "year_before", "industry_avg",
          "competitor", "industry_top"]
COMPUTED = list(F.FORMULA_COLUMNS)
COLS = INPUTS + COMPUTED
LETTER = {k: xlsxwriter.utility.xl_col_to_name(i) for i, k in enumerate(COLS)}
FIRST_ROW = 2  # header in row 1


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
