"""What the workbook checks about units, structure and typed numbers say, in Chinese and English.

A Chinese workbook's problems are read by people who may not read English, so these findings
are written in the workbook's language. Each entry is a pair of ``str.format`` templates
(zh, en) taking the same fields (a test checks that), like ``planning.messages``.
"""
from __future__ import annotations

from ..messages import Messages

_TEXTS: dict[str, tuple[str, str]] = {
    # units and scale
    "percent_bare": ("“{name}”是百分比指标，{column} 填的是 {value}：按 {value_pct} 计算；若是 {value}%，请输入“{value}%”或 {fraction}",
                     "KPI '{name}' is a percentage and {column} holds {value}, which counts as {value_pct}; "
                     "if you mean {value}%, type '{value}%' or {fraction}"),
    "percent_bare_expected": ("百分比，如 12% 或 0.12", "a percentage such as 12% or 0.12"),
    "scale_outlier": ("{unit} / {name}：{column} {value} 与本行的 {others} 相差 100 倍以上，请检查单位（{kpi_unit}）",
                      "{unit} / {name}: {column} {value} is 100× or more away from {others} in the same row; "
                      "check the unit ({kpi_unit})"),
    "scale_outlier_expected": ("与目标、去年同一量级的数值（单位 {kpi_unit}）",
                               "a value of the same scale as the target and last year (in {kpi_unit})"),
    "no_unit": ("未填写单位", "no unit given"),
    # structure
    "missing_measure_column": ("表格“{table}”没有“{column}”列：{why}",
                               "table '{table}' has no '{column}' column: {why}"),
    "missing_actual_why": ("没有实际值就无法计算达成率、同比和排名", "without actuals there is no achievement, change or rank"),
    "missing_target_why": ("没有目标就无法计算达成率和状态", "without targets there is no achievement or status"),
    "missing_column_expected": ("表头为“{zh}”或“{en}”的一列", "a column headed '{zh}' or '{en}'"),
    "empty_table": ("{sheet} 没有数据行：请在 {cells} 填写目标和实际值",
                    "{sheet} has no rows: type targets and actuals in {cells}"),
    "empty_table_expected": ("每个单位×KPI 一行", "one row per unit and KPI"),
    "total_row": ("“{unit}”是合计行：不参与排名，也不算作一个单位",
                  "'{unit}' is a total row: it is left out of the ranks and not counted as a unit"),
    "total_row_expected": ("只列各单位；合计由 reviewkit 计算", "one row per unit; totals are computed"),
    "near_duplicate": ("单位“{name}”与 {other_cell} 的“{other}”像是同一个单位：{why}",
                       "unit '{name}' looks like '{other}' in {other_cell}: {why}"),
    "near_duplicate_why": ("它们会被当作两个单位排名", "they are ranked as two units"),
    "near_duplicate_expected": ("同一单位每次写法相同（如都写“{other}”）",
                                "the same spelling for one unit every time (e.g. '{other}')"),
    "missing_target": ("{unit} / {name} 没有目标：无法计算达成率和状态",
                       "{unit} / {name} has no target: no achievement or status"),
    "missing_target_expected": ("目标值", "a target"),
    "merged": ("{cells} 是合并单元格，位于表格“{table}”中：只有 {first} 有值，其他行读作空白",
               "cells {cells} are merged inside table '{table}': only {first} holds a value, the other "
               "rows read as blank"),
    "merged_expected": ("取消合并，在每一行填写", "unmerge them and type the value in every row"),
    "required_merged": ("“{column}”为空：此单元格与 {first} 合并（{cells}），合并单元格只有第一格有值",
                        "the required '{column}' is empty: the cell is merged with {first} ({cells}), "
                        "and only the first cell of merged cells holds a value"),
    # fill
    "converted": ("已将 {n} 个文本数字转为数值：{cells}", "converted {n} text numbers: {cells}"),
    "trimmed": ("已去掉 {n} 个单位、KPI代码或任务编号前后的空格：{cells}",
                "trimmed the spaces around {n} units, KPI codes or task IDs: {cells}"),
}


_MESSAGES = Messages(_TEXTS)
say = _MESSAGES.say
fields = _MESSAGES.fields
keys = _MESSAGES.keys
