"""The review workbook model: named tables, canonical column keys, localized headers.

Excel Tables are the contract between reviewkit and its users. Every input lives in a
named table (``Scorecard``, ``KPIs`` …) whose columns are found by header text, not by
position, so users can add rows, reorder columns or move a table without breaking
anything. Each column has a stable canonical key (``target``), a Chinese and an English
header, and synonyms that a reader also accepts (``计划``, ``Plan`` …).

This module is pure data: the template builder, the readers, ``fill`` and the xlwings
engine all take their table and column knowledge from here.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd

from . import caching
from .messages import Messages

LANGS = ("zh", "en")

# Column kinds: how a cell is parsed and styled.
TEXT, NUMBER, PERCENT, DATE, CHOICE, INTEGER = "text", "number", "percent", "date", "choice", "integer"


@dataclass(frozen=True)
class Choice:
    """A drop-down value: canonical key plus what a user sees and may type."""

    key: str
    zh: str
    en: str
    synonyms: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: str = TEXT
    required: bool = False
    synonyms: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    computed: bool = False  # written by ``fill``; never read as input
    width: float = 12
    help_zh: str = ""
    help_en: str = ""

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def help(self, lang: str) -> str:
        return self.help_zh if lang == "zh" else self.help_en


@dataclass(frozen=True)
class TableSpec:
    name: str  # the Excel table name (ASCII, stable across languages)
    sheet_zh: str
    sheet_en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # columns that must be unique together
    open_columns: bool = False  # extra columns allowed (facts: dimensions and measures)
    part: str = "review"  # "settings", "review" or "plan"
    guide_zh: str = ""
    guide_en: str = ""

    def sheet(self, lang: str) -> str:
        return self.sheet_zh if lang == "zh" else self.sheet_en

    def guide(self, lang: str) -> str:
        return self.guide_zh if lang == "zh" else self.guide_en

    @property
    def input_columns(self) -> tuple[Column, ...]:
        return _spec_index(self)[1]

    @property
    def computed_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.computed)

    def column(self, key: str) -> Column:
        try:
            found = _spec_index(self)[0].get(key)
        except TypeError:  # an unhashable key names no column
            found = None
        if found is None:
            raise KeyError(f"table {self.name} has no column {key!r}")
        return found


_SPEC_INDEX = caching.Cache("model.spec_index", 1000, identity=True)


def _spec_index(spec: TableSpec) -> tuple[dict[str, Column], tuple[Column, ...]]:
    """(key → first column with it, input columns) of ``spec``, built once per spec object:
    the reader asks for them for every table of every workbook."""
    hit = _SPEC_INDEX.get(spec)
    if hit is None:
        by_key: dict[str, Column] = {}
        for c in spec.columns:
            by_key.setdefault(c.key, c)
        hit = _SPEC_INDEX.put(spec, (by_key, tuple(c for c in spec.columns if not c.computed)))
    return hit


# --- choice lists -------------------------------------------------------------------
DIRECTIONS = (
    Choice("higher", "越高越好", "Higher is better", ("高", "正向", "higher", "up", "max", "越大越好")),
    Choice("lower", "越低越好", "Lower is better", ("低", "反向", "lower", "down", "min", "越小越好")),
    Choice("range", "区间内为好", "Within a range", ("区间", "范围", "range", "band", "within")),
)
AGGREGATIONS = (
    Choice("sum", "求和", "Sum", ("合计", "加总", "sum", "total")),
    Choice("average", "平均", "Average", ("平均值", "均值", "avg", "mean", "average")),
    Choice("last", "期末值", "Last", ("期末", "最新", "last", "latest", "end")),
    Choice("ratio", "比率", "Ratio", ("比例", "比值", "率", "ratio", "rate")),
)
CAUSE_KINDS = (
    Choice("problem", "问题", "Problem", ("未达标", "不足", "problem", "issue", "miss")),
    Choice("success", "经验", "What worked", ("成功", "亮点", "达标", "success", "worked", "win")),
)
ACTION_STATUS = (
    Choice("not_started", "未开始", "Not started", ("待开始", "not started", "todo", "open")),
    Choice("in_progress", "进行中", "In progress", ("执行中", "in progress", "doing", "ongoing")),
    Choice("done", "已完成", "Done", ("完成", "done", "closed", "complete", "completed")),
    Choice("blocked", "受阻", "Blocked", ("阻塞", "暂停", "blocked", "on hold")),
)
KEEP_STOP_START = (
    Choice("keep", "保持", "Keep", ("继续", "keep", "continue")),
    Choice("stop", "停止", "Stop", ("放弃", "stop", "drop")),
    Choice("start", "开始", "Start", ("新增", "启动", "start", "new")),
)


def _c(key, zh, en, kind=TEXT, **kw) -> Column:
    return Column(key, zh, en, kind, **kw)


# --- the tables ---------------------------------------------------------------------
SETTINGS = TableSpec(
    "Settings", "设置", "Settings",
    (
        _c("setting", "项目", "Setting", required=True, synonyms=("参数", "名称", "key", "name"), width=22),
        _c("value", "值", "Value", required=True, synonyms=("取值", "内容"), width=28),
        _c("note", "说明", "Note", synonyms=("备注", "description"), width=50),
    ),
    key=("setting",), part="settings",
    guide_zh="公司名称、复盘年度、比较单位（部门/区域/人员）、截止日期等全局设置。",
    guide_en="Company name, review year, what a unit is (department/region/person), as-of date.",
)
# Canonical setting keys and their defaults; labels shown in the Settings table.
SETTING_KEYS = {
    "company": ("公司", "Company", ""),
    "review_year": ("复盘年度", "Review year", None),
    "unit_label": ("比较单位", "Unit label", "部门"),
    "as_of": ("截止日期", "As-of date", None),
    "deviation_threshold": ("进度偏差阈值", "Deviation threshold", 0.10),
    "max_parallel_tasks": ("每人同时任务上限", "Max parallel tasks per owner", 3),
    "plan_end": ("计划截止日", "Plan end date", None),
    "currency_unit": ("金额单位", "Currency unit", "万元"),
}

KPIS = TableSpec(
    "KPIs", "KPI定义", "KPIs",
    (
        _c("key", "KPI代码", "KPI key", required=True, synonyms=("代码", "指标代码", "kpi", "code", "id"), width=16,
           help_zh="唯一代码；计分卡等表格填代码或KPI名称均可", help_en="Unique code; other tables may name a KPI by its code or its name"),
        _c("name", "KPI名称", "KPI name", required=True, synonyms=("指标", "指标名称", "名称", "kpi name", "metric"), width=18),
        _c("unit", "单位", "Unit", synonyms=("计量单位", "unit of measure", "uom"), width=8,
           help_zh="万元、元、%、家…：计分卡里输入的 1.2亿、1,200万、12% 按此单位换算",
           help_en="万元, 元, %, … : 1.2亿, 1,200万 or 12% typed in the scorecard are read in this unit"),
        _c("direction", "方向", "Direction", CHOICE, required=True, choices=DIRECTIONS, synonyms=("指标方向", "好坏方向"), width=14),
        _c("aggregation", "汇总方式", "Aggregation", CHOICE, choices=AGGREGATIONS, synonyms=("聚合", "汇总", "aggregate"), width=10),
        _c("measure", "明细度量", "Fact measure", synonyms=("度量", "measure", "明细字段"), width=14,
           help_zh="明细表中对应的数值列（可加总指标）", help_en="Column in the detail facts for additive KPIs"),
        _c("numerator", "分子", "Numerator", synonyms=("分子字段",), width=12,
           help_zh="比率指标的分子列，如 续约数", help_en="Ratio KPIs: numerator column, e.g. renewed"),
        _c("denominator", "分母", "Denominator", synonyms=("分母字段",), width=12,
           help_zh="比率指标的分母列，如 到期数", help_en="Ratio KPIs: denominator column, e.g. due"),
        _c("green", "绿灯阈值", "Green at", PERCENT, synonyms=("达标线", "green threshold", "green"), width=10),
        _c("amber", "黄灯阈值", "Amber at", PERCENT, synonyms=("预警线", "amber threshold", "amber", "yellow"), width=10),
        _c("neutral_band", "中性区间", "Neutral band", PERCENT, synonyms=("容差", "neutral", "tolerance"), width=10),
        _c("range_low", "区间下限", "Range low", NUMBER, synonyms=("下限", "min", "low"), width=10),
        _c("range_high", "区间上限", "Range high", NUMBER, synonyms=("上限", "max", "high"), width=10),
        _c("number_format", "数字格式", "Number format", synonyms=("格式", "format"), width=12),
        _c("weight", "权重", "Weight", NUMBER, synonyms=("比重", "weight %"), width=8),
    ),
    key=("key",),
    guide_zh="每个KPI一行：方向（越高越好/越低越好/区间）、汇总方式、红黄绿阈值、权重。",
    guide_en="One row per KPI: direction, how it aggregates, RAG thresholds, weight.",
)

SCORECARD = TableSpec(
    "Scorecard", "计分卡", "Scorecard",
    (
        _c("unit", "单位", "Unit", required=True, synonyms=("部门", "区域", "人员", "团队", "事业部", "department", "region", "team", "person", "owner"), width=12),
        _c("kpi", "KPI代码", "KPI key", required=True, synonyms=("指标代码", "kpi", "指标"), width=14),
        _c("target", "目标", "Target", NUMBER, synonyms=("计划", "目标值", "计划值", "plan", "goal", "budget"), width=11),
        _c("actual", "实际", "Actual", NUMBER, synonyms=("实际值", "完成", "完成值", "实绩", "actual value"), width=11),
        _c("last_year", "去年", "Last year", NUMBER, synonyms=("上年", "去年同期", "上年同期", "ly", "prior year", "previous year"), width=11),
        _c("year_before", "前年", "Year before", NUMBER, synonyms=("两年前", "前年同期", "2 years ago", "py2"), width=11),
        _c("industry_avg", "行业平均", "Industry average", NUMBER, synonyms=("行业均值", "industry avg", "market average"), width=11),
        _c("competitor", "竞争对手", "Competitor", NUMBER, synonyms=("竞品", "对标企业", "competition"), width=11),
        _c("industry_top", "行业标杆", "Industry top", NUMBER, synonyms=("行业领先", "行业最高", "标杆", "industry best", "leader", "best in class"), width=11),
        # Computed by ``fill``: live formulas with cached values.
        _c("achievement", "达成率", "Achievement", PERCENT, computed=True, width=10),
        _c("gap", "差额", "Gap", NUMBER, computed=True, width=10),
        _c("change_ly", "同比变化", "Change vs LY", NUMBER, computed=True, width=11),
        _c("change_ly_pct", "同比%", "Growth vs LY %", PERCENT, computed=True, width=10),
        _c("change_yb_pct", "较前年%", "Growth vs YB %", PERCENT, computed=True, width=10),
        _c("vs_industry_avg", "较行业平均", "vs industry avg", NUMBER, computed=True, width=11),
        _c("vs_competitor", "较竞争对手", "vs competitor", NUMBER, computed=True, width=11),
        _c("vs_industry_top", "较行业标杆", "vs industry top", NUMBER, computed=True, width=11),
        _c("status", "状态", "Status", computed=True, width=8),
        _c("rank", "排名", "Rank", INTEGER, computed=True, width=7),
        _c("rank_ly", "去年排名", "Rank LY", INTEGER, computed=True, width=8),
        _c("rank_change", "排名变化", "Rank change", INTEGER, computed=True, width=9),
        _c("conclusion", "结论", "Conclusion", computed=True, width=60),
    ),
    key=("unit", "kpi"),
    guide_zh="每个单位×KPI一行：目标、实际、去年、前年，以及可选的行业平均、竞争对手、行业标杆。灰色列由 reviewkit 计算。",
    guide_en="One row per unit and KPI: target, actual, last year, the year before, optional benchmarks. Grey columns are computed.",
)

FACTS = TableSpec(
    "Facts", "明细", "Facts",
    (
        _c("period", "期间", "Period", DATE, required=True, synonyms=("月份", "日期", "年月", "month", "date"), width=10),
        _c("unit", "单位", "Unit", required=True, synonyms=SCORECARD.column("unit").synonyms, width=12),
    ),
    open_columns=True,
    guide_zh="从 ERP/CRM 导出的明细：期间、单位，任意维度列（行业、客户规模、签约批次、区域、产品线、负责人…）和数值列（销售额、到期数、续约数…）。",
    guide_en="Detail rows pasted from an ERP/CRM export: period, unit, any dimension columns and numeric measures.",
)

CAUSES = TableSpec(
    "Causes", "原因与经验", "Causes",
    (
        _c("unit", "单位", "Unit", required=True, synonyms=SCORECARD.column("unit").synonyms, width=12),
        _c("kpi", "KPI代码", "KPI key", required=True, synonyms=("指标代码", "kpi", "指标"), width=14),
        _c("kind", "类型", "Kind", CHOICE, required=True, choices=CAUSE_KINDS, synonyms=("类别", "type"), width=10),
        _c("cause", "原因", "Cause", synonyms=("原因分析", "reason", "why", "经验"), width=40),
        _c("evidence", "数据证据", "Evidence", synonyms=("证据", "依据", "数据", "data", "proof"), width=36,
           help_zh="用数字说明，例如“40%流失客户转向低价产品”", help_en="A number, e.g. '40% of lost customers moved to a cheaper product'"),
        _c("action", "改进措施", "Action", synonyms=("措施", "对策", "measure", "countermeasure"), width=30),
        _c("owner", "负责人", "Owner", synonyms=("责任人", "owner", "responsible"), width=10),
        _c("due", "截止日期", "Due", DATE, synonyms=("完成日期", "期限", "deadline", "due date"), width=11),
    ),
    guide_zh="每个KPI的原因（未达标）与经验（达标），必须附数据证据。",
    guide_en="Causes (unmet KPIs) and what worked (met KPIs), each with evidence.",
)

PLAN = TableSpec(
    "Plan", "执行计划", "Plan",
    (
        _c("task_id", "任务编号", "Task ID", required=True, synonyms=("编号", "id", "task no"), width=9),
        _c("goal", "战略目标", "Goal", synonyms=("目标", "strategic goal", "objective"), width=22),
        _c("task", "关键任务", "Key task", required=True, synonyms=("任务", "task", "key result"), width=26),
        _c("owner", "负责人", "Owner", synonyms=("责任人", "owner", "responsible"), width=10),
        _c("start", "开始日期", "Start", DATE, synonyms=("开始", "start date", "begin"), width=11),
        _c("end", "结束日期", "End", DATE, synonyms=("结束", "截止", "end date", "finish"), width=11),
        _c("budget", "预算", "Budget", NUMBER, synonyms=("费用", "budget amount"), width=10),
        _c("people", "人力", "People", NUMBER, synonyms=("人员", "人数", "headcount", "fte"), width=8),
        _c("acceptance", "验收标准", "Acceptance criterion", synonyms=("验收", "acceptance", "done when"), width=30),
        _c("milestone", "里程碑", "Milestone", synonyms=("是否里程碑", "milestone?"), width=8),
        _c("kpi", "KPI代码", "KPI key", synonyms=("指标代码", "kpi"), width=12),
    ),
    key=("task_id",), part="plan",
    guide_zh="执行计划：目标→关键任务，唯一负责人、起止日期、资源（预算、人力）、可衡量的验收标准。",
    guide_en="Execution plan: goal, key task, one owner, start–end, resources, a measurable acceptance criterion.",
)

PROGRESS = TableSpec(
    "Progress", "进度跟踪", "Progress",
    (
        _c("task_id", "任务编号", "Task ID", required=True, synonyms=("编号", "id"), width=9),
        _c("milestone", "里程碑", "Milestone", synonyms=("节点", "checkpoint"), width=20),
        _c("planned_start", "计划开始", "Planned start", DATE, synonyms=("计划开始日期",), width=11),
        _c("planned_date", "计划完成", "Planned date", DATE, synonyms=("计划日期", "计划完成日期", "planned", "due"), width=11),
        _c("actual_date", "实际完成", "Actual date", DATE, synonyms=("实际日期", "实际完成日期", "actual", "done on"), width=11),
        _c("pct_complete", "完成度", "% complete", PERCENT, synonyms=("进度", "完成比例", "progress", "complete"), width=9),
        _c("problem", "主要问题", "Main problem", synonyms=("问题", "偏差原因", "cause"), width=26),
        _c("countermeasure", "应对措施", "Countermeasure", synonyms=("对策", "措施", "action"), width=26),
        _c("owner", "负责人", "Owner", synonyms=("责任人",), width=10),
    ),
    part="plan",
    guide_zh="进度跟踪：计划与实际完成日期、完成度；偏差超过±10%必须写明问题和应对措施。",
    guide_en="Progress: planned vs actual dates, % complete; beyond ±10% needs a problem and a countermeasure.",
)

RESULTS = TableSpec(
    "Results", "结果复盘", "Results",
    (
        _c("goal", "目标指标", "Target metric", required=True, synonyms=("目标", "指标", "metric"), width=22),
        _c("kpi", "KPI代码", "KPI key", synonyms=("指标代码", "kpi"), width=12),
        _c("planned", "计划值", "Planned", NUMBER, synonyms=("计划", "目标值", "plan"), width=11),
        _c("actual", "实际值", "Actual", NUMBER, synonyms=("实际", "actual value"), width=11),
        _c("cause", "偏差原因", "Cause of deviation", synonyms=("原因",), width=30),
        _c("lesson", "经验教训", "Lesson", synonyms=("经验", "教训", "lesson learned"), width=30),
    ),
    part="plan",
    guide_zh="结果复盘：每个目标的计划值、实际值、达成率、偏差原因与经验教训。",
    guide_en="Results review: planned, actual, achievement, cause of deviation, lesson.",
)

ACTIONS = TableSpec(
    "Actions", "改进行动", "Actions",
    (
        _c("item", "改进事项", "Improvement item", required=True, synonyms=("事项", "问题", "item"), width=24),
        _c("measure", "具体措施", "Measure", synonyms=("措施", "action"), width=28),
        _c("owner", "负责人", "Owner", synonyms=("责任人",), width=10),
        _c("due", "完成期限", "Due", DATE, synonyms=("截止日期", "期限", "deadline"), width=11),
        _c("support", "所需支持", "Support needed", synonyms=("支持", "资源"), width=20),
        _c("acceptance", "验收标准", "Acceptance criterion", synonyms=("验收",), width=24),
        _c("status", "状态", "Status", CHOICE, choices=ACTION_STATUS, synonyms=("进展",), width=10),
        _c("unit", "单位", "Unit", synonyms=SCORECARD.column("unit").synonyms, width=12),
        _c("kpi", "KPI代码", "KPI key", synonyms=("指标代码", "kpi"), width=12),
    ),
    part="plan",
    guide_zh="后续改进行动：每个红灯KPI至少对应一项，有负责人、期限和验收标准。",
    guide_en="Follow-up actions: every red KPI links to at least one, with owner, due date, acceptance.",
)

NEXT_YEAR = TableSpec(
    "NextYear", "明年目标", "Next year",
    (
        _c("unit", "单位", "Unit", synonyms=SCORECARD.column("unit").synonyms, width=12),
        _c("kpi", "KPI代码", "KPI key", required=True, synonyms=("指标代码", "kpi"), width=14),
        _c("annual_target", "年度目标", "Annual target", NUMBER, required=True, synonyms=("目标", "全年目标", "target"), width=12),
        _c("strategy", "核心策略", "Core strategy", synonyms=("策略", "strategy"), width=30),
        _c("q1", "Q1目标", "Q1 target", NUMBER, computed=True, width=10),
        _c("q2", "Q2目标", "Q2 target", NUMBER, computed=True, width=10),
        _c("q3", "Q3目标", "Q3 target", NUMBER, computed=True, width=10),
        _c("q4", "Q4目标", "Q4 target", NUMBER, computed=True, width=10),
    ),
    key=("unit", "kpi"), part="plan",
    guide_zh="明年年度目标与核心策略；季度目标按往年季节性自动拆分，可修改。",
    guide_en="Next year's annual targets and strategies; quarterly split by past seasonality, editable.",
)

KEEP_STOP_START_TABLE = TableSpec(
    "KeepStopStart", "保持停止开始", "Keep stop start",
    (
        _c("decision", "决定", "Decision", CHOICE, required=True, choices=KEEP_STOP_START, synonyms=("类型",), width=10),
        _c("item", "事项", "Item", required=True, synonyms=("内容",), width=36),
        _c("reason", "理由", "Reason", synonyms=("原因", "依据"), width=36),
        _c("owner", "负责人", "Owner", synonyms=("责任人",), width=10),
    ),
    part="plan",
    guide_zh="明年保持、停止、开始做的事情。", guide_en="What to keep, stop and start next year.",
)

RISKS = TableSpec(
    "Risks", "风险", "Risks",
    (
        _c("risk", "风险", "Risk", required=True, synonyms=("风险点",), width=30),
        _c("impact", "影响", "Impact", synonyms=("影响程度",), width=16),
        _c("countermeasure", "应对措施", "Countermeasure", synonyms=("对策", "措施"), width=30),
        _c("owner", "负责人", "Owner", synonyms=("责任人",), width=10),
    ),
    part="plan",
    guide_zh="风险及每项风险的应对措施。", guide_en="Risks, each with a countermeasure.",
)

BUDGET = TableSpec(
    "Budget", "预算", "Budget",
    (
        _c("category", "费用类别", "Category", required=True, synonyms=("类别", "科目", "策略", "category"), width=18),
        _c("budget", "预算", "Budget", NUMBER, synonyms=("预算金额",), width=11),
        _c("spend", "实际支出", "Spend", NUMBER, synonyms=("支出", "实际费用", "actual spend"), width=11),
        _c("revenue", "带来收入", "Revenue attributed", NUMBER, synonyms=("收入", "产出", "return"), width=12),
        _c("saved_hours", "节省工时", "Hours saved", NUMBER, synonyms=("节省人工",), width=10),
    ),
    key=("category",), part="plan",
    guide_zh="各类费用的预算、实际支出与带来的收入（ROI）；无法直接归因的支出会被标出。",
    guide_en="Spend vs budget by category and the return each brought (ROI).",
)

CAMPAIGNS = TableSpec(
    "Campaigns", "大促与假期", "Campaigns",
    (
        _c("name", "名称", "Name", required=True, synonyms=("活动", "大促", "节假日", "campaign"), width=14),
        _c("start", "开始日期", "Start", DATE, required=True, synonyms=("开始",), width=11),
        _c("end", "结束日期", "End", DATE, required=True, synonyms=("结束",), width=11),
        _c("kind", "类型", "Kind", synonyms=("类别",), width=10, help_zh="大促 或 假期", help_en="campaign or holiday"),
    ),
    part="plan",
    guide_zh="大促期间（618、双11、年终）与法定假期，用于甘特图与冲突检查。",
    guide_en="Campaign periods (618, Double 11, year-end) and holidays for the timeline.",
)

TABLES: tuple[TableSpec, ...] = (SETTINGS, KPIS, SCORECARD, FACTS, CAUSES, PLAN, PROGRESS, RESULTS,
                                 ACTIONS, NEXT_YEAR, KEEP_STOP_START_TABLE, RISKS, BUDGET, CAMPAIGNS)
TABLES_BY_NAME = {t.name: t for t in TABLES}

#: sheets reviewkit owns and rebuilds on every fill (never edited by users): key -> (zh, en)
_SHEETS = Messages.load("model")
OWNED_SHEETS = _SHEETS.labels
owned_sheet_name = _SHEETS.label


# --- header matching ----------------------------------------------------------------
_HEADER_NOISE = re.compile(r"[\s_\-\.:/（）()\[\]【】%％#*：]+")


def normalize_header(text: object) -> str:
    """Fold a header for matching: full-width to half-width, case, spaces, punctuation."""
    return _fold(text if type(text) is str else str(text or ""))


@caching.memo("model.normalize_header", 50_000)
def _fold(text: str) -> str:
    """``normalize_header`` of a text: the reader folds the same few hundred headers, aliases
    and choice labels for every workbook."""
    return _HEADER_NOISE.sub("", unicodedata.normalize("NFKC", text).strip().lower())


def header_aliases(column: Column) -> set[str]:
    return set(_aliases(column))


_ALIASES = caching.Cache("model.aliases", 1000, identity=True)


def _aliases(column: Column) -> frozenset[str]:
    """``header_aliases`` computed once per column object (the specs are module constants)."""
    hit = _ALIASES.get(column)
    if hit is None:
        names = {column.key, column.zh, column.en, *column.synonyms}
        hit = _ALIASES.put(column, frozenset(normalize_header(n) for n in names if n))
    return hit


_ALIAS_MAPS = caching.Cache("model.alias_maps", 1000, identity=True)


def _alias_map(table: TableSpec) -> dict[str, str]:
    """Normalized alias → column key for ``table``, built once per spec object."""
    hit = _ALIAS_MAPS.get(table)
    if hit is not None:
        return hit
    alias_to_key: dict[str, str] = {}
    # Exact headers take precedence over synonyms (e.g. "目标" is Target, not a synonym elsewhere).
    for col in table.columns:
        for alias in (normalize_header(col.key), normalize_header(col.zh), normalize_header(col.en)):
            alias_to_key.setdefault(alias, col.key)
    for col in table.columns:
        for alias in header_aliases(col):
            alias_to_key.setdefault(alias, col.key)
    return _ALIAS_MAPS.put(table, alias_to_key)


def match_headers(table: TableSpec, headers: list[str]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Map canonical keys to header positions; return (found, unmatched headers).

    A header matches a column by its key, Chinese or English header, or a synonym, after
    ``normalize_header``. The first header to claim a key wins; later duplicates are
    reported as unmatched so the reader can say which column was ignored.
    """
    alias_to_key = _alias_map(table)
    found: dict[str, int] = {}
    unmatched: list[tuple[int, str]] = []
    for i, h in enumerate(headers):
        key = alias_to_key.get(normalize_header(h))
        if key is not None and key not in found:
            found[key] = i
        else:
            unmatched.append((i, h))
    return found, unmatched


_CHOICE_MAPS = caching.Cache("model.choice_maps", 1000, identity=True)


def choice_key(column: Column, value: object) -> str | None:
    """Canonical key for a drop-down value typed in either language; None if unknown."""
    table = _CHOICE_MAPS.get(column)
    if table is None:
        table = {}
        for ch in column.choices:  # the first choice naming a text wins, as in a linear scan
            for x in (ch.key, ch.zh, ch.en, *ch.synonyms):
                table.setdefault(normalize_header(x), ch.key)
        table = _CHOICE_MAPS.put(column, table)
    return table.get(normalize_header(value))


# --- the in-memory review -----------------------------------------------------------
@dataclass(frozen=True)
class TableLayout:
    """Where a table sits in its worksheet, so ``fill`` can write beside rows and errors name cells.

    Rows are 1-based worksheet rows. ``columns`` maps canonical keys (computed ones and, for
    Facts, dimension/measure names too) to column letters; ``rows[i]`` is the worksheet row of
    DataFrame row ``i`` (blank rows inside the table are skipped, so they may not be contiguous).
    """

    table: str
    sheet: str
    ref: str  # e.g. "B4:F20", header row included
    header_row: int
    first_row: int  # first data row (header_row + 1)
    last_row: int  # last data row, totals row excluded; == header_row when there are none
    columns: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # canonical key -> header text found
    rows: tuple[int, ...] = ()

    def cell(self, key: str, index: int | None = None) -> str:
        """A1 reference of column ``key`` in DataFrame row ``index`` (the header when None)."""
        row = self.header_row if index is None else self.rows[index]
        return f"{self.columns[key]}{row}"


@dataclass
class Review:
    """A review workbook as plain pandas: one DataFrame per table, columns by canonical key.

    ``locations`` maps (table, row index) to the worksheet row so validation and fill can
    name cells; ``settings`` is the Settings table as a dict of canonical keys.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)
    lang: str = "zh"
    source: str | None = None
    dimensions: list[str] = field(default_factory=list)  # fact columns that are dimensions
    measures: list[str] = field(default_factory=list)  # fact columns that are numeric measures
    layouts: dict[str, TableLayout] = field(default_factory=dict)  # table name -> where it sits
    #: a split department workbook's ranks among all units of its master (``split.read_peer_ranks``)
    peer_ranks: pd.DataFrame | None = None
    #: sheet -> {cell: number} for the input cells holding a number typed as text ('1,200万',
    #: '32%'), read in the column's unit; ``fill`` stores them as numbers
    text_numbers: dict[str, dict[str, float]] = field(default_factory=dict)
    #: sheet -> {cell: text} for key cells (unit, KPI code, task ID) typed with spaces around
    #: them, as read (trimmed); ``fill`` trims them so Excel's formulas match them too
    trimmed_keys: dict[str, dict[str, str]] = field(default_factory=dict)
    #: KPI key -> how the Scorecard's rows spell it ('revenue', '销售额') when some row names
    #: a KPI by its name: the live rank formulas match every spelling
    kpi_spellings: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        if name in self.tables:
            return self.tables[name]
        spec = TABLES_BY_NAME[name]
        return pd.DataFrame(columns=[c.key for c in spec.input_columns])

    @property
    def kpis(self) -> pd.DataFrame:
        return self.table("KPIs")

    @property
    def scorecard(self) -> pd.DataFrame:
        return self.table("Scorecard")

    @property
    def facts(self) -> pd.DataFrame:
        return self.table("Facts")

    @property
    def causes(self) -> pd.DataFrame:
        return self.table("Causes")
