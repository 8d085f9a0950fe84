"""``reviewkit import`` / ``write_tables``: each sample export into a fresh template and a filled
workbook, compared with an independent pandas reading of the source; upsert idempotence, user rows
kept, bad rows named by source row and column, and every other part of the workbook byte-identical."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import reviewkit
from reviewkit.cli import main
from reviewkit.errors import InputError, ValidationError, WorkbookLockedError
from reviewkit.importing import import_sources, write_tables
from reviewkit.numbers import parse_date
from reviewkit.reading import read_review
from reviewkit.templates import build_template

DATA = Path(__file__).parent / "data" / "import"
ERP = DATA / "erp_sales_gbk.csv"
SCORECARD = DATA / "scorecard_utf8bom.csv"
BITABLE_JSON = DATA / "feishu_bitable_tasks.json"
BITABLE_XLSX = DATA / "feishu_bitable_tasks.xlsx"
DINGTALK = DATA / "dingtalk_tasks.xlsx"
ERP_MAP = "价税合计=销售额,数量=订单数"


# --- workbooks ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def filled_master(tmp_path_factory) -> Path:
    """The sample company's review, filled: tables with user rows, formulas, formats, charts."""
    from reviewkit.fill import fill_workbook
    from reviewkit.sample import make_sample_review
    from reviewkit.templates import build_workbook

    path = tmp_path_factory.mktemp("filled") / "复盘.xlsx"
    build_workbook(path, make_sample_review("zh"), lang="zh")
    fill_workbook(path)
    return path


@pytest.fixture(params=["fresh", "filled"])
def workbook(request, tmp_path, filled_master) -> Path:
    path = tmp_path / "复盘.xlsx"
    if request.param == "fresh":
        build_template(path, preset="sales", lang="zh")
    else:
        shutil.copyfile(filled_master, path)
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def table_part(path: Path, name: str) -> str:
    for part, data in parts(path).items():
        if part.startswith("xl/tables/") and f'name="{name}"'.encode() in data:
            return part
    raise AssertionError(name)


def sheet_part(path: Path, sheet: str) -> str:
    from reviewkit.reading.package import find_tables

    return find_tables(path).sheet_parts[sheet]


def added_rows(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """The rows an append/upsert of new keys added: those after the rows that were there."""
    return after.iloc[len(before):].reset_index(drop=True)


# --- independent readings of the samples (pandas, not reviewkit) ---------------------------
def erp_expected() -> pd.DataFrame:
    raw = pd.read_csv(ERP, encoding="gbk", dtype=str, keep_default_na=False)

    def amount(text: str) -> float:
        neg = text.startswith("(") and text.endswith(")")
        text = text.strip("()").replace(",", "")
        value = float(text[:-1]) * 10_000 if text.endswith("万") else float(text)
        return -value if neg else value

    def day(text: str) -> str:
        if text.isdigit() and len(text) == 5:  # an Excel serial
            return (pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(text))).date().isoformat()
        for a, b in (("年", "-"), ("月", "-"), ("日", ""), (".", "-"), ("/", "-")):
            text = text.replace(a, b)
        return pd.to_datetime(text, format="mixed").date().isoformat()

    return pd.DataFrame({"period": raw["单据日期"].map(day), "unit": raw["销售部门"], "客户名称": raw["客户名称"],
                         "行业": raw["行业"], "客户规模": raw["客户规模"], "产品线": raw["产品线"],
                         "销售额": raw["价税合计"].map(amount), "订单数": raw["数量"].astype(float)})


def scorecard_expected() -> pd.DataFrame:
    raw = pd.read_csv(SCORECARD, sep=";", encoding="utf-8-sig", dtype=str)

    def wan(s: pd.Series) -> pd.Series:
        is_wan = s.str.endswith("万")
        return s.str.rstrip("万").astype(float) * np.where(is_wan, 10_000, 1)

    return pd.DataFrame({"unit": raw["部门"], "kpi": raw["指标代码"], "target": wan(raw["目标"]),
                         "actual": wan(raw["实际"]), "last_year": wan(raw["去年"])})


def bitable_expected() -> pd.DataFrame:
    doc = json.loads(BITABLE_JSON.read_text(encoding="utf-8"))
    raw = pd.json_normalize(doc["data"]["items"])

    def day(col: str) -> pd.Series:
        stamps = pd.to_datetime(raw[f"fields.{col}"], unit="ms", utc=True).dt.tz_convert("Asia/Shanghai")
        return pd.to_datetime(stamps.dt.date)

    names = raw["fields.任务名称"].map(lambda v: v if isinstance(v, str) else "".join(x["text"] for x in v))
    return pd.DataFrame({"task_id": raw["fields.任务编号"], "milestone": names,
                         "planned_start": day("开始日期"), "planned_date": day("截止日期"),
                         "actual_date": day("实际完成日期"), "pct_complete": raw["fields.进度"].astype(float),
                         "owner": raw["fields.负责人"].map(lambda people: people[0]["name"])})


def bitable_xlsx_expected() -> pd.DataFrame:
    raw = pd.read_excel(BITABLE_XLSX, sheet_name=0, dtype={"任务编号": str}, engine="openpyxl")
    return pd.DataFrame({"task_id": raw["任务编号"], "task": raw["任务名称"], "owner": raw["负责人"],
                         "start": pd.to_datetime(raw["开始日期"]), "end": pd.to_datetime(raw["截止日期"])})


DINGTALK_STATES = {"未完成": "in_progress", "已延期": "in_progress", "已完成": "done", "未开始": "not_started"}


def dingtalk_expected() -> pd.DataFrame:
    raw = pd.read_excel(DINGTALK, sheet_name=0, header=1, dtype=str, engine="openpyxl")
    return pd.DataFrame({"item": raw["标题"], "owner": raw["执行者"],
                         "due": pd.to_datetime(pd.to_datetime(raw["截止时间"]).dt.date),
                         "status": raw["任务状态"].map(DINGTALK_STATES)})


def assert_frame_like(got: pd.DataFrame, want: pd.DataFrame) -> None:
    got = got[list(want.columns)].reset_index(drop=True)
    assert len(got) == len(want)
    for c in want.columns:
        g, w = got[c], want[c]
        if pd.api.types.is_float_dtype(w):
            np.testing.assert_allclose(g.astype(float).to_numpy(), w.to_numpy(), rtol=0, atol=1e-9, err_msg=c)
        elif pd.api.types.is_datetime64_any_dtype(w):
            assert [None if pd.isna(x) else pd.Timestamp(x).date() for x in g] == \
                   [None if pd.isna(x) else pd.Timestamp(x).date() for x in w], c
        else:
            assert [None if pd.isna(x) else str(x) for x in g] == [None if pd.isna(x) else str(x) for x in w], c


# --- each sample, each workbook ------------------------------------------------------------------
SAMPLES = [  # (source, table, options, expected reading)
    (ERP, "facts", {"mapping": ERP_MAP}, erp_expected),
    (SCORECARD, "scorecard", {}, scorecard_expected),
    (BITABLE_JSON, "progress", {}, bitable_expected),
    (BITABLE_XLSX, "plan", {}, bitable_xlsx_expected),
    (DINGTALK, "actions", {}, dingtalk_expected),
]
KEYS = {"Scorecard": ["unit", "kpi"], "Progress": ["task_id"], "Plan": ["task_id"], "Actions": ["item", "owner"]}


def rows_for(after: pd.DataFrame, want: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The rows of ``after`` holding the keys of ``want``, in ``want``'s order."""
    index = {tuple(str(v) for v in k): i for i, k in enumerate(zip(*[after[c] for c in keys]))}
    return after.iloc[[index[tuple(str(v) for v in k)] for k in zip(*[want[c] for c in keys])]]


@pytest.mark.parametrize("source,table,options,expected", SAMPLES, ids=[s[0].name for s in SAMPLES])
def test_sample_import_equals_pandas_reading(workbook, source, table, options, expected):
    spec_name = reviewkit.importing.TABLE_CHOICES[table]
    before = read_review(workbook, strict=False).tables[spec_name]
    result = import_sources([source], workbook, table=table, mode="upsert" if table != "facts" else "append",
                            **options)
    assert result.written and not result.problems
    after = read_review(workbook, strict=False).tables[spec_name]
    want = expected()
    if spec_name == "Facts":
        assert (result.added, result.kept) == (len(want), len(before))
        assert_frame_like(added_rows(before, after), want)
    else:  # upsert: the sample company may already have some of these keys
        assert result.added + result.updated + result.unchanged == len(want)
        assert result.kept + result.updated + result.unchanged == len(before)
        assert_frame_like(rows_for(after, want, KEYS[spec_name]), want)
    assert len(after) == len(before) + result.added
    # the rows the source does not have are untouched
    keys = KEYS.get(spec_name)
    if keys and len(before):
        theirs = {tuple(str(v) for v in k) for k in zip(*[want[c] for c in keys])}
        mine = [i for i, k in enumerate(zip(*[before[c] for c in keys])) if tuple(str(v) for v in k) not in theirs]
        assert len(mine) == result.kept
        pd.testing.assert_frame_equal(after.iloc[mine][list(before.columns)], before.iloc[mine])


@pytest.mark.parametrize("source,table,options,expected", SAMPLES, ids=[s[0].name for s in SAMPLES])
def test_upsert_twice_gives_the_same_bytes(workbook, source, table, options, expected):
    if table == "facts":
        options = {**options}
    import_sources([source], workbook, table=table, mode="upsert", **options)
    once = workbook.read_bytes()
    again = import_sources([source], workbook, table=table, mode="upsert", **options)
    assert not again.written and again.added == 0 and again.updated == 0
    assert again.unchanged == len(expected())
    assert workbook.read_bytes() == once


def test_only_the_table_sheet_and_table_part_change(workbook):
    before = parts(workbook)
    import_sources([ERP], workbook, table="facts", mapping=ERP_MAP)
    after = parts(workbook)
    sheet = read_review(workbook, strict=False).layouts["Facts"].sheet
    changed = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
    allowed = {sheet_part(workbook, sheet), table_part(workbook, "Facts"), "xl/calcChain.xml", "[Content_Types].xml"}
    assert sheet_part(workbook, sheet) in changed and table_part(workbook, "Facts") in changed
    assert changed <= allowed, changed - allowed


def test_table_grows_with_its_filter_validations_and_formats(tmp_path):
    path = tmp_path / "t.xlsx"
    build_template(path, preset="sales", lang="zh")
    n = 700  # beyond the template's blank rows and its 500 rows of drop-downs
    df = pd.DataFrame({"部门": [f"U{i % 7}" for i in range(n)], "指标代码": ["revenue"] * n,
                       "目标": np.arange(n, dtype=float), "实际": np.arange(n, dtype=float) * 1.1})
    df["部门"] = df["部门"] + "-" + pd.Series(range(n)).astype(str)
    write_tables(path, scorecard=df)
    p = parts(path)
    table = p[table_part(path, "Scorecard")].decode()
    assert f'ref="A4:V{4 + n}"' in table and f'<autoFilter ref="A4:V{4 + n}"/>' in table
    sheet = p[sheet_part(path, "计分卡")].decode()
    import re

    kpi_dv = [m for m in re.findall(r'<dataValidation [^>]*sqref="([^"]+)"', sheet) if m.startswith("B5:")]
    assert kpi_dv == [f"B5:B{4 + n}"]
    # the new rows carry the template row's formats (the last template row's style per column)
    style_first = re.search(r'<c r="C5" s="(\d+)"', sheet).group(1)
    style_last = re.search(rf'<c r="C{4 + n}" s="(\d+)"', sheet).group(1)
    assert style_first == style_last
    back = read_review(path, strict=False).scorecard
    assert len(back) == n and back["target"].tolist() == list(map(float, range(n)))


def test_user_rows_survive_an_upsert(tmp_path, filled_master):
    path = tmp_path / "复盘.xlsx"
    shutil.copyfile(filled_master, path)
    before = read_review(path, strict=False).tables["Progress"]
    import_sources([BITABLE_JSON], path, table="progress", mode="upsert")
    mid = read_review(path, strict=False)
    # a user edits a row the tool also has (a column the tool does not export) and types a row
    layout = mid.layouts["Progress"]
    from reviewkit.ooxml import WorkbookEditor

    row = layout.rows[len(before)]  # T-001, imported
    with WorkbookEditor.open(path) as book:
        ws = book.sheet(layout.sheet)
        ws.write(f"{layout.columns['problem']}{row}", "供应商延迟")
        book.save()
    changed = json.loads(BITABLE_JSON.read_text(encoding="utf-8"))
    changed["data"]["items"][0]["fields"]["进度"] = 0.9  # this week's export
    changed["data"]["items"][0]["fields"].pop("实际完成日期")
    src = tmp_path / "this_week.json"
    src.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    result = import_sources([src], path, table="progress", mode="upsert")
    assert (result.added, result.updated, result.unchanged, result.kept) == (0, 1, 5, len(before))
    after = read_review(path, strict=False).tables["Progress"]
    pd.testing.assert_frame_equal(after.iloc[:len(before)].reset_index(drop=True), before.reset_index(drop=True))
    t1 = after.iloc[len(before)]
    assert t1["task_id"] == "T-001" and t1["pct_complete"] == 0.9 and pd.isna(t1["actual_date"])
    assert t1["problem"] == "供应商延迟"
    assert len(after) == len(before) + 6


def test_replace_clears_the_old_rows(tmp_path, filled_master):
    path = tmp_path / "复盘.xlsx"
    shutil.copyfile(filled_master, path)
    result = import_sources([DINGTALK], path, table="actions", mode="replace")
    after = read_review(path, strict=False).tables["Actions"]
    assert result.added == 4 and result.cleared == 0
    assert_frame_like(after, dingtalk_expected())
    assert after["unit"].isna().all()  # the old rows' other columns were cleared too


# --- bad rows -----------------------------------------------------------------------------------------
def test_bad_rows_are_named_by_source_row_and_column_and_nothing_is_written(tmp_path):
    path = tmp_path / "t.xlsx"
    build_template(path, preset="sales", lang="zh")
    src = tmp_path / "bad.csv"
    src.write_text("月份,部门,销售额\n2025-01,华东,1200\n2025-13,华南,100\n2025-02,华北,abc\n2025-02,,1.2.3\n",
                   encoding="utf-8")
    original = path.read_bytes()
    with pytest.raises(ValidationError) as info:
        import_sources([src], path, table="facts")
    messages = [str(p) for p in info.value.problems]
    assert any("row 3, column '月份'" in m and "2025-13" in m for m in messages)
    assert any("row 4, column '销售额'" in m and "'abc'" in m for m in messages)
    assert any("row 5, column '销售额'" in m and "1.2.3" in m for m in messages)
    assert any("row 5, column '部门'" in m for m in messages)
    assert len(messages) == 4 and all(m.startswith("bad.csv") for m in messages)
    assert path.read_bytes() == original
    result = import_sources([src], path, table="facts", skip_bad=True)
    assert result.written and result.added == 1 and result.skipped == 3
    facts = read_review(path, strict=False).facts
    assert facts["unit"].tolist() == ["华东"] and facts["销售额"].tolist() == [1200.0]


def test_bad_values_in_xlsx_and_json_name_their_cell_or_record(tmp_path):
    path = tmp_path / "t.xlsx"
    build_template(path, preset="sales", lang="zh")
    doc = json.loads(BITABLE_JSON.read_text(encoding="utf-8"))
    doc["data"]["items"][1]["fields"]["截止日期"] = "下周"
    src = tmp_path / "bad.json"
    src.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        import_sources([src], path, table="progress")
    assert "record 2 (recv1001), field '截止日期'" in str(info.value.problems[0])
    import xlsxwriter

    xlsx = tmp_path / "bad.xlsx"
    wb = xlsxwriter.Workbook(xlsx)
    ws = wb.add_worksheet("导出")
    ws.write_row(0, 0, ["部门", "指标代码", "目标"])
    ws.write_row(1, 0, ["华东", "revenue", "很多"])
    wb.close()
    with pytest.raises(ValidationError) as info:
        import_sources([xlsx], path, table="scorecard")
    p = info.value.problems[0]
    assert (p.sheet, p.cell) == ("导出", "C2") and "column '目标'" in str(p)


# --- mapping, CLI --------------------------------------------------------------------------------------
def test_unmapped_columns_are_listed_with_a_suggestion_and_map_fixes_them(tmp_path):
    path = tmp_path / "t.xlsx"
    build_template(path, preset="sales", lang="zh")
    src = tmp_path / "s.csv"
    src.write_text("部门,指标代码,目标金额,实际,备注\n华东,revenue,100,90,x\n", encoding="utf-8")
    dry = import_sources([src], path, table="scorecard", dry_run=True)
    assert dict(dry.unmapped) == {"目标金额": "target", "备注": None}
    assert not dry.written
    result = import_sources([src], path, table="scorecard", mapping="目标金额=target,备注=-", save_map=True)
    assert result.map_saved and result.unmapped == []
    assert read_review(path, strict=False).scorecard["target"].tolist() == [100.0]
    # next month: the saved mapping is used without --map, and check does not warn about it
    src.write_text("部门,指标代码,目标金额,实际,备注\n华南,revenue,80,85,y\n", encoding="utf-8")
    again = import_sources([src], path, table="scorecard")
    assert ("目标金额", "目标", "saved") in again.mapped
    review = read_review(path)
    assert review.scorecard["target"].tolist() == [100.0, 80.0]


def test_cli_dry_run_prints_the_changes_and_writes_nothing(tmp_path):
    path = tmp_path / "t.xlsx"
    build_template(path, preset="sales", lang="zh")
    original = path.read_bytes()
    res = CliRunner().invoke(main, ["import", str(ERP), str(path), "--table", "facts", "--map", ERP_MAP,
                                    "--dry-run"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "8 added, 0 updated" in res.output and "价税合计 → 销售额 (map)" in res.output
    assert path.read_bytes() == original
    res = CliRunner().invoke(main, ["import", str(ERP), str(path), "--table", "facts", "--upsert", "--map", ERP_MAP],
                             catch_exceptions=False)
    assert res.exit_code == 0 and "8 added" in res.output


def test_cli_reports_every_bad_value_and_exits_2(tmp_path):
    path = tmp_path / "t.xlsx"
    build_template(path, preset="sales", lang="zh")
    src = tmp_path / "bad.csv"
    src.write_text("月份,部门,销售额\n2025-13,华东,1\n2025-01,华南,x\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["import", str(src), str(path), "--table", "facts"], catch_exceptions=False)
    assert res.exit_code == 2
    assert "row 2, column '月份'" in res.output and "row 3, column '销售额'" in res.output
    assert "nothing written" in res.output and "Traceback" not in res.output


def test_a_workbook_open_in_excel_is_refused(tmp_path):
    path = tmp_path / "t.xlsx"
    build_template(path, preset="sales", lang="zh")
    (tmp_path / "~$t.xlsx").write_bytes(b"owner")
    with pytest.raises(WorkbookLockedError):
        import_sources([ERP], path, table="facts", mapping=ERP_MAP)


@pytest.mark.parametrize("encoding,sep,bom", [("gbk", "\t", False), ("utf-8", ",", False), ("utf-8", ";", True),
                                              ("gb18030", ";", False)])
def test_csv_encodings_and_delimiters_are_detected(tmp_path, encoding, sep, bom):
    path = tmp_path / "t.xlsx"
    build_template(path, preset="sales", lang="zh")
    text = SCORECARD.read_text(encoding="utf-8-sig").replace(";", sep)
    src = tmp_path / "s.csv"
    src.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    import_sources([src], path, table="scorecard")
    assert_frame_like(read_review(path, strict=False).scorecard, scorecard_expected())


def test_several_sources_go_into_one_table(tmp_path):
    path = tmp_path / "t.xlsx"
    build_template(path, preset="sales", lang="zh")
    result = import_sources([BITABLE_JSON, DINGTALK], path, table="progress", mode="append",
                            mapping={"任务ID": "task_id", "截止时间": "planned_date"})
    assert result.added == 10
    back = read_review(path, strict=False).tables["Progress"]
    assert back["task_id"].tolist()[-4:] == ["61a0f1", "61a0f2", "61a0f3", "61a0f4"]


# --- Python API ---------------------------------------------------------------------------------------
def test_new_with_dataframes_and_write_tables_modes(tmp_path):
    facts = pd.DataFrame({"period": ["2025-01", "2025-02"], "unit": ["华东", "华南"], "销售额": [1200.0, 800.0],
                          "行业": ["制造业", "零售"]})
    scorecard = pd.DataFrame({"unit": ["华东"], "kpi": ["revenue"], "target": [1000.0], "actual": [1200.0]})
    path = reviewkit.new(tmp_path / "r.xlsx", preset="sales", lang="zh", tables={"facts": facts, "scorecard": scorecard})
    review = read_review(path)
    assert_frame_like(review.facts, facts)
    assert_frame_like(review.scorecard, scorecard)
    more = pd.DataFrame({"unit": ["华东", "华南"], "kpi": ["revenue", "revenue"], "target": [1100.0, 900.0],
                         "actual": [1200.0, 950.0]})
    [res] = reviewkit.write_tables(path, mode="upsert", scorecard=more)
    assert (res.added, res.updated, res.kept) == (1, 1, 0)
    assert_frame_like(read_review(path).scorecard, more)


def test_calculated_columns_follow_new_rows(tmp_path):
    import xlsxwriter

    path = tmp_path / "calc.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("明细")
    ws.add_table(0, 0, 2, 3, {"name": "Facts", "data": [["2025-01", "华东", 100], ["2025-02", "华南", 200]],
                              "columns": [{"header": "期间"}, {"header": "单位"}, {"header": "销售额"},
                                          {"header": "税额", "formula": "Facts[[#This Row],[销售额]]*0.13"}]})
    wb.close()
    write_tables(path, facts=pd.DataFrame({"period": ["2025-03"], "unit": ["华北"], "销售额": [300.0]}))
    sheet = parts(path)[sheet_part(path, "明细")].decode()
    import re

    cell = re.search(r'<c r="D4"[^>]*><f>([^<]+)</f></c>', sheet)
    assert cell and "销售额" in cell.group(1)
    assert 'ref="A1:D4"' in parts(path)[table_part(path, "Facts")].decode()


def test_calculated_column_recalculates_in_libreoffice(tmp_path):
    from conftest import require_libreoffice

    require_libreoffice()
    import openpyxl
    import xlsxwriter

    from reviewkit.libreoffice import recalculate

    path = tmp_path / "calc.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("明细")
    ws.add_table(0, 0, 1, 3, {"name": "Facts", "data": [["2025-01", "华东", 100]],
                              "columns": [{"header": "期间"}, {"header": "单位"}, {"header": "销售额"},
                                          {"header": "税额", "formula": "Facts[[#This Row],[销售额]]*0.13"}]})
    wb.close()
    write_tables(path, facts=pd.DataFrame({"period": ["2025-03"], "unit": ["华北"], "销售额": [300.0]}))
    out = recalculate([path], tmp_path / "lo")[path.resolve()]
    ws = openpyxl.load_workbook(out, data_only=True)["明细"]
    assert ws["D3"].value == pytest.approx(39.0)


def test_ms_timestamps_are_dates_in_china_time():
    assert parse_date(1740758400000) == dt.date(2025, 3, 1)  # 2025-03-01 00:00 +08:00
    assert parse_date("1740758400000") == dt.date(2025, 3, 1)
    assert parse_date(45717) == dt.date(2025, 3, 1)  # Excel serials unchanged


def test_unknown_table_and_missing_required_column_are_one_line_errors(tmp_path):
    path = tmp_path / "t.xlsx"
    build_template(path, preset="sales", lang="zh")
    with pytest.raises(InputError, match="unknown table"):
        import_sources([ERP], path, table="nope")
    src = tmp_path / "s.csv"
    src.write_text("部门,实际\n华东,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="required 'KPI代码'"):
        import_sources([src], path, table="scorecard")



def test_an_xlsx_source_that_is_not_a_workbook_is_one_line_about_the_source(tmp_path):
    """An .xlsx source is opened by the reader's file engine (its safety checks included); a
    broken one is named as a source to re-export, not as a review workbook to fix."""
    path = tmp_path / "t.xlsx"
    build_template(path, preset="sales", lang="zh")
    before = path.read_bytes()
    bad = tmp_path / "导出.xlsx"
    bad.write_bytes(b"id,amount\n1,2\n")
    result = CliRunner().invoke(main, ["import", str(bad), str(path), "--table", "facts"])
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "导出.xlsx" in line and "cannot be read" in line
    assert "as CSV" in line and "pasted into the template" not in line
    assert path.read_bytes() == before

# --- the Excel-made corpus: growing a table changes its sheet and its table part, nothing else ---------
def corpus_tables():
    from ooxml_helpers import CORPUS, expected_refusal, manifest

    from reviewkit.reading.package import find_tables

    out = []
    for row in manifest():
        path = CORPUS / row["file"]
        if expected_refusal(row) or path.suffix.lower() not in (".xlsx", ".xlsm"):
            continue
        try:
            pkg = find_tables(path)
        except Exception:  # noqa: BLE001 - files the reader refuses are the corpus test's business
            continue
        if pkg.tables:
            out.append((path, pkg.tables[0]))
    return out


CORPUS_TABLES = corpus_tables()


@pytest.mark.skipif(not CORPUS_TABLES, reason="the Excel-made corpus is not available")
@pytest.mark.parametrize("src,info", CORPUS_TABLES, ids=[p.name for p, _ in CORPUS_TABLES])
def test_corpus_table_grows_and_every_other_part_is_identical(tmp_path, src, info):
    import openpyxl

    from reviewkit.ooxml import WorkbookEditor

    path = tmp_path / src.name
    shutil.copyfile(src, path)
    before = parts(path)
    with WorkbookEditor.open(path) as book:
        table = book.table(info.name)
        if table.totals_rows:
            with pytest.raises(InputError, match="totals row"):
                table.grow(info.last_row + 2)
            return
        ws = book.sheet(table.sheet)
        r1, c1, r2, c2 = table.box
        styles = ws.cell_styles(r2)
        ws.write_rows(r2 + 1, {c1: ["imported"], c2: [42.0]} if c2 > c1 else {c1: ["imported"]}, styles=styles)
        table.grow(r2 + 1)
        ws.extend_ranges(c1, c2, r1 + 1, r2 + 1)
        book.save()
    after = parts(path)
    changed = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
    sheet = sheet_part(path, info.sheet)
    allowed = {sheet, info.part}
    if "xl/calcChain.xml" in before:  # written cells drop the calculation chain (Excel rebuilds it)
        allowed |= {"xl/calcChain.xml", "[Content_Types].xml", "xl/_rels/workbook.xml.rels"}
    assert changed <= allowed, changed
    from reviewkit.reading.package import find_tables

    grown = find_tables(path).table(info.name)
    assert grown.last_row == info.last_row + 1 and grown.first_row == info.first_row
    wb = openpyxl.load_workbook(path)
    from openpyxl.utils import get_column_letter

    assert wb[info.sheet][f"{get_column_letter(info.first_col)}{info.last_row + 1}"].value == "imported"


def test_import_example_runs(tmp_path, capsys):
    import importlib.util

    example = Path(__file__).resolve().parents[1] / "examples" / "import_exports.py"
    spec = importlib.util.spec_from_file_location("import_exports_example", example)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    path = mod.main([str(tmp_path)])
    out = capsys.readouterr().out
    assert "8 added" in out and "6 unchanged" in out and "价税合计 → 销售额 (saved)" in out
    review = read_review(path)
    assert len(review.facts) == 8 and len(review.tables["Progress"]) == 6 and len(review.scorecard) == 2


def test_skip_bad_leaves_out_every_bad_row_beyond_the_reported_ones(tmp_path):
    path = tmp_path / "t.xlsx"
    build_template(path, preset="sales", lang="zh")
    lines = ["月份,部门,销售额"]
    lines += [f"2025-01,华东,{i}" for i in range(5)]
    lines += ["2025-02,华南,坏" + str(i) for i in range(15)]  # more than the reader lists one by one
    lines += ["2025-03,,7" for _ in range(12)]  # a required unit left empty, 12 times
    src = tmp_path / "many.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        import_sources([src], path, table="facts")
    assert any("more value(s)" in str(p) for p in info.value.problems)
    result = import_sources([src], path, table="facts", skip_bad=True)
    assert (result.added, result.skipped) == (5, 27)
    facts = read_review(path).facts
    assert facts["unit"].tolist() == ["华东"] * 5 and facts["销售额"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
