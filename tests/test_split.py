"""split: one workbook per unit, its own rows only, safe file names, anonymous peer benchmarks.

The master is ``builders.master_review()`` (shared with test_rollup.py and test_batch_workflow.py):
six units (three with hostile names), three years of monthly facts, scorecard actuals computed from them.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reviewkit import model

pytest.importorskip("reviewkit.templates", reason="templates.build_workbook has not landed yet")

from reviewkit.errors import InputError, ReviewkitError  # noqa: E402
from reviewkit.reading import read_review  # noqa: E402
from reviewkit.split import (PEER_SHEET, UNIT_PROPERTY, peer_benchmarks, split_review,  # noqa: E402
                             split_workbook)
from reviewkit.templates import build_workbook  # noqa: E402

from builders import EVIL, UNITS, master_review, write_master  # noqa: E402


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    return write_master(tmp_path_factory.mktemp("master") / "master.xlsx")


def test_split_review_gives_each_unit_only_its_rows(master):
    review = read_review(master)
    parts = split_review(review)
    assert list(parts) == UNITS
    for unit, part in parts.items():
        assert set(part.scorecard["unit"]) == {unit}
        assert len(part.scorecard) == 3
        assert set(part.facts["unit"]) == {unit}
        assert len(part.facts) == 3 * 12 * 2
        assert "year" not in part.facts.columns  # the reader's derived column is not a sheet column
        assert len(part.kpis) == 3
    assert len(parts["华东区"].causes) == 1 and parts["华南区"].causes.empty


@pytest.mark.parametrize("total", ["合计", "Total", "小计"])
def test_a_total_row_is_not_split_into_a_workbook_of_its_own(master, total):
    """A master with a total row per KPI (as finance masters often have): every real unit gets
    its workbook with only its rows, and the total gets none."""
    review = read_review(master)
    sc = review.tables["Scorecard"]
    sums = sc.groupby("kpi", as_index=False, sort=False)[["target", "actual"]].sum()
    sums.insert(0, "unit", total)
    review.tables["Scorecard"] = pd.concat([sc, sums], ignore_index=True)
    parts = split_review(review)
    assert list(parts) == UNITS
    assert all(set(part.scorecard["unit"]) == {unit} for unit, part in parts.items())


def test_split_by_an_unknown_column_names_the_choices(master):
    review = read_review(master)
    with pytest.raises(InputError, match="cannot split by") as exc:
        split_review(review, by="渠道")
    assert "segment" in str(exc.value)
    assert list(split_review(review, by="部门")) == UNITS  # a synonym of the unit column


def test_split_by_a_facts_dimension(master):
    parts = split_review(read_review(master), by="segment")
    assert list(parts) == ["大客户", "中小客户"]
    assert set(parts["大客户"].facts["segment"]) == {"大客户"}
    assert parts["大客户"].scorecard.empty  # scorecard rows belong to units, not segments


def test_split_workbook_files_names_contents_and_peers(master, tmp_path):
    out = tmp_path / "dept"
    report = split_workbook(master, out)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["华东区.xlsx", "华南区.xlsx", "华北区.xlsx", "etc_passwd.xlsx", "_CON.xlsx",
                            "=HYPERLINK(_http_evil.example_,_click_).xlsx"])
    assert all(p.parent == out.resolve() for p in (f.path for f in report.files))
    assert not any(".." in n or "/" in n for n in names)
    source = read_review(master)
    for f in report.files:
        r = read_review(f.path)  # each departmental file is a valid review workbook
        mine = source.scorecard[source.scorecard["unit"] == f.unit].reset_index(drop=True)
        pd.testing.assert_frame_equal(r.scorecard[["unit", "kpi", "target", "actual", "last_year"]],
                                      mine[["unit", "kpi", "target", "actual", "last_year"]], check_dtype=False)
        facts = source.facts[source.facts["unit"] == f.unit]
        assert r.facts["revenue"].sum() == pytest.approx(facts["revenue"].sum())
        with zipfile.ZipFile(f.path) as zf:
            custom = zf.read("docProps/custom.xml").decode()
        assert UNIT_PROPERTY in custom
    # the peer sheet: this unit's rank among six, no other unit's name anywhere in the file
    import openpyxl

    f = next(x for x in report.files if x.unit == "华东区")
    wb = openpyxl.load_workbook(f.path)
    ws = wb[PEER_SHEET[0]]
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if any(v is not None for v in r)]
    rev = next(r for r in rows if r[0] == "revenue")
    actual = source.scorecard.set_index(["unit", "kpi"])["actual"]
    revs = {u: actual[(u, "revenue")] for u in UNITS}
    assert rev[3] == pytest.approx(revs["华东区"])
    assert rev[4] == pytest.approx(np.mean(list(revs.values())))
    assert rev[6] == pytest.approx(max(revs.values()))
    assert rev[7] == 1 + sum(v > revs["华东区"] for v in revs.values())
    assert rev[8] == 6
    with zipfile.ZipFile(f.path) as zf:
        text = b"".join(zf.read(n) for n in zf.namelist() if n.endswith(".xml")).decode("utf-8")
    for other in ("华南区", "华北区", "etc/passwd", "evil.example"):
        assert other not in text, other


def test_hostile_unit_name_is_text_not_a_formula(master, tmp_path):
    report = split_workbook(master, tmp_path / "d")
    f = next(x for x in report.files if x.unit == EVIL)
    with zipfile.ZipFile(f.path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = zf.read(name).decode("utf-8")
                formulas = re.findall(r"<f[^>]*>([^<]*)</f>", xml)
                assert not any("evil" in x.lower() for x in formulas), name
    r = read_review(f.path)
    assert set(r.scorecard["unit"]) == {EVIL}  # read back as the same text


def test_existing_files_are_refused_up_front(master, tmp_path):
    out = tmp_path / "d"
    out.mkdir()
    (out / "华南区.xlsx").write_bytes(b"keep me")
    with pytest.raises(ReviewkitError, match="already exist"):
        split_workbook(master, out)
    assert sorted(p.name for p in out.iterdir()) == ["华南区.xlsx"]  # nothing written
    assert (out / "华南区.xlsx").read_bytes() == b"keep me"
    split_workbook(master, out, overwrite=True)
    assert len(list(out.iterdir())) == 6


def test_peer_benchmarks_ranks_lower_is_better(master):
    review = read_review(master)
    review.kpis.loc[review.kpis["key"] == "new_customers", "direction"] = "lower"
    peers = peer_benchmarks(review)
    nc = peers[peers["kpi"] == "new_customers"].set_index("unit")
    assert nc["best"].iloc[0] == pytest.approx(nc["actual"].min())
    assert nc.loc[nc["actual"].idxmin(), "rank"] == 1


def test_a_macro_master_gives_macro_workbooks_with_the_button(tmp_path):
    pytest.importorskip("reviewkit.vba")
    master = build_workbook(tmp_path / "master.xlsm", master_review(), lang="zh", macro=True)
    report = split_workbook(master, tmp_path / "d")
    assert {f.path.suffix for f in report.files} == {".xlsm"}
    with zipfile.ZipFile(report.files[0].path) as zf:
        names = set(zf.namelist())
    assert "xl/vbaProject.bin" in names
    assert read_review(report.files[0].path).scorecard["unit"].tolist() == [UNITS[0]] * 3


def test_a_department_workbook_states_its_rank_among_all_units_of_the_master(master, tmp_path):
    """Its conclusions, scorecard and Peers sheet give the rank of the master's Peers sheet,
    not 1 of 1 (a department workbook's scorecard holds its own rows only)."""
    import openpyxl

    from reviewkit.fill import fill_workbook

    filled_master = tmp_path / "master.xlsx"
    filled_master.write_bytes(master.read_bytes())
    fill_workbook(filled_master)
    report = split_workbook(master, tmp_path / "dept")
    wb = openpyxl.load_workbook(filled_master, data_only=True)
    league = {}  # (KPI name, unit) -> rank on the master's Peers sheet (league tables three across)
    rows = list(wb[model.owned_sheet_name("peers", "zh")].iter_rows(values_only=True))
    for left in range(0, max(len(r) for r in rows), 6):
        kpi_name = None
        for row, below in zip(rows, rows[1:] + [()]):
            cell = row[left] if left < len(row) else None
            if isinstance(cell, str) and below[left:left + 1] == ("排名",):  # a table's title: "销售额（万元）"
                kpi_name = cell.split("（")[0]
            elif kpi_name and isinstance(cell, (int, float)) and isinstance(row[left + 1], str):
                league[(kpi_name, row[left + 1])] = int(cell)
    names = dict(zip(master_review().kpis["key"], master_review().kpis["name"]))
    checked = 0
    for f in report.files:
        fill_workbook(f.path)
        review = read_review(f.path)
        layout = review.layouts["Scorecard"]
        ws = openpyxl.load_workbook(f.path, data_only=True)[layout.sheet]
        for i, kpi in enumerate(review.scorecard["kpi"]):
            n = layout.rows[i]
            text = ws[f"{layout.columns['conclusion']}{n}"].value
            stated = int(re.search(r"部门排名第 (\d+)", text).group(1))
            expected = league[(names[kpi], f.unit)]
            assert stated == expected, (f.unit, kpi, text)
            assert ws[f"{layout.columns['rank']}{n}"].value == expected
            checked += 1
        peers = openpyxl.load_workbook(f.path, data_only=True)[model.owned_sheet_name("peers", "zh")]
        assert any(isinstance(v, str) and "全部 6 个单位" in v for row in peers.iter_rows(values_only=True)
                   for v in row)
    assert checked == 18 and {league[(names["revenue"], u)] for u in UNITS} == set(range(1, 7))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_peer_sheet_prints_one_page_wide_with_no_cut_text(lang):
    """Every header, KPI key and name of 同级对标 / Peer benchmarks fits its column (CJK counting
    two), and the sheet prints landscape, fitted to one page width."""
    from reviewkit.fill.grid import _display_width
    from reviewkit.ooxml.cellref import parse_cell, parse_col
    from reviewkit.split import PEER_FIRST_ROW, peer_sheet_spec

    review = master_review(lang)
    peers = peer_benchmarks(review)
    spec = peer_sheet_spec(peers, UNITS[0], lang, {})
    assert spec.page_setup.landscape and spec.page_setup.fit_width == 1
    widths = {parse_col(str(k)) if isinstance(k, str) else k: float(v) for k, v in spec.col_widths.items()}
    texts = [c for c in spec.cells if isinstance(c.value, str) and parse_cell(c.ref)[0] >= PEER_FIRST_ROW - 1]
    assert len(texts) > len(review.kpis) * 2
    for c in texts:
        assert _display_width(c.value) < widths[parse_cell(c.ref)[1]], (c.ref, c.value)
