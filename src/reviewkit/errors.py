"""One error tree for reviewkit.

Every error a user can cause is a ``ReviewkitError``. Its message names where the
problem is (file, sheet, cell), the value found and what was expected, so the CLI
can print it as one line and exit with code 2 instead of showing a traceback.

``str()`` is English. ``render(lang)`` gives the same line in the workbook's language: the
frame (file, sheet, cell, found, expected) always, and the message itself where the
``reading`` word table of ``data/words.toml`` or ``ZH_MESSAGES`` knows it (the reader's and validator's most frequent ones; the others stay
English inside the Chinese frame). An error or problem raised about a workbook carries that
workbook's language in ``lang`` (set by the reader and by fill); the CLI renders in it.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from . import caching

LANGS = ("zh", "en")

#: English messages (as regular expressions, matched whole) and their Chinese; ``{n}`` is group n
#: translated again (so "'X' in column 'Y' of table 'Z'" nests), ``{tn}`` group n as a table's
#: Chinese sheet name (``Scorecard`` -> 计分卡)
ZH_MESSAGES: list[tuple[re.Pattern, str]] = [(re.compile(a, re.S), b) for a, b in (
    (r"(.+) in column '(.+)' of table '(.+)'", "表格“{t3}”的“{2}”列：{1}"),
    (r"(.+) in setting '(.+)'", "设置项“{2}”：{1}"),
    (r"(.+) \(column ([A-Z]+)\)", "{1}（{2} 列）"),
    (r"(\d+) more value\(s\) like the above in (.+)", "{2} 中另有 {1} 个类似的值"),
    (r"unknown KPI key in table '(.+)'", "表格“{t1}”中有未定义的 KPI 代码"),
    (r"'(.+)' \(keys are matched exactly\)", "“{1}”（代码须完全一致）"),
    (r"a key defined in table 'KPIs': (.+)", "KPI定义表中的代码：{1}"),
    (r"duplicate row in table '(.+)': the same (.+) as (.+)", "表格“{t1}”有重复行：{2}与 {3} 相同"),
    (r"the required '(.+)' is empty in table '(.+)'", "表格“{t2}”的必填项“{1}”为空"),
    (r"a value for '(.+)'", "填写“{1}”"),
    (r"table '(.+)' lacks the required column '(.+)'", "表格“{t1}”缺少必需的列“{2}”"),
    (r"a header '(.+)' or '(.+)'", "列标题“{1}”或“{2}”"),
    (r"column '(.+)' is not a column of table '(.+)' and is ignored", "“{1}”不是表格“{t2}”的列，已忽略"),
    (r"column '(.+)' appears twice; the second is ignored", "“{1}”列出现两次，第二列被忽略"),
    (r"sheet '(.+)' has no Excel Table named '(.+)', so its cells are not read",
     "工作表“{1}”中没有名为“{2}”的 Excel 表格，其单元格不会被读取"),
    (r"select the data, Insert > Table, and name it '(.+)'", "选中数据，插入 > 表格，并命名为“{1}”"),
    (r"a table named '(.+)' \(Table Design > Table Name\)", "名为“{1}”的表格（表设计 > 表名称）"),
    (r"a header '(.+)' or '(.+)' \(or (.+)\)", "列标题“{1}”或“{2}”（或 {3}）"),
    (r"the ratio's denominator adds up to 0 in one year, so the rate is not defined",
     "比率的分母在某一年合计为 0，比率无法计算"),
    (r"target of (.+) / (.+) is 0, so its achievement rate cannot be computed",
     "{1} / {2} 的目标为 0，无法计算达成率"),
    (r"a non-zero target \(or leave it blank\)", "不为 0 的目标（或留空）"),
    (r"KPI '(.+)' amber threshold is above its green threshold", "KPI“{1}”的黄灯阈值高于绿灯阈值"),
    (r"KPI '(.+)' has a negative weight", "KPI“{1}”的权重为负数"),
    (r"ratio KPI '(.+)' has no (.+) column", "比率型 KPI“{1}”缺少{2}列"),
    # why a KPI was not broken down (the Breakdown sheet's note; str() of the error)
    (r"measure columns not in facts \(found (.+)\)", "明细表中没有它的度量列（{1}）"),
    (r"KPI '(.+)' uses aggregation 'last', which cannot be broken down into segments.*",
     "KPI“{1}”按期末值（last）汇总，无法按细分拆解"),
    (r"ratio KPI '(.+)' needs numerator and denominator columns.*", "比率型 KPI“{1}”需要分子列和分母列"),
    (r"the ratio's denominator adds up to 0 in one year, so the rate is not defined.+",
     "比率的分母在某一年合计为 0，比率无法计算"),
    (r"table 'facts' is empty: nothing to break down.*", "明细表为空，无可拆解"),
    (r"not a real number", "不是有效的数字"),
    (r"a date is not a number", "日期不是数字"),
    (r"a TRUE/FALSE value is not a number", "TRUE/FALSE 不是数字"),
    (r"an infinite number", "无穷大的数"),
    (r"not a number", "不是数字"),
    (r"not a date", "不是日期"),
    (r"not a period", "不是期间"),
    (r"not a percentage", "不是百分比"),
    (r"a number such as 1200, 1,200, 1\.2万, 12% or \(500\)", "数字，例如 1200、1,200、1.2万、12% 或 (500)"),
    (r"a percentage such as 90%, 0\.9 or 90", "百分比，例如 90%、0.9 或 90"),
    (r"a date such as 2025-03-15, 2025/3/15 or 2025年3月15日", "日期，例如 2025-03-15、2025/3/15 或 2025年3月15日"),
    (r"a period such as 2025-03, 2025Q3, 2025 or a date like 2025-03-15",
     "期间，例如 2025-03、2025Q3、2025 或 2025-03-15 这样的日期"),
    (r"results are stale: inputs changed since the last fill", "结果已过期：上次填写后输入有改动"),
    (r"run `reviewkit fill` \(or click Refresh\) to update them", "运行 reviewkit fill（或点击“刷新”按钮）更新结果"),
    (r"the workbook could not be read \((.+)\)", "无法读取工作簿（{1}）"),
    (r"(.+) \(and (\d+) more problems\)", "{1}（另有 {2} 个问题）"),
    # fill's warnings
    (r"sheet '(.+)': (\d+) computed cell\(s\) hold values typed by hand and were left as they are \((.+)\); "
     r"clear them to get the formulas back",
     "工作表“{1}”：{2} 个计算单元格是手工填写的值，已保留（{3}）；清空它们即可恢复公式"),
    (r"sheet '(.+)': (\d+) quarterly target\(s\) typed by hand were kept \((.+)\)",
     "工作表“{1}”：{2} 个手工填写的季度目标已保留（{3}）"),
    (r"sheet '(.+)': the Scorecard table has no column\(s\) (.+); add them \(grey headers\) to see those results",
     "工作表“{1}”：计分卡表缺少列 {2}；添加这些列（灰色表头）即可看到结果"),
    (r"KPI (.+) not broken down: (.+)", "KPI {1} 未拆解：{2}"),
    (r"no timeline: (.+)", "未生成甘特图：{1}"),
    (r"no quarterly targets: (.+)", "未拆分季度目标：{1}"),
)]

_FRAME = {
    "en": {"sheet": "sheet '{}'", "cell": "cell {}", "sep": ", ", "colon": ": ", "found": " (found {!r})",
           "expected": "; expected {}"},
    "zh": {"sheet": "工作表“{}”", "cell": "单元格 {}", "sep": "，", "colon": "：", "found": "（发现 {!r}）",
           "expected": "；应为 {}"},
}


def translate(text: str | None, lang: str = "zh") -> str | None:
    """``text`` in ``lang``: Chinese where ``ZH_MESSAGES`` or the ``reading`` word table knows
    it (English and unknown messages come back unchanged)."""
    if not text or lang != "zh":
        return text
    for pattern, zh in ZH_MESSAGES:
        m = pattern.fullmatch(text)
        if m:
            groups = m.groups()
            return zh.format("", *(translate(g, lang) for g in groups),
                             **{f"t{i}": _table_zh(g) for i, g in enumerate(groups, 1)})
    for pattern, zh in _reading_patterns():
        m = pattern.fullmatch(text)
        if m:
            return zh.format(**{k: _table_zh(v) if k == "table" else translate(v, lang)
                                for k, v in m.groupdict().items()})
    return text


@caching.memo("errors.reading_patterns", 1)
def _reading_patterns() -> tuple[tuple[re.Pattern, str], ...]:
    """The ``reading`` word table of ``data/words.toml`` as (English pattern, Chinese template):
    what the reader and validator say is kept in English (``str()``) and said in Chinese here.
    A field matches any text (repeated fields the same text; the templates with the most
    literal text are tried first); the Chinese template gets the
    matched text of each field, translated again (a field named ``table`` as its sheet name)."""
    from .messages import pairs

    found = []
    for zh, en in pairs("reading", "texts").values():
        rx, names = "", set()
        for literal, field, _, _ in string.Formatter().parse(en):
            rx += re.escape(literal)
            if field:
                rx += f"(?P={field})" if field in names else f"(?P<{field}>.+?)"
                names.add(field)
        found.append((re.compile(rx, re.S), re.sub(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}", r"{\1}", zh)))
    # the most specific first: "{detail} in {where}" must not take "... in setting '{name}'"
    found.sort(key=lambda p: -len(re.sub(r"\(\?P[<=]\w+>?(?:\.\+\?\))?", "", p[0].pattern)))
    return tuple(found)


def _table_zh(name: str) -> str:
    """A table's Chinese sheet name (``Scorecard`` -> ``计分卡``), else ``name``."""
    from . import model  # model imports this module

    spec = model.TABLES_BY_NAME.get(name)
    return spec.sheet_zh if spec is not None else name


def render(detail: str, *, file=None, sheet=None, cell=None, value=None, expected=None,
           lang: str | None = None) -> str:
    """One line: where (file, sheet, cell), what, the value found and what was expected, in
    ``lang`` (None: English)."""
    lang = lang if lang in LANGS else "en"
    f = _FRAME[lang]
    where = []
    if file:
        where.append(printable(Path(file).name))
    if sheet:
        where.append(f["sheet"].format(sheet))
    if cell:
        where.append(f["cell"].format(cell))
    text = translate(detail, lang)
    if value is not None:
        text += f["found"].format(value)
    if expected:
        text += f["expected"].format(translate(expected, lang))
    return (f["sep"].join(where) + f["colon"] + text) if where else text


class ReviewkitError(Exception):
    """Base of every error reviewkit raises on purpose. ``exit_code`` is what the CLI returns."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | Path | None = None, sheet: str | None = None,
                 cell: str | None = None, value: object = None, expected: str | None = None):
        self.file = str(file) if file is not None else None
        self.sheet = sheet
        self.cell = cell
        self.value = value
        self.expected = expected
        self.detail = message
        self.lang: str | None = None  # the language of the workbook it is about, when known
        super().__init__(self._compose())

    def _compose(self) -> str:
        return self.render("en")

    def render(self, lang: str | None = None) -> str:
        """The message in ``lang`` (default: the workbook's, ``self.lang``; else English)."""
        return render(self.detail, file=self.file, sheet=self.sheet, cell=self.cell, value=self.value,
                      expected=self.expected, lang=lang or self.lang)


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` on one line: control characters (a newline in a file name) shown as ``\\n``,
    ``\\x07``, so an error stays one line."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class WorkbookFormatError(ReviewkitError):
    """The file is not an editable .xlsx/.xlsm: not a zip, truncated, encrypted, strict OOXML, .xls."""


class UnsafeWorkbookError(WorkbookFormatError):
    """The file looks hostile or too large to open safely (zip bomb, entity expansion, bad paths)."""


class WorkbookLockedError(ReviewkitError):
    """Excel has the file open (its ``~$`` lock file is beside it); writing now would fight Excel."""


class InputError(ReviewkitError):
    """A value in the workbook cannot be used: wrong type, unknown key, duplicate row, missing table."""


class MissingDependencyError(ReviewkitError):
    """An optional tool or package (LibreOffice, xlwings with Excel, dask) is not installed."""


@dataclass(frozen=True)
class Problem:
    """One finding of ``reviewkit check``; many are collected before reporting."""

    file: str
    sheet: str | None
    cell: str | None
    message: str
    value: object = None
    expected: str | None = None
    severity: str = "error"  # "error" or "warning"
    lang: str | None = None  # the workbook's language, when known

    def __str__(self) -> str:  # same shape as ReviewkitError messages
        return self.render("en")

    def render(self, lang: str | None = None) -> str:
        """The problem in ``lang`` (default: the workbook's)."""
        return render(self.message, file=self.file, sheet=self.sheet, cell=self.cell, value=self.value,
                      expected=self.expected, lang=lang or self.lang)


class ValidationError(InputError):
    """Raised with every problem found at once, so a user fixes them in one pass."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        first = self.problems[0] if self.problems else None
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__((first.message if first else "invalid input") + more,
                         file=first.file if first else None, sheet=first.sheet if first else None,
                         cell=first.cell if first else None, value=first.value if first else None,
                         expected=first.expected if first else None)
        self.lang = first.lang if first else None
