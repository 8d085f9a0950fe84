"""What ``rollup`` says, in Chinese and English: the status sheet, the report and the drift kinds
(the ``rollup`` section of ``data/words.toml``)."""
from __future__ import annotations

from ..messages import Messages

WORDS = Messages.load("rollup")
say = WORDS.say
label = WORDS.label
