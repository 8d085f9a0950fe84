"""The words fill writes into a workbook (the ``fill`` section of ``data/words.toml``), and :func:`_t`
to say one of them."""
from __future__ import annotations

from ..messages import Messages

_WORDS = Messages.load("fill")
_L = _WORDS.texts  # key -> (zh, en)
#: what a red KPI still lacks: key -> (zh, en)
MISSING_TEXT = _WORDS.labels
_t = _WORDS.say
