"""The yearly loop end to end: split the master, departments edit their files, batch-fill, roll up.

Departments: 华东区 edits a target and adds rows; 华南区 renames a Facts column; CON sends a
corrupt file; 华北区 adds a chart and comments; ../../etc/passwd renames a Scorecard header to a
synonym; the hostile =HYPERLINK name sends its file untouched. Expected values are computed
directly from the master with pandas, not with reviewkit's analysis.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("reviewkit.templates", reason="templates.build_workbook has not landed yet")
openpyxl = pytest.importorskip("openpyxl")

from builders import EVIL, UNITS, master_review, rename_header, table_sheet, write_master  # noqa: E402

from reviewkit.batch import FILLED, run_batch  # noqa: E402
from reviewkit.reading import read_review  # noqa: E402
from reviewkit.rollup import STATUS_SHEET, rollup_workbooks  # noqa: E402
from reviewkit.split import split_workbook  # noqa: E402

pytestmark = pytest.mark.slow


def _edit_and_add_rows(path: Path) -> None:
    """华东区: target 2400 -> 2500, one more fact row, one more cause with an action."""
    wb = openpyxl.load_workbook(path)
    ws, table = table_sheet(wb, "Scorecard")
    min_col, min_row, max_col, max_row = openpyxl.utils.cell.range_boundaries(table.ref)
    headers = {ws.cell(min_row, c).value: c for c in range(min_col, max_col + 1)}
    for r in range(min_row + 1, max_row + 1):
        if ws.cell(r, headers["KPI代码"]).value == "revenue":
            ws.cell(r, headers["目标"]).value = 2500
    ws, table = table_sheet(wb, "Facts")
    min_col, min_row, max_col, max_row = openpyxl.utils.cell.range_boundaries(table.ref)
    headers = {ws.cell(min_row, c).value: c for c in range(min_col, max_col + 1)}
    last = max_row
    while all(ws.cell(last, c).value is None for c in range(min_col, max_col + 1)):
        last -= 1
    new = last + 1
    template = {h: ws.cell(last, c).value for h, c in headers.items()}
    template.update({"revenue": 100, "new_customers": 1, "due": 0, "renewed": 0})
    for h, c in headers.items():
        ws.cell(new, c).value = template[h]
        ws.cell(new, c).number_format = ws.cell(last, c).number_format
    if new > max_row:
        table.ref = f"{openpyxl.utils.get_column_letter(min_col)}{min_row}:" \
                    f"{openpyxl.utils.get_column_letter(max_col)}{new}"
    wb.save(path)


def _add_chart_and_comments(path: Path) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.comments import Comment

    wb = openpyxl.load_workbook(path)
    ws, table = table_sheet(wb, "Scorecard")
    chart = BarChart()
    chart.title = "我们自己的图"
    chart.add_data(Reference(ws, min_col=4, min_row=4, max_row=7), titles_from_data=True)
    ws.add_chart(chart, "Z2")
    ws["B5"].comment = Comment("请财务确认口径", "王五")
    wb.save(path)


def _user_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()
                if re.match(r"xl/(charts/chart|comments|drawings/drawing|drawings/vmlDrawing)", n)}


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    base = tmp_path_factory.mktemp("loop")
    master = write_master(base / "master.xlsx")
    report = split_workbook(master, base / "dept")
    files = {f.unit: f.path for f in report.files}
    _edit_and_add_rows(files["华东区"])
    rename_header(files["华南区"], "Facts", "revenue", "销售收入")
    data = files["CON"].read_bytes()
    files["CON"].write_bytes(data[: len(data) // 3])
    _add_chart_and_comments(files["华北区"])
    rename_header(files["../../etc/passwd"], "Scorecard", "实际", "完成值")
    user_before = _user_parts(files["华北区"])
    batch = run_batch([base / "dept"], jobs=2)
    company = base / "company.xlsx"
    rollup = rollup_workbooks([base / "dept"], company, expected=[*UNITS, "西北区"])
    return dict(base=base, master=master, files=files, batch=batch, rollup=rollup, company=company,
                user_before=user_before)


def test_batch_fills_the_good_ones_and_names_the_broken_ones(loop):
    files, batch = loop["files"], loop["batch"]
    status = {Path(r.path).name: r for r in batch.results}
    assert len(status) == 6
    for unit in ("华东区", "华北区", "../../etc/passwd", EVIL):
        assert status[files[unit].name].status == FILLED, status[files[unit].name]
    bad = {files["CON"].name, files["华南区"].name}
    assert {Path(r.path).name for r in batch.failed} == bad
    con = status[files["CON"].name].reason
    assert files["CON"].name in con and ("damaged" in con or "truncated" in con)
    south = status[files["华南区"].name].reason
    assert "revenue" in south  # the KPI's measure column is gone: said, not a traceback
    assert batch.exit_code == 1
    # a filled departmental workbook has the owned sheets and reads back complete
    wb = openpyxl.load_workbook(files["华东区"], read_only=True)
    assert {"汇总", "拆解", "排名", "同级对标"} <= set(wb.sheetnames)
    wb.close()


def test_user_content_survives_the_fill_byte_for_byte(loop):
    after = _user_parts(loop["files"]["华北区"])
    assert loop["user_before"], "the chart and comments were added"
    assert any("chart" in n for n in loop["user_before"]) and any("comments" in n for n in loop["user_before"])
    # fill adds its own charts to its own sheets; every part the user had is byte-identical
    assert {n: after.get(n) for n in loop["user_before"]} == loop["user_before"]


def test_rollup_reports_every_file_and_the_drift(loop):
    r, files = loop["rollup"], loop["files"]
    st = {s.path.name: s for s in r.submissions}
    assert st[files["CON"].name].status == "refused"
    assert "truncated" in st[files["CON"].name].reason or "damaged" in st[files["CON"].name].reason
    assert st[files["华南区"].name].status == "drift"
    assert st[files[EVIL].name].status == "ok"
    kinds = {(Path(d.file).name, d.kind) for d in r.drift}
    assert (files["华南区"].name, "renamed column") in kinds
    assert (files["../../etc/passwd"].name, "renamed column") in kinds
    south = next(d for d in r.drift if Path(d.file).name == files["华南区"].name)
    assert "销售收入" in south.detail and "revenue" in south.detail
    assert r.not_submitted == ["CON", "西北区"]
    assert [s.unit for s in r.stale] == ["华南区"]  # its fill failed: results not up to date
    assert r.exit_code == 1
    gaps = {(g.unit, g.kpi) for g in r.loop_gaps.itertuples()}
    assert ("华东区", "renewal_rate") not in gaps  # it has a cause with an action


def test_rollup_figures_equal_a_direct_computation_on_the_master(loop):
    m = master_review()
    sc, facts = m.tables["Scorecard"], m.tables["Facts"]
    submitted = [u for u in UNITS if u != "CON"]
    expect = sc[sc["unit"].isin(submitted)].copy()
    expect.loc[(expect["unit"] == "华东区") & (expect["kpi"] == "revenue"), "target"] = 2500.0
    company = read_review(loop["company"])
    got = company.scorecard.set_index(["unit", "kpi"]).sort_index()
    exp = expect.set_index(["unit", "kpi"]).sort_index()
    assert list(got.index) == list(exp.index)
    for col in ("target", "actual", "last_year", "year_before"):
        np.testing.assert_allclose(got[col].to_numpy(float), exp[col].to_numpy(float), rtol=1e-12, err_msg=col)
    # facts: every row of every submitted unit, renamed column included, plus 华东区's added row
    f = facts[facts["unit"].isin(submitted)]
    cf = company.facts
    assert len(cf) == len(f) + 1
    by_unit = cf.groupby("unit")["revenue"].sum()
    exp_unit = f.groupby("unit")["revenue"].sum()
    exp_unit["华东区"] += 100
    for u in submitted:
        assert by_unit[u] == pytest.approx(exp_unit[u]), u
    # ranks on revenue actual among the five submitted units, straight from pandas
    rev = expect[expect["kpi"] == "revenue"].set_index("unit")["actual"]
    exp_rank = rev.rank(method="min", ascending=False).astype(int)
    ranking = loop["rollup"].ranking
    got_rank = ranking[ranking["kpi"] == "revenue"].set_index("unit")["rank"].astype(int)
    assert got_rank.sort_index().to_dict() == exp_rank.sort_index().to_dict()
    ly = expect[expect["kpi"] == "revenue"].set_index("unit")["last_year"]
    exp_change = ly.rank(method="min", ascending=False).astype(int) - exp_rank
    got_change = ranking[ranking["kpi"] == "revenue"].set_index("unit")["rank_change"].astype(int)
    assert got_change.sort_index().to_dict() == exp_change.sort_index().to_dict()
    # the company's revenue change 2024 -> 2025 broken down by unit
    bu = loop["rollup"].by_unit["revenue"].set_index("segment")
    year = f["period"].dt.year
    for u in submitted:
        mine = f[f["unit"] == u]
        delta = mine.loc[year[mine.index] == 2025, "revenue"].sum() - mine.loc[year[mine.index] == 2024, "revenue"].sum()
        if u == "华东区":
            delta += 100  # the added row is dated like the last 2025 row
        assert bu.loc[u, "change"] == pytest.approx(delta), u
    # and by the other dimensions of the facts; the added row copies 华东区's last row (2025-12, 中小客户)
    seg = loop["rollup"].breakdowns[("revenue", "segment")].set_index("segment")
    last = f[f["unit"] == "华东区"].iloc[-1]
    assert last["segment"] == "中小客户" and last["period"].year == 2025
    for s_ in ("大客户", "中小客户"):
        mine = f[f["segment"] == s_]
        delta = mine.loc[year[mine.index] == 2025, "revenue"].sum() - mine.loc[year[mine.index] == 2024, "revenue"].sum()
        delta += 100 if s_ == "中小客户" else 0
        assert seg.loc[s_, "change"] == pytest.approx(delta), s_


def test_company_workbook_has_the_departmental_sheets_and_a_status_sheet(loop):
    wb = openpyxl.load_workbook(loop["company"])
    assert {"汇总", "拆解", "排名", STATUS_SHEET[0]} <= set(wb.sheetnames)
    ws = wb[STATUS_SHEET[0]]
    text = "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    assert "CON" in text and "西北区" in text and "销售收入" in text
    # the hostile unit name is text everywhere in the company workbook, never a formula
    with zipfile.ZipFile(loop["company"]) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                formulas = re.findall(r"<f[^>]*>([^<]*)</f>", zf.read(name).decode("utf-8"))
                assert not any("evil" in x.lower() for x in formulas), name
    company = read_review(loop["company"])
    assert EVIL in set(company.scorecard["unit"])
    # text copied from a departmental file that starts with "=" stays text (a cause here)
    assert "=1+1 小客户价格敏感" in set(company.causes["cause"])
    ws = wb["原因与经验"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == "=1+1 小客户价格敏感")
    assert cell.data_type == "s"


def test_ctrl_c_on_the_real_batch_command(loop, tmp_path):
    """`reviewkit batch` in a subprocess, SIGINT to its process group after the first file."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from reviewkit.fill import FINGERPRINT_PROPERTY
    from reviewkit.rollup import custom_properties

    fresh = split_workbook(loop["master"], tmp_path / "fresh").files  # never filled
    folder = tmp_path / "many"
    folder.mkdir()
    originals = {}
    for i in range(16):
        f = folder / f"d{i:02}.xlsx"
        data = fresh[i % len(fresh)].path.read_bytes()
        f.write_bytes(data)
        originals[f.name] = data
    proc = subprocess.Popen([sys.executable, "-m", "reviewkit.cli", "batch", str(folder), "--jobs", "2", "--force"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    err_lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        err_lines.append(line)
        if not line or line.startswith("[1/16]"):
            break
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    err = "".join(err_lines) + err
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "Ctrl-C" in err
    done = 0
    for name, data in originals.items():
        now = (folder / name).read_bytes()
        if now == data:
            assert f"cancelled  {folder / name}" in out or f"unchanged  {folder / name}" in out
            continue
        done += 1  # rewritten: a complete, readable, freshly stamped workbook
        read_review(folder / name)
        assert custom_properties(folder / name).get(FINGERPRINT_PROPERTY)
    assert 1 <= done < 16
    assert "interrupted by Ctrl-C" in out
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_real_fill_on_a_local_dask_cluster(loop, tmp_path):
    distributed = pytest.importorskip(
        "distributed", reason='dask.distributed is not installed (pip install "reviewkit-excel[dask]")')
    fresh = split_workbook(loop["master"], tmp_path / "fresh")
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        report = run_batch([tmp_path / "fresh"], scheduler=cluster.scheduler_address)
        again = run_batch([tmp_path / "fresh"], scheduler=cluster.scheduler_address)
    assert [r.status for r in report.results] == [FILLED] * len(fresh.files), report
    assert report.where == "Dask workers" and report.workers == 2
    assert {r.status for r in again.results} == {"skipped"}
    for f in fresh.files:
        wb = openpyxl.load_workbook(f.path, read_only=True)
        assert "汇总" in wb.sheetnames
        wb.close()
