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
