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
