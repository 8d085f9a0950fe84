"""What the plan-and-execution checks say, in Chinese and English.

The Execution sheet of a Chinese workbook is read by people who may not read English, so every
finding is written in the workbook's language. The templates are the ``planning`` section of
``data/words.toml``; both languages take the same fields (a test checks that).
"""
from __future__ import annotations

from ..messages import Messages

LANGS = ("zh", "en")

_MESSAGES = Messages.load("planning")
say = _MESSAGES.say
label = _MESSAGES.label
fields = _MESSAGES.fields
keys = _MESSAGES.keys
