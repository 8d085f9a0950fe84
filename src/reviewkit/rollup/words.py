"""What ``rollup`` says, in Chinese and English: the status sheet, the report and the drift kinds."""
from __future__ import annotations

from ..messages import Messages

WORDS = Messages({
    # the report the command prints
    "head": ("已汇总 {n} 个文件中的 {ok} 个{into}", "rollup of {ok} of {n} file(s){into}"),
    "into": ("，写入 {out}", " into {out}"),
    "file": ("  {status} {name}{unit}{reason}", "  {status:<7} {name}{unit}{reason}"),
    "unit": ("（{unit}）", " ({unit})"),
    "reason": ("——{reason}", " — {reason}"),
    "drift_head": ("结构差异（{n} 处）：", "schema drift ({n}):"),
    "drift": ("{file}：{table}：{kind}：{detail}", "{file}: {table}: {kind}: {detail}"),
    "not_submitted_line": ("未提交：{units}", "not submitted: {units}"),
    "stale_line": ("结果未更新（请运行 reviewkit batch）：{files}",
                   "results not up to date (run reviewkit batch): {files}"),
    "stale_file": ("{name}（{why}）", "{name} ({why})"),
    "gaps_head": ("缺少原因或行动的红灯 KPI：", "red KPIs lacking a cause or an action:"),
    "gap": ("  {unit} · {kpi}：缺少{missing}", "  {unit} · {kpi}: no {missing}"),
    "list_sep": ("、", ", "),
    # the status sheet
    "title": ("汇总状态：文件、结构差异、未提交、未更新、闭环缺口",
              "Rollup status: files, schema drift, missing submissions, stale results, closed-loop gaps"),
    "h_file": ("文件", "File"), "h_unit": ("单位", "Unit"), "h_status": ("状态", "Status"),
    "h_rows": ("行数", "Rows"), "h_reason": ("说明", "Reason"), "h_table": ("表", "Table"),
    "h_kind": ("类型", "Kind"), "h_detail": ("说明", "Detail"),
    "drift_title": ("结构差异", "Schema drift"),
    "not_submitted": ("未提交的单位", "Not submitted"),
    "stale": ("结果未更新（请运行 reviewkit batch）", "Results not up to date (run reviewkit batch)"),
    "gaps": ("缺少原因或行动的红灯 KPI", "Red KPIs lacking a cause or an action"),
    "none": ("无", "none"),
    "workbook": ("工作簿", "workbook"),
}, {
    # drift kinds and file statuses
    "missing column": ("缺少列", "missing column"), "extra column": ("多出的列", "extra column"),
    "renamed column": ("列名不同", "renamed column"), "KPI definition": ("KPI定义不同", "KPI definition"),
    "extra KPI": ("多出的KPI", "extra KPI"), "missing KPI": ("缺少KPI", "missing KPI"),
    "other unit": ("其他单位的行", "other unit"), "external link": ("外部链接", "external link"),
    "duplicate unit": ("单位重复", "duplicate unit"), "duplicate row": ("重复行", "duplicate row"),
    "last year": ("去年数值不同", "last year"),
    "ok": ("正常", "ok"), "drift": ("结构有差异", "drift"), "refused": ("未汇总", "refused"),
    "never filled": ("从未填写", "never filled"), "inputs changed": ("输入已改动", "inputs changed"),
    "cause": ("原因", "cause"), "action": ("行动", "action"),
})
say = WORDS.say
label = WORDS.label
