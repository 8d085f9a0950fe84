"""``reviewkit fill``: results written beside the inputs, live, idempotent, nothing else touched.

Expected scorecard values come from the independent scalar reference in builders.py, not
from fill's own code. LibreOffice recalculates every filled workbook in one batch; every formula
cell it computes must equal the value fill cached beside it.
"""
from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from reviewkit import formulas as F
from reviewkit import model
from reviewkit.errors import ValidationError
from reviewkit.fill import (FILLED_AT_PROPERTY, FINGERPRINT_PROPERTY, build_fill_plan, fill_workbook, fingerprint,
                            is_stale)
from reviewkit.ooxml import WorkbookEditor
from reviewkit.reading import read_review
from reviewkit.templates import build_workbook

from builders import formula_cells, preset_review, random_review, reference, sales_review, same, same_cell, sheet_rows


def make(tmp: Path, name: str, review: model.Review, macro: bool = False) -> Path:
    path = tmp / (name + (".xlsm" if macro else ".xlsx"))
    build_workbook(path, review, lang=review.lang, macro=macro, overwrite=True)
    return path


# --- reading back ---------------------------------------------------------------------------


def scorecard_cells(path: Path, review: model.Review) -> list[dict]:
    lay = review.layouts["Scorecard"]
    grid = sheet_rows(path, lay.sheet)
    out = []
    for r in lay.rows:
        line = grid[r - 1]
        got = {}
        for key in F.FORMULA_COLUMNS + ("conclusion",):
            j = openpyxl.utils.column_index_from_string(lay.columns[key]) - 1
            v = line[j] if j < len(line) else ""
            got[key] = "" if v is None else v
        out.append(got)
    return out


def reference_for(review: model.Review) -> list[dict]:
    """The test's own scalar reference over the review's inputs."""
    sc = review.scorecard
    kp = {}
    for k in review.kpis.itertuples():
        agg = getattr(k, "aggregation", "") or ""
        unit = "" if pd.isna(k.unit) else k.unit
        kp[k.key] = {"direction": k.direction, "green": 1.0 if pd.isna(k.green) else k.green,
                     "amber": 0.9 if pd.isna(k.amber) else k.amber,
                     "neutral_band": None if pd.isna(k.neutral_band) else k.neutral_band,
                     "range_low": None if pd.isna(k.range_low) else k.range_low,
                     "range_high": None if pd.isna(k.range_high) else k.range_high,
                     "pp": unit == "%" or (agg == "ratio" and unit in ("", "%"))}

    def v(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

    rows = [{"unit": r.unit, "kpi": r.kpi, **{c: v(getattr(r, c, None)) for c in
                                              ("target", "actual", "last_year", "year_before", "industry_avg",
                                               "competitor", "industry_top")}} for r in sc.itertuples()]
    return reference(rows, kp, review.lang)


def mismatches(got: list[dict], want: list[dict]) -> list:
    bad = []
    for i, (g, w) in enumerate(zip(got, want)):
        for k in F.FORMULA_COLUMNS:
            if not same(g[k], w[k]):
                bad.append((i, k, g[k], w[k]))
    return bad


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


# --- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fill")
    out = {}
    for name, review, macro in (("sales_zh", sales_review("zh"), False), ("sales_en", sales_review("en", 2), False),
                                ("macro_zh", sales_review("zh", 3, units=3), True),
                                ("random_1", random_review(1), False), ("random_2", random_review(2), False),
                                ("membership_en", preset_review("membership", "en"), False),
                                ("saas_zh", preset_review("saas", "zh", 6), False),
                                ("product_en", preset_review("product", "en", 7), False)):
        src = make(tmp, name, review, macro)
        blank = tmp / ("orig_" + src.name)
        blank.write_bytes(src.read_bytes())
        before = read_review(src)
        result = fill_workbook(src)
        out[name] = {"path": src, "orig": blank, "review": before, "result": result}
    return out


# --- behaviour ------------------------------------------------------------------------------
CASES = ["sales_zh", "sales_en", "macro_zh", "random_1", "random_2", "membership_en", "saas_zh", "product_en"]


@pytest.mark.parametrize("name", CASES)
def test_cached_values_are_the_reference_values(filled, name):
    f = filled[name]
    assert f["result"].changed
    got = scorecard_cells(f["path"], f["review"])
    assert mismatches(got, reference_for(f["review"])) == []
    # the conclusion is text naming the KPI
    assert all(isinstance(g["conclusion"], str) and g["conclusion"] for g in got)


def test_pandas_reads_numbers_without_recalculation(filled):
    f = filled["sales_en"]
    lay = f["review"].layouts["Scorecard"]
    df = pd.read_excel(f["path"], sheet_name=lay.sheet, header=lay.header_row - 1, engine="calamine")
    ach = df[lay.headers["achievement"]]
    want = [w["achievement"] for w in reference_for(f["review"])]
    for got, w in zip(ach, want):
        if w == "":
            assert got == "" or pd.isna(got)
        else:
            assert got == pytest.approx(w, rel=1e-9)


def test_inputs_and_foreign_parts_untouched(filled):
    for name in ("sales_zh", "macro_zh"):
        f = filled[name]
        before, after = parts(f["orig"]), parts(f["path"])
        assert set(before) <= set(after)
        lay = f["review"].layouts["Scorecard"]
        changed = {n for n in before if before[n] != after[n]}
        allowed = {"xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                   "docProps/custom.xml", "_rels/.rels"}
        scorecard_part = _sheet_part(f["orig"], lay.sheet)
        ny = f["review"].layouts.get("NextYear")
        if ny is not None and not f["review"].table("NextYear").empty:  # quarterly targets are written there
            allowed.add(_sheet_part(f["orig"], ny.sheet))
        assert changed - allowed - {scorecard_part} == set(), changed
        if name == "macro_zh":
            assert before["xl/vbaProject.bin"] == after["xl/vbaProject.bin"]
        # every input column reads the same
        grid0, grid1 = sheet_rows(f["orig"], lay.sheet), sheet_rows(f["path"], lay.sheet)
        inputs = [openpyxl.utils.column_index_from_string(lay.columns[c.key]) - 1
                  for c in model.SCORECARD.input_columns if c.key in lay.columns]
        for r in range(len(grid0)):
            for j in inputs:
                assert grid0[r][j] == grid1[r][j]


def _sheet_part(path: Path, sheet: str) -> str:
    with WorkbookEditor.open(path) as ed:
        return ed.sheet(sheet).part


def test_second_fill_changes_nothing(filled, tmp_path):
    f = filled["sales_zh"]
    data = f["path"].read_bytes()
    again = fill_workbook(f["path"])
    assert not again.changed and "unchanged" in str(again)
    assert f["path"].read_bytes() == data
    # filling the original into two outputs gives the same parts (time stamp aside)
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    fill_workbook(f["orig"], out=a)
    fill_workbook(a, out=b)
    pa, pb = parts(a), parts(b)
    assert pa.keys() == pb.keys()
    assert {n for n in pa if pa[n] != pb[n]} <= {"docProps/custom.xml"}


def test_stamp_and_staleness(filled, tmp_path):
    f = filled["sales_en"]
    with WorkbookEditor.open(f["path"]) as ed:
        assert ed.get_custom_property(FINGERPRINT_PROPERTY) == fingerprint(f["review"])
        assert str(ed.get_custom_property(FILLED_AT_PROPERTY)).startswith("20")
    assert is_stale(f["orig"]) is None
    assert is_stale(f["path"]) is False
    # a user changes an actual in Excel: the results on the owned sheets are now stale
    edited = tmp_path / "edited.xlsx"
    lay = f["review"].layouts["Scorecard"]
    with WorkbookEditor.open(f["path"]) as ed:
        ed.sheet(lay.sheet).write(lay.cell("actual", 0), 99999)
        ed.save(edited)
    assert is_stale(edited) is True
    assert fill_workbook(edited).changed
    assert is_stale(edited) is False


def test_invalid_workbook_is_not_touched(tmp_path):
    review = sales_review("en")
    review.tables["Scorecard"].loc[0, "kpi"] = "no_such_kpi"
    path = make(tmp_path, "bad", review)
    data = path.read_bytes()
    with pytest.raises(ValidationError) as exc:
        fill_workbook(path)
    assert "no_such_kpi" in str(exc.value) or exc.value.problems
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.xlsx"]


def test_owned_sheets_exist_in_both_languages(filled):
    for name, lang in (("sales_zh", "zh"), ("sales_en", "en")):
        wb = CalamineWorkbook.from_path(str(filled[name]["path"]))
        for key in ("summary", "breakdown", "peers", "timeline"):
            assert model.owned_sheet_name(key, lang) in wb.sheet_names
        assert wb.sheet_names.index(model.owned_sheet_name("summary", lang)) == 1


def test_summary_puts_what_matters_first(filled):
    f = filled["sales_zh"]
    rows = sheet_rows(f["path"], "汇总")
    head = next(i for i, r in enumerate(rows) if r[:2] == ["单位", "KPI"])
    body = []
    for r in rows[head + 1:]:
        if not r[0]:
            break
        body.append(r)
    assert len(body) == len(f["review"].scorecard)
    # weight x severity never increases down the list
    sev = {"未达标": 3, "预警": 2}
    weight = dict(zip(f["review"].kpis["name"], f["review"].kpis["weight"]))
    keys = [float(weight[r[1]]) * sev.get(r[5], 1) for r in body]
    assert keys == sorted(keys, reverse=True)


def test_plan_is_plain_data(filled):
    f = filled["sales_en"]
    plan = build_fill_plan(f["review"])
    sheets = {f["review"].layouts[t].sheet for t in ("Scorecard", "NextYear")}
    assert {c.sheet for c in plan.cells} == sheets
    assert all(c.formula is None or c.formula.startswith("=") for c in plan.cells)
    assert plan.formulas > 0 and plan.fingerprint == fingerprint(f["review"])
    assert [s.key for s in plan.sheets] == ["summary", "breakdown", "peers", "timeline", "execution"]
    setups = {s.key: s.spec.page_setup for s in plan.sheets}
    assert all(p.landscape for p in setups.values())
    # the summary is one page (its print area); breakdown places its own page breaks at a fixed scale
    assert (setups["summary"].fit_width, setups["summary"].fit_height) == (1, 1) and setups["summary"].print_area
    assert setups["breakdown"].scale and plan.sheets[1].spec.row_breaks
    assert all(p.fit_height == 0 for k, p in setups.items() if k not in ("summary", "breakdown"))
    assert setups["execution"].fit_width == 1
    assert any(ch.kind == "waterfall" for s in plan.sheets for ch in s.spec.charts)
    assert any(ch.kind == "stacked_column" for s in plan.sheets for ch in s.spec.charts)


# --- LibreOffice: every formula cell equals its cached value ----------------------------
@pytest.fixture(scope="module")
def recalculated(filled, tmp_path_factory):
    from conftest import require_libreoffice

    require_libreoffice()
    from reviewkit.libreoffice import recalculate

    out = tmp_path_factory.mktemp("fill_lo")
    res = recalculate([f["path"] for f in filled.values()], out)
    return {name: res[f["path"].resolve()] for name, f in filled.items()}


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", CASES)
def test_libreoffice_agrees_with_every_cached_value(filled, recalculated, name):
    f = filled[name]
    lo = recalculated[name]
    assert lo is not None
    bad = []
    n = 0
    for sheet, cells in formula_cells(f["path"]).items():
        cached, recalc = sheet_rows(f["path"], sheet), sheet_rows(lo, sheet)
        for r, c in cells:
            n += 1
            a = cached[r][c] if c < len(cached[r]) else ""
            b = recalc[r][c] if r < len(recalc) and c < len(recalc[r]) else ""
            a, b = ("" if a is None else a), ("" if b is None else b)
            if not same_cell(a, b):
                bad.append((sheet, r + 1, c + 1, a, b))
    assert n > 100
    assert bad == []


def test_cli_fill(tmp_path):
    from click.testing import CliRunner

    from reviewkit.cli import main

    good = make(tmp_path, "cli_good", sales_review("en", 4, units=2))
    out = tmp_path / "cli_out.xlsx"
    res = CliRunner().invoke(main, ["fill", str(good), "-o", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert res.output.startswith(f"filled {out}") and out.exists()
    review = sales_review("en", 4, units=2)
    review.tables["Scorecard"].loc[0, "kpi"] = "no_such_kpi"
    bad = make(tmp_path, "cli_bad", review)
    data = bad.read_bytes()
    res = CliRunner().invoke(main, ["fill", str(bad)], catch_exceptions=False)
    assert res.exit_code == 2
    assert "cli_bad.xlsx" in res.output and "no_such_kpi" in res.output
    assert bad.read_bytes() == data


def test_output_must_keep_the_file_type(tmp_path):
    from reviewkit.errors import InputError

    good = make(tmp_path, "keep", sales_review("en", 4, units=2))
    with pytest.raises(InputError):
        fill_workbook(good, out=tmp_path / "keep.xlsm")


def test_quarterly_targets_add_up(filled):
    f = filled["sales_zh"]
    lay = f["review"].layouts["NextYear"]
    grid = sheet_rows(f["path"], lay.sheet)
    col = {k: openpyxl.utils.column_index_from_string(v) - 1 for k, v in lay.columns.items()}
    rows = [grid[r - 1] for r in lay.rows]
    for r in rows[:2]:  # additive KPIs: split by last years' seasonality, adding up to the year
        q = [r[col[k]] for k in ("q1", "q2", "q3", "q4")]
        assert sum(q) == pytest.approx(r[col["annual_target"]])
        assert all(x > 0 for x in q) and len(set(q)) > 1
    churn = rows[2]  # a ratio KPI is not split: every quarter carries the annual rate
    assert [churn[col[k]] for k in ("q1", "q2", "q3", "q4")] == [pytest.approx(0.085)] * 4


def test_values_typed_over_computed_cells_are_kept(filled, tmp_path):
    f = filled["sales_en"]
    lay = f["review"].layouts["Scorecard"]
    ach, status = lay.cell("achievement", 3), lay.cell("status", 4)
    edited = tmp_path / "override.xlsx"
    with WorkbookEditor.open(f["path"]) as ed:
        ws = ed.sheet(lay.sheet)
        ws.write(ach, 0.5)
        ws.write(status, "agreed with CFO")
        ed.save(edited)
    result = fill_workbook(edited)
    assert ach in str(result) and status in str(result)
    got = scorecard_cells(edited, f["review"])
    assert got[3]["achievement"] == 0.5 and got[4]["status"] == "agreed with CFO"
    want = reference_for(f["review"])
    assert same(got[0]["achievement"], want[0]["achievement"])  # the other cells are still filled
    # clearing the override brings the formula back
    with WorkbookEditor.open(edited) as ed:
        ed.sheet(lay.sheet).write(ach, None)
        ed.save(edited)
    fill_workbook(edited)
    assert same(scorecard_cells(edited, f["review"])[3]["achievement"], want[3]["achievement"])
