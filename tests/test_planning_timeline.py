"""The live Gantt sheet: formulas recalculated by LibreOffice, bars read back from the rendered
picture, and a bar that moves when a date in the Plan sheet changes."""
import datetime as dt
import re
import struct
import zlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from reviewkit.errors import InputError
from reviewkit.libreoffice import convert, pdf_to_png, recalculate
from reviewkit.model import TableLayout
from reviewkit.ooxml import WorkbookEditor
from reviewkit.planning import gantt
from reviewkit.fill import timeline as tl

D = pd.Timestamp
AS_OF = "2026-07-16"  # a Thursday, in the week of Monday 7/13
PLAN = pd.DataFrame([
    # T0 spans every week of the grid: it is the ruler the picture test measures columns with
    {"task_id": "T0", "task": "全程", "owner": "甲", "start": D("2026-06-01"), "end": D("2026-08-30"), "milestone": None},
    {"task_id": "T1", "task": "优化线上渠道", "owner": "A", "start": D("2026-07-01"), "end": D("2026-07-31"), "milestone": None},
    {"task_id": "T2", "task": "大促准备", "owner": "B", "start": D("2026-06-08"), "end": D("2026-06-21"), "milestone": "是"},
    {"task_id": "T3", "task": "复盘", "owner": "C", "start": D("2026-08-10"), "end": D("2026-08-12"), "milestone": "否"},
])
PROGRESS = pd.DataFrame([
    {"task_id": "T1", "milestone": "上线", "planned_date": D("2026-07-15"), "pct_complete": 0.5},
    {"task_id": "T1", "milestone": "一半", "planned_date": D("2026-07-08"), "pct_complete": 0.3},
    {"task_id": "T0", "milestone": "x", "planned_date": None, "pct_complete": 0.25},
])
CAMPAIGNS = pd.DataFrame([
    {"name": "618", "start": D("2026-06-01"), "end": D("2026-06-18"), "kind": "大促"},
    {"name": "端午", "start": D("2026-06-19"), "end": D("2026-06-21"), "kind": "假期"},
])
PDF_ONE_PAGE = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'


def build(path: Path, plan=PLAN, progress=PROGRESS, campaigns=CAMPAIGNS, freq="W", lang="zh", **kw):
    """Source tables written by XlsxWriter, then the timeline added by the lossless editor."""
    wb = xlsxwriter.Workbook(str(path))
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    layouts = {}
    for name, sheet, df in (("Plan", "执行计划", plan), ("Progress", "进度跟踪", progress),
                            ("Campaigns", "大促与假期", campaigns)):
        ws = wb.add_worksheet(sheet)
        cols = list(df.columns)
        for j, c in enumerate(cols):
            ws.write(0, j, c)
            for i, v in enumerate(df[c]):
                if isinstance(v, pd.Timestamp) and pd.notna(v):
                    ws.write_datetime(i + 1, j, v.to_pydatetime(), datef)
                elif v is not None and not (isinstance(v, float) or v is pd.NaT):
                    ws.write(i + 1, j, v)
                elif isinstance(v, float) and v == v:
                    ws.write(i + 1, j, v)
        letters = {c: xl_col_to_name(j) for j, c in enumerate(cols)}
        layouts[name] = TableLayout(name, sheet, f"A1:{letters[cols[-1]]}{len(df) + 1}", 1, 2, len(df) + 1,
                                    letters, rows=tuple(range(2, len(df) + 2)))
    wb.close()
    grid = gantt(plan, progress, campaigns, freq=freq, as_of=AS_OF, **kw)
    where = tl.write_timeline(path, "甘特图", grid, layouts, lang=lang, position=0)
    return grid, where, layouts


# --- reading a PNG without extra dependencies ----------------------------------------------
def read_png(path):
    """(width, height, rows of RGB tuples) for the 8-bit RGB/RGBA non-interlaced PNGs pdftoppm writes."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def _rgb(hex_):
    return tuple(int(hex_[i:i + 2], 16) for i in (1, 3, 5))


PALETTE = {"done": _rgb(tl.DONE), "bar": _rgb(tl.BAR), "today": _rgb(tl.TODAY),
           "campaign": _rgb(tl.CAMPAIGN), "off": _rgb(tl.NONWORKING), "": (255, 255, 255)}


def classify(px):
    best = min(PALETTE, key=lambda k: sum((a - b) ** 2 for a, b in zip(px, PALETTE[k])))
    return best if sum((a - b) ** 2 for a, b in zip(px, PALETTE[best])) < 40 ** 2 else None


def read_grid(png, n_cols, n_rows):
    """States per task row and grid column, measured on the picture with task row 0 as the ruler
    (it must be a bar over every column)."""
    w, h, px = read_png(png)
    bar_like = {"done", "bar"}
    # the ruler: the first pixel row with a long run of bar colours
    for y in range(h):
        xs = [x for x in range(w) if classify(px[y][x]) in bar_like]
        if len(xs) > w // 4:
            break
    else:
        raise AssertionError("no bar found in the picture")
    x0, x1 = xs[0], xs[-1] + 1
    y_top = y
    y_bot = y
    while y_bot + 1 < h and classify(px[y_bot + 1][x0 + 2]) in bar_like:
        y_bot += 1
    row_h = y_bot - y_top + 1
    col_w = (x1 - x0) / n_cols
    assert row_h > 3 and col_w > 4, (row_h, col_w)
    out = []
    for k in range(n_rows):
        # rows are contiguous: task k's middle is k row heights below the ruler's middle
        y_mid = round(y_top + (k + 0.5) * (row_h + 0.0))
        states = []
        for j in range(n_cols):
            samples = [classify(px[y_mid][int(x0 + (j + f) * col_w)]) for f in (0.15, 0.85)]
            states.append(samples[0] if samples[0] is not None else samples[1])
        out.append(states)
    return out


def render(files, tmp_path):
    pdfs = convert(files, PDF_ONE_PAGE, tmp_path / "pdf")
    pngs = []
    for f in files:
        pdf = pdfs[Path(f).resolve()]
        assert pdf is not None, f"LibreOffice did not render {f}"
        pngs.append(pdf_to_png(pdf, tmp_path / "pdf" / Path(f).stem, dpi=100, first=1, last=1)[0])
    return pngs


# --- expectations, worked out by hand from the dates above ---------------------------------
# weeks (Monday..Sunday) from 6/1: 0=6/1 1=6/8 2=6/15 3=6/22 4=6/29 5=7/6 6=7/13 7=7/20 8=7/27
# 9=8/3 10=8/10 11=8/17 12=8/24
N_WEEKS = 13
TODAY_WEEK = 6


def expected_weeks():
    rows = []
    # T0 6/1–8/30 = 91 days, 25% -> round(22.75) = 23 days done -> done to 6/23: weeks 0-2 done
    rows.append(["done"] * 3 + ["bar"] * 10)
    # T1 7/1–7/31 = 31 days at 50% (highest of 50%, 30%) -> 16 days -> done to 7/16: weeks 4-5 done
    rows.append(["campaign"] * 3 + [""] * 1 + ["done"] * 2 + ["bar"] * 3 + [""] * 4)
    # T2 6/8–6/21: weeks 1-2, nothing done
    rows.append(["campaign"] + ["bar"] * 2 + [""] * 10)
    # T3 8/10–8/12: week 10
    rows.append(["campaign"] * 3 + [""] * 7 + ["bar"] + [""] * 2)
    for r in rows:  # the today column shows where no bar is
        if r[TODAY_WEEK] == "":
            r[TODAY_WEEK] = "today"
    return rows


@pytest.mark.libreoffice
def test_formulas_recalculated_by_libreoffice(tmp_path, soffice):
    grid, where, _ = build(tmp_path / "tl.xlsx")
    out = recalculate([tmp_path / "tl.xlsx"], tmp_path / "recalc")[(tmp_path / "tl.xlsx").resolve()]
    ws = openpyxl.load_workbook(out, data_only=True)["甘特图"]
    assert (where.first_task_row, where.last_task_row, where.first_grid_col) == (8, 11, 10)
    # header rows: week starts, ends, campaign band, working days (端午 Fri 6/19 is a holiday)
    starts = [ws.cell(4, 10 + j).value for j in range(N_WEEKS)]
    assert [s.date() for s in starts] == [dt.date(2026, 6, 1) + dt.timedelta(weeks=j) for j in range(N_WEEKS)]
    assert ws.cell(5, 10).value.date() == dt.date(2026, 6, 7)
    assert [ws.cell(6, 10 + j).value for j in range(4)] == ["618", "618", "618", None]
    assert [ws.cell(7, 10 + j).value for j in range(4)] == [5, 5, 4, 5]
    rows = {ws.cell(r, 1).value: [ws.cell(r, c).value for c in range(1, 9)] for r in range(8, 12)}
    assert list(rows) == ["T0", "T1", "T2", "T3"]
    t1 = rows["T1"]
    assert t1[1:3] == ["优化线上渠道", "A"]
    assert t1[3].date() == dt.date(2026, 7, 1) and t1[4].date() == dt.date(2026, 7, 31)
    assert t1[5] == pytest.approx(0.5)  # highest % reported for T1
    assert t1[6].date() == dt.date(2026, 7, 16)
    assert t1[7] == 23  # July 2026 weekdays
    assert rows["T0"][6].date() == dt.date(2026, 6, 23)
    assert rows["T0"][7] == 65 - 1  # 13 weeks x 5 weekdays, minus the 端午 Friday
    assert rows["T2"][5] == 0 and rows["T2"][7] == 9  # 6/8-6/21: 10 weekdays minus 6/19
    # milestones: T1's Progress dates 7/8 (week 5) and 7/15 (week 6); T2 is a milestone task
    # ending 6/21 (week 2); T3 is marked 否
    marks = {r: [j for j in range(N_WEEKS) if ws.cell(r, 10 + j).value == "◆"] for r in range(8, 12)}
    assert marks == {8: [], 9: [5, 6], 10: [2], 11: []}
    # what LibreOffice computed is what the Python model computed (the cached values)
    assert [int(v) for v in grid.tasks["working_days"]] == [rows[t][7] for t in ("T0", "T1", "T2", "T3")]


@pytest.mark.libreoffice
def test_bars_in_the_rendered_picture(tmp_path, soffice):
    grid, _, _ = build(tmp_path / "weeks.xlsx")
    png = render([tmp_path / "weeks.xlsx"], tmp_path)[0]
    seen = read_grid(png, N_WEEKS, 4)
    assert seen == expected_weeks()
    # and the Python model of the grid agrees with what LibreOffice painted
    painted = [[s if s in ("done", "bar") else "" for s in row] for row in seen]
    assert painted == grid.cells.values.tolist()


@pytest.mark.libreoffice
def test_moving_a_plan_date_moves_the_bar(tmp_path, soffice):
    path = tmp_path / "moved.xlsx"
    build(path)
    before = tmp_path / "before.xlsx"
    before.write_bytes(path.read_bytes())
    # T3 is Plan row 5 (header + T0..T3); start/end are columns D and E: move it 3 weeks earlier
    ed = WorkbookEditor.open(path)
    ed.sheet("执行计划").write("D5", dt.datetime(2026, 7, 20))
    ed.sheet("执行计划").write("E5", dt.datetime(2026, 7, 29))
    ed.save()
    ed.close()
    png_before, png_after = render([before, path], tmp_path)
    old = read_grid(png_before, N_WEEKS, 4)[3]
    new = read_grid(png_after, N_WEEKS, 4)[3]
    assert [j for j, s in enumerate(old) if s in ("bar", "done")] == [10]
    assert [j for j, s in enumerate(new) if s in ("bar", "done")] == [7, 8]  # 7/20–7/29
    out = recalculate([path], tmp_path / "recalc")[path.resolve()]
    ws = openpyxl.load_workbook(out, data_only=True)["甘特图"]
    assert ws["D11"].value.date() == dt.date(2026, 7, 20) and ws["H11"].value == 8


@pytest.mark.libreoffice
def test_daily_grid_weekends_holidays_and_exact_days(tmp_path, soffice):
    plan = pd.DataFrame([
        {"task_id": "R", "task": "ruler", "owner": "x", "start": D("2026-06-15"), "end": D("2026-06-28"), "milestone": None},
        {"task_id": "A", "task": "a", "owner": "y", "start": D("2026-06-17"), "end": D("2026-06-23"), "milestone": None},
        {"task_id": "B", "task": "b", "owner": "z", "start": D("2026-06-26"), "end": D("2026-06-26"), "milestone": None},
    ])
    progress = pd.DataFrame([{"task_id": "A", "planned_date": D("2026-06-23"), "pct_complete": 0.3}])
    build(tmp_path / "days.xlsx", plan=plan, progress=progress, freq="D", lang="en")
    png = render([tmp_path / "days.xlsx"], tmp_path)[0]
    got = read_grid(png, 14, 3)
    # days 0..13 = 6/15 (Mon) .. 6/28 (Sun); weekends 6/20, 6/21, 6/27, 6/28; 端午 holiday 6/19-6/21
    # ruler R: nothing done (no progress row) -> bar everywhere
    assert got[0] == ["bar"] * 14
    # A 6/17–6/23 = 7 days at 30% -> round(2.1) = 2 days done (6/17, 6/18)
    # 618 runs to 6/18 (days 0-3): a campaign band where no bar is
    off = {4, 5, 6, 12, 13}
    base = ["campaign" if j < 4 else "off" if j in off else "" for j in range(14)]
    exp_a = list(base)
    exp_a[2:4] = ["done", "done"]
    exp_a[4:9] = ["bar"] * 5
    assert got[1] == exp_a
    exp_b = list(base)
    exp_b[11] = "bar"
    assert got[2] == exp_b


# --- the sheet spec without LibreOffice ------------------------------------------------------
ALLOWED = {"IF", "AND", "OR", "INDEX", "MATCH", "ISNUMBER", "ISNA", "IFERROR", "ROUND", "MIN", "MAX",
           "SUMPRODUCT", "COUNTIFS", "LOOKUP", "DATE", "YEAR", "MONTH", "NETWORKDAYS", "TODAY"}


def _layouts():
    cols = {"task_id": "A", "task": "C", "owner": "D", "start": "E", "end": "F", "milestone": "J"}
    return {"Plan": TableLayout("Plan", "执行计划", "A3:K7", 3, 4, 7, cols, rows=(4, 5, 6, 7))}


def test_spec_uses_only_functions_both_engines_know():
    grid = gantt(PLAN, PROGRESS, CAMPAIGNS, freq="M", as_of=AS_OF)
    lay = _layouts()
    lay["Progress"] = TableLayout("Progress", "进度跟踪", "A1:F4", 1, 2, 4,
                                  {"task_id": "A", "planned_date": "D", "pct_complete": "F"})
    lay["Campaigns"] = TableLayout("Campaigns", "大促与假期", "A1:D3", 1, 2, 3,
                                   {"name": "A", "start": "B", "end": "C", "kind": "D"})
    spec, where = tl.timeline_sheet(grid, lay, live_today=True)
    formulas = [c.formula for c in spec.cells if c.formula] + [r.formula for r in spec.conditional_formats]
    used = {f for text in formulas for f in re.findall(r"([A-Z][A-Z0-9.]*)\(", text)}
    assert used <= ALLOWED, used - ALLOWED
    cells = {c.ref: c for c in spec.cells}
    assert cells["C2"].formula == "TODAY()"
    # the plan table is read where its layout says, positionally
    assert "'执行计划'!$E$4:$E$7" in cells["D8"].formula and ",2)" in cells["D9"].formula
    assert where.last_grid_col - where.first_grid_col + 1 == 3  # June, July, August
    assert cells["K4"].formula == "DATE(YEAR(J4),MONTH(J4)+1,1)"
    # cached values come from the Python model, so a non-recalculating reader sees the bars' data
    assert cells["A9"].value == "T1" and cells["G9"].value == dt.datetime(2026, 7, 16)


def test_spec_without_progress_or_campaigns_and_bad_layouts():
    grid = gantt(PLAN, None, None, freq="W", as_of=AS_OF)
    spec, where = tl.timeline_sheet(grid, _layouts(), lang="en")
    cells = {c.ref: c for c in spec.cells}
    assert cells["F8"].value == 0.0 and "SUMPRODUCT" not in cells["F8"].formula
    assert where.holiday_range is None and "NETWORKDAYS($D8,$E8)" in cells["H8"].formula
    with pytest.raises(InputError, match="Plan"):
        tl.timeline_sheet(grid, {})
    bad = {"Plan": TableLayout("Plan", "P", "A1:B2", 1, 2, 2, {"task_id": "A"})}
    with pytest.raises(InputError, match="start, end"):
        tl.timeline_sheet(grid, bad)


def test_review_timeline_uses_the_review_tables_and_layouts():
    from reviewkit.model import Review
    from reviewkit.fill.timeline import review_timeline

    lay = _layouts()
    review = Review(tables={"Plan": PLAN}, settings={"as_of": AS_OF}, lang="en", layouts=lay)
    spec, where = review_timeline(review, freq="W")
    cells = {c.ref: c for c in spec.cells}
    assert cells["A4"].value == "ID" and cells["C2"].value == dt.datetime(2026, 7, 16)
    assert where.last_task_row == 8 + len(PLAN) - 1
