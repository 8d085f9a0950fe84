"""The Guide sheet (说明) of a new workbook: steps, legend, what each sheet and column is for.

Written by ``templates`` with the same XlsxWriter workbook and formats as the table sheets.
"""
from __future__ import annotations

from collections.abc import Iterable

from . import model
from .fill.grid import _text_lines
from .model import CHOICE, DATE, INTEGER, NUMBER, PERCENT, TEXT
from .ooxml._xml import storable_text
from .templates import BORDER, INPUT_HEADER, _Formats, _print_setup, _t, _title

GUIDE_WIDTHS = (16, 13, 52, 26, 26)

_STEPS = {
    "zh": (
        "① 在「设置」表填写公司名称、复盘年度和截止日期。",
        "② 在黄色单元格填写或从 ERP/CRM 粘贴：KPI定义、计分卡（目标、实际、去年、前年、行业对标）、明细、原因与经验、计划与进度。"
        "在表格下一行直接输入即可自动扩展；表头可用常见同义词（如“计划”“上年同期”）。",
        "③ 运行 reviewkit fill 文件名.xlsx，或在 .xlsm 中点击「刷新」按钮：灰色列被计算，并生成「汇总」「拆解」「排名」「甘特图」「执行跟踪」。",
        "④ 先读「汇总」：每个KPI是否达标、差多少、和去年及同行比如何、原因与行动；再看「拆解」找出变化来自哪一部分。",
        "⑤ reviewkit check 文件名.xlsx 一次列出所有输入问题；reviewkit export 文件名.xlsx 导出复盘会用的 PDF。",
    ),
    "en": (
        "1. In Settings, enter the company name, the review year and the as-of date.",
        "2. Fill the yellow cells or paste from your ERP/CRM: KPIs, Scorecard (target, actual, last year, year before, "
        "benchmarks), Facts, Causes, Plan and Progress. Type below a table to extend it; common header synonyms "
        "(\"Plan\", \"Prior year\") are understood.",
        "3. Run  reviewkit fill <file>.xlsx  or press the Refresh button in the .xlsm: the grey columns are computed "
        "and the Summary, Breakdown, Peers, Timeline and Execution sheets are written.",
        "4. Read Summary first: each KPI met or not, by how much, against last year and peers, why and what next; "
        "then Breakdown to see which part moved.",
        "5. reviewkit check <file>.xlsx lists every input problem at once; reviewkit export <file>.xlsx writes a PDF "
        "for the review meeting.",
    ),
}

_OWNED_PURPOSE = {
    "summary": ("一页汇总（可投屏）：总体达成、各KPI达成图、最大亮点与问题、待闭环事项；下方为每个KPI的达成率、同比、状态与结论。",
                "One page for the screen: overall result, achievement by KPI, biggest wins and problems, open items; "
                "below it each KPI's achievement, growth, status and conclusion."),
    "breakdown": ("变化来自哪一部分：按行业、规模、签约批次、区域、产品线等拆解。",
                  "Which part moved: by industry, size, cohort, region, product line…"),
    "peers": ("各单位排名及排名变化。", "Units ranked, with the change in rank."),
    "timeline": ("计划甘特图，标出大促与假期冲突。", "Gantt chart of the plan, with campaign clashes marked."),
    "execution": ("执行跟踪：进度偏差、计划与行动检查、时间冲突、预算与ROI。",
                  "Execution: progress deviations, plan and action checks, clashes, budget and ROI."),
}

_KIND_NAMES = {TEXT: ("文本", "text"), NUMBER: ("数字", "number"), PERCENT: ("百分比", "percent"),
               DATE: ("日期", "date"), CHOICE: ("下拉选择", "choice"), INTEGER: ("整数", "integer")}

def write_guide(ws, fmts: _Formats, lang: str, company: str, year: object) -> None:
    title = fmts.get(bold=True, font_size=18, font_color=INPUT_HEADER)
    section = fmts.get(bold=True, font_size=13, font_color=INPUT_HEADER, bottom=2, bottom_color=INPUT_HEADER)
    wrap = fmts.get(text_wrap=True, valign="top")
    head = fmts.get(bold=True, font_color="#FFFFFF", bg_color=INPUT_HEADER, border=1, border_color=BORDER,
                    text_wrap=True, valign="vcenter")
    cell = fmts.get(text_wrap=True, valign="top", border=1, border_color=BORDER)
    link = fmts.get(text_wrap=True, valign="top", border=1, border_color=BORDER, font_color="#0563C1", underline=1)
    for j, width in enumerate(GUIDE_WIDTHS):
        ws.set_column(j, j, width)

    ws.write_string(0, 0, storable_text(_title(company, year, lang)), title)
    ws.write_string(1, 0, _t("subtitle", lang), fmts.get(italic=True, font_color="#595959"))
    row = 3
    ws.merge_range(row, 0, row, 4, _t("steps", lang), section)
    row += 1
    for step in _STEPS[lang]:
        ws.merge_range(row, 0, row, 4, step, wrap)
        _fit_height(ws, row, [(step, sum(GUIDE_WIDTHS))])
        row += 1
    row += 1
    ws.merge_range(row, 0, row, 4, _t("legend", lang), section)
    row += 1
    ws.write_string(row, 0, _t("input", lang), fmts.cell(None, False))
    ws.merge_range(row, 1, row, 4, _t("legend_input", lang), wrap)
    row += 1
    ws.write_string(row, 0, _t("computed", lang), fmts.cell(None, True))
    ws.merge_range(row, 1, row, 4, _t("legend_computed", lang), wrap)
    row += 2

    ws.merge_range(row, 0, row, 4, _t("sheets", lang), section)
    row += 1
    for j, key in enumerate(("h_sheet", "h_table", "h_purpose", "h_required", "h_computed")):
        ws.write_string(row, j, _t(key, lang), head)
    row += 1
    sep = "、" if lang == "zh" else ", "
    for spec in model.TABLES:
        sheet = spec.sheet(lang)
        ws.write_url(row, 0, f"internal:'{sheet}'!A1", link, sheet)
        ws.write_string(row, 1, spec.name, cell)
        purpose = spec.guide(lang) + (("；" if lang == "zh" else "; ") + _t("open_columns", lang)
                                      if spec.open_columns else "")
        ws.write_string(row, 2, purpose, cell)
        ws.write_string(row, 3, sep.join(c.header(lang) for c in spec.columns if c.required), cell)
        computed = sep.join(c.header(lang) for c in spec.computed_columns)
        ws.write_string(row, 4, computed, cell)
        _fit_height(ws, row, [(purpose, GUIDE_WIDTHS[2]), (computed, GUIDE_WIDTHS[4])])
        row += 1
    for key, (zh_purpose, en_purpose) in _OWNED_PURPOSE.items():
        ws.write_string(row, 0, model.owned_sheet_name(key, lang), cell)
        ws.write_string(row, 1, "", cell)
        ws.write_string(row, 2, zh_purpose if lang == "zh" else en_purpose, cell)
        ws.write_string(row, 3, "", cell)
        ws.write_string(row, 4, _t("after_fill", lang), cell)
        _fit_height(ws, row, [(zh_purpose if lang == "zh" else en_purpose, GUIDE_WIDTHS[2])])
        row += 1
    row += 1

    ws.merge_range(row, 0, row, 4, _t("columns", lang), section)
    row += 1
    for j, key in enumerate(("h_sheet", "h_column", "h_help")):
        ws.write_string(row, j, _t(key, lang), head)
    ws.merge_range(row, 3, row, 4, _t("h_kind", lang), head)
    row += 1
    for spec in model.TABLES:
        for col in spec.columns:
            ws.write_string(row, 0, spec.sheet(lang), cell)
            ws.write_string(row, 1, col.header(lang), fmts.cell(None, col.computed))
            kind = _KIND_NAMES[col.kind][0 if lang == "zh" else 1]
            note = _column_note(col, lang)
            ws.write_string(row, 2, note, cell)
            _fit_height(ws, row, [(note, GUIDE_WIDTHS[2])])
            ws.merge_range(row, 3, row, 4, kind, cell)
            row += 1
    _print_setup(ws, lang, landscape=False)


def _fit_height(ws, row: int, cells: Iterable[tuple[str, float]]) -> None:
    """Set a row tall enough for its wrapped cells (merged cells are not auto-fitted)."""
    lines = max((_text_lines(text, width) for text, width in cells if text), default=1)
    ws.set_row(row, 15 * max(lines, 1) + 3)


def _column_note(col: model.Column, lang: str) -> str:
    parts: list[str] = []
    if col.required:
        parts.append(_t("required", lang))
    if col.computed:
        parts.append(_t("computed_note", lang))
    if col.help(lang):
        parts.append(col.help(lang))
    if col.choices:
        parts.append(_t("choices", lang) + " / ".join(ch.label(lang) for ch in col.choices))
    return ("；" if lang == "zh" else "; ").join(parts)
