"""Every finding of the reader and validator is said in the workbook's language.

What ``reviewkit check`` prints about a Chinese workbook must read as Chinese: each message of
the ``reading`` word table renders in Chinese through ``Problem.render``, no finding in
``reading/`` is written as an English literal outside that table, and ``check`` on zh workbooks
that trigger the findings prints no English sentence (an en workbook still gets English).
"""
from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from click.testing import CliRunner

from builders import CASES, HEADERS, SHEETS, sample_rows, write_book
from reviewkit import model
from reviewkit.cli import main
from reviewkit.errors import Problem
from reviewkit.reading import messages

READING = Path(messages.__file__).parent

#: three English words in a row: an English sentence (single words such as KPI, Excel pass)
_ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[\s,;:/'()-]+[A-Za-z]{2,}){2,}")


def _sample(key: str) -> dict:
    """A value per field of ``key``: numbers where the template formats numbers."""
    out = {}
    for zh_or_en in (messages._MESSAGES.texts[key]):
        for _, name, spec, _ in string.Formatter().parse(zh_or_en):
            if name:
                out[name] = 12345 if spec else f"V{len(out)}"
    return out


@pytest.mark.parametrize("key", messages.keys())
def test_every_reading_message_renders_in_chinese(key):
    fields = _sample(key)
    english = messages.say(key, "en", **fields)
    p = Problem("复盘.xlsx", "计分卡", "C5", english, expected=english)
    zh = p.render("zh")
    assert zh == f"复盘.xlsx，工作表“计分卡”，单元格 C5：{messages.say(key, 'zh', **fields)}" \
                 f"；应为 {messages.say(key, 'zh', **fields)}"
    assert not _ENGLISH.search(zh.replace("Excel", "").replace("reviewkit", "")), zh
    assert p.render("en") == f"复盘.xlsx, sheet '计分卡', cell C5: {english}; expected {english}"


def _message_args(tree: ast.AST):
    """(line, message expression) of every finding made in a module: ``add``/``_add`` calls and
    ``Problem(...)``."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        if name in ("add", "_add") and node.args:  # ck.add(table, key, pos, message, ...); sink.add(message, ...)
            at = 3 if isinstance(f, ast.Attribute) and getattr(f.value, "id", "") == "ck" else 0
            if len(node.args) > at:
                yield node.lineno, node.args[at]
        elif name == "Problem" and len(node.args) >= 4:
            yield node.lineno, node.args[3]


@pytest.mark.parametrize("module", sorted(p.name for p in READING.glob("*.py")))
def test_no_finding_in_reading_is_an_english_literal(module):
    """A finding's message is a word-table text (``say``), never a literal of its own."""
    tree = ast.parse((READING / module).read_text(encoding="utf-8"))
    literal = [line for line, arg in _message_args(tree)
               if isinstance(arg, ast.JoinedStr) or (isinstance(arg, ast.Constant) and isinstance(arg.value, str))]
    assert not literal, f"{module}: English literals as findings on lines {literal}"


# --- reviewkit check on workbooks that trigger the findings ------------------------------------
def _header(table: str, key: str, lang: str) -> str:
    return model.TABLES_BY_NAME[table].column(key).header(lang)


def _books(folder: Path, lang: str) -> list[Path]:
    """Workbooks in ``lang`` (the same edits in both languages) that between them trigger the
    findings of the reader and the validator."""
    zh = lang == "zh"

    def book(name: str, **edit) -> Path:
        rows = {t: [list(r) for r in rs] for t, rs in sample_rows(lang).items()}
        tables = {t: {"sheet": SHEETS[lang][t], "headers": list(HEADERS[lang][t]), "rows": rows[t]} for t in rows}
        for change in edit.values():
            change(tables)
        return write_book(folder / f"{name}.xlsx", tables)

    def cell(table, row, col, value):
        def change(tables):
            tables[table]["rows"][row][col] = value
        return change

    def column(table, header, values):
        def change(tables):
            tables[table]["headers"].append(header)
            for r, v in zip(tables[table]["rows"], values):
                r.append(v)
        return change

    def table(name, keys, rows):
        def change(tables):
            tables[name] = {"sheet": SHEETS[lang][name], "headers": [_header(name, k, lang) for k in keys],
                            "rows": rows}
        return change

    return [
        book("values", a=cell("Scorecard", 1, 2, "很多"), b=cell("Scorecard", 2, 0, None),
             c=cell("KPIs", 0, 3, "sideways"), d=cell("Causes", 0, 7, "next week"),
             e=cell("Facts", 2, 4, "n/a"), f=cell("Settings", 0, 1, "明年"),
             g=lambda t: t["Settings"]["rows"].append(["没有这项" if zh else "No such setting", 1, None]),
             h=lambda t: t["Settings"]["rows"].append(
                 [model.SETTING_KEYS["max_parallel_tasks"][0 if zh else 1], "2.5", None]),
             i=cell("Scorecard", 0, 0, "华东" * 17000), j=cell("Scorecard", 2, 4, 1e-13)),
        book("year", a=cell("Settings", 0, 1, 25)),
        book("links", a=cell("Scorecard", 2, 1, "salez"), b=cell("Causes", 0, 1, "Sales"),
             c=cell("KPIs", 1, 6, "续费数"), d=cell("KPIs", 2, 4, "比率" if zh else "Ratio"),
             e=cell("KPIs", 0, 5, "行业" if zh else "Industry"), f=cell("Scorecard", 1, 2, 15),
             g=cell("Causes", 0, 4, "很多客户流失"), h=lambda t: t["Scorecard"]["rows"].append(
                 ["华北", "renew", 0, 0.5, None, None, None]),
             i=lambda t: t["KPIs"]["rows"].append(["sales", "重复", "%", "越高越好" if zh else "Higher is better",
                                                   None, None, None, None, None, None])),
        book("kpis", a=column("KPIs", _header("KPIs", "weight", lang), [-1, 1, 1]),
             b=column("KPIs", _header("KPIs", "number_format", lang), ["[Red", None, None]),
             c=column("KPIs", _header("KPIs", "range_low", lang), [None, 0.9, None]),
             d=column("KPIs", _header("KPIs", "range_high", lang), [None, 0.5, None]),
             e=cell("KPIs", 2, 3, "区间内" if zh else "Within range"), f=cell("KPIs", 0, 9, "120%")),
        book("plan", a=table("Plan", ("task_id", "task", "start", "end"),
                             [["T1", "上线" if zh else "Launch", "2026-05-01", "2026-03-01"]]),
             b=table("Progress", ("task_id", "planned_start", "planned_date"),
                     [["T9", "2026-01-01", "2026-02-01"]])),
        book("headers", a=column("Scorecard", "备注X" if zh else "Remark X", [1, 2, 3]),
             b=column("Scorecard", _header("Scorecard", "target", "en" if zh else "zh"), [1, 2, 3]),
             c=column("Facts", "地区" if zh else "Area", ["a", "b", "c"]),
             d=column("Facts", "地区" if zh else "Area", ["a", "b", "c"]),
             e=lambda t: t["Scorecard"]["rows"].append(["合计" if zh else "Total", "sales", 2000, 1500, None,
                                                        None, None])),
    ]


#: what a Chinese line may hold in Latin letters: quoted values the user typed, the accepted
#: English spelling of a drop-down choice ("越高越好 / Higher is better"), file names, commands
_ALLOWED = [re.compile(p) for p in (r"'[^']*'", r'"[^"]*"', r"“[^”]*”", r"\[[^\]]*\]", r"/ [A-Za-z %]+",
                                    r"\S+\.xlsx", r"reviewkit \w+",
                                    r"[A-Za-z_]\w*(?:, [A-Za-z_]\w*)+",  # a list of the KPI codes typed
                                    r"\b(?:Excel|KPI|TRUE|FALSE)\b")]
_TWO_WORDS = re.compile(r"[A-Za-z]{2,}[\s,;:/'()-]+[A-Za-z]{2,}")


def _english_in(line: str) -> str | None:
    for p in _ALLOWED:
        line = p.sub(" ", line)
    m = _TWO_WORDS.search(line)
    return m.group() if m else None


def _check(paths: list[Path]) -> list[str]:
    result = CliRunner().invoke(main, ["check", *map(str, paths)], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    return [line for line in result.output.splitlines() if line.strip()]


def test_check_on_chinese_workbooks_prints_no_english(tmp_path):
    folder = tmp_path / "zh"
    folder.mkdir()
    books = _books(folder, "zh")
    cases = tmp_path / "cases"
    cases.mkdir()
    for case in CASES:  # the bad-input corpus: those that are zh workbooks with a finding
        if case.sheet is None or case.id == "damaged sheet data":  # files that cannot be read have no language
            continue
        sub = cases / case.id.replace(" ", "_")
        sub.mkdir()
        books.append(case.build(sub))
    lines = _check(books)
    assert len(lines) > 60, lines
    english = [(line, bad) for line in lines if (bad := _english_in(line))]
    assert not english, "\n".join(f"{bad!r} in: {line[:300]}" for line, bad in english)
    assert all(line.startswith(("错误：", "警告：")) for line in lines[:-1]), lines
    assert re.fullmatch(r"\d+ 个文件中共有 \d+ 个问题", lines[-1]), lines[-1]


def test_check_on_english_workbooks_still_prints_english(tmp_path):
    lines = _check(_books(tmp_path, "en"))
    assert re.fullmatch(r"\d+ problem\(s\) in \d+ file\(s\)", lines.pop()), lines
    assert len(lines) > 25, lines
    assert all(line.startswith(("error: ", "warning: ")) for line in lines), lines
    said = [line.split(": ", 1)[1].split("; expected")[0] for line in lines]
    assert all(_english_in(line) for line in said), [line for line in said if not _english_in(line)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_blank_unit_cell_is_not_shown_as_nan(lang):
    """A Scorecard row without a unit: its warnings name the KPI alone, never 'nan / …'."""
    import numpy as np

    from builders import small_review
    from reviewkit.reading.validate import validate

    review = small_review(["East", "West"])
    review.lang = lang
    sc = review.tables["Scorecard"]
    sc.loc[0, "unit"] = np.nan
    sc.loc[0, "target"] = np.nan  # a missing target: "<unit> / <KPI> has no target"
    sc.loc[1, "target"] = 0.0  # a zero target: "target of <unit> / <KPI> is 0"
    sc.loc[1, "unit"] = np.nan
    said = [p.render(lang) for p in validate(review)]
    assert any(s.startswith(("renewal_rate 的目标", "target of renewal_rate is 0")) for s in said), said
    assert not [s for s in said if "nan" in s.lower().replace("nanjing", "")], said
