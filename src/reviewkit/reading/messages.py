"""What the workbook checks about units, structure and typed numbers say, in Chinese and English.

A Chinese workbook's problems are read by people who may not read English, so these findings
are written in the workbook's language: the ``reading`` section of ``data/words.toml``, pairs of
``str.format`` templates taking the same fields (a test checks that), like ``planning.messages``.
"""
from __future__ import annotations

from ..messages import Messages

_MESSAGES = Messages.load("reading")
say = _MESSAGES.say
fields = _MESSAGES.fields
keys = _MESSAGES.keys


def table_name(name: str, lang: str) -> str:
    """How a message names table ``name``: its Chinese sheet name in a Chinese workbook
    (``Scorecard`` -> 计分卡), the Excel Table name otherwise."""
    from ..errors import _table_zh

    return _table_zh(name) if lang == "zh" else name
