"""Number format codes (ECMA-376 Part 1, 18.8.31): split into sections, checked, signed.

A code has at most four sections separated by ``;`` (positive; negative; zero; text). Inside a
section, ``"..."`` is literal text, ``\\x`` and ``_x`` / ``*x`` take the next character literally,
and ``[...]`` is a code: a colour (``[Blue]``, ``[Color10]``), a condition (``[>=100]``), a
currency or locale (``[$€-407]``), elapsed time (``[h]``) and a few more. Excel refuses a code
whose quotes or brackets are not closed, with more than four sections, or with a colour or
condition code after the section's first digit or literal; such a code reaching ``styles.xml``
or a chart makes Excel repair the file.
"""
from __future__ import annotations

import re

from .. import caching

MAX_SECTIONS = 4
_COLOURS = {"black", "blue", "cyan", "green", "magenta", "red", "white", "yellow"}
_COLOUR_N = re.compile(r"color\s*([0-9]{1,2})$", re.IGNORECASE)
_CONDITION = re.compile(r"(?:<=|>=|<>|<|>|=)\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _scan(code: str) -> tuple[list[list[tuple[str, str]]], str | None]:
    """Sections of ``code``, each a list of (kind, text) tokens: 'code' for ``[...]``, 'lit' for
    anything else; and the first syntax problem found (None when the code is well-formed)."""
    sections: list[list[tuple[str, str]]] = [[]]
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            end = code.find('"', i + 1)
            if end < 0:
                return sections, f"a quote opened at character {i + 1} is never closed"
            sections[-1].append(("lit", code[i:end + 1]))
            i = end + 1
        elif ch in "\\_*":
            if i + 1 >= n:
                return sections, f"'{ch}' at the end needs a character after it"
            sections[-1].append(("lit", code[i:i + 2]))
            i += 2
        elif ch == "[":
            end = code.find("]", i + 1)
            if end < 0:
                return sections, f"a '[' opened at character {i + 1} is never closed"
            inner = code[i + 1:end]
            if "[" in inner:
                return sections, f"a '[' opened at character {i + 1} is never closed"
            sections[-1].append(("code", inner))
            i = end + 1
        elif ch == "]":
            return sections, f"a ']' at character {i + 1} closes nothing"
        elif ch == ";":
            sections.append([])
            i += 1
        else:
            sections[-1].append(("lit", ch))
            i += 1
    return sections, None


def _leading(inner: str) -> str | None:
    """'colour' or 'condition' for a code that must come first in its section, else None."""
    low = inner.strip().lower()
    if low in _COLOURS:
        return "colour"
    m = _COLOUR_N.match(low)
    if m and 1 <= int(m.group(1)) <= 56:
        return "colour"
    if _CONDITION.match(low):
        return "condition"
    return None


@caching.memo("numfmt.problem", 1024)
def problem(code: str) -> str | None:
    """Why Excel would refuse the number format ``code``, or None when it is well-formed."""
    if not isinstance(code, str):
        return "not text"
    if _CONTROL.search(code):
        return "it holds a control character"
    if len(code) > 255:
        return f"it is {len(code)} characters long (Excel allows 255)"
    sections, bad = _scan(code)
    if bad:
        return bad
    if len(sections) > MAX_SECTIONS:
        return f"it has {len(sections)} sections separated by ';' (Excel allows at most {MAX_SECTIONS})"
    for k, tokens in enumerate(sections, start=1):
        seen_other = False
        for kind, text in tokens:
            lead = _leading(text) if kind == "code" else None
            if lead and seen_other:
                return (f"the {lead} code [{text}] in section {k} comes after other text"
                        f" (it must come first in its section)")
            if not lead:
                seen_other = True
            if kind == "code" and text.strip() == "":
                return f"an empty code [] in section {k}"
    return None


EXPECTED = ('a number format such as #,##0, 0.0%, [Blue]#,##0 or 0.0"万" (quotes and brackets '
            'closed, at most 4 sections, colour and condition codes first in their section)')


def sections(code: str) -> list[str]:
    """The sections of a well-formed ``code`` (``;`` inside quotes and brackets does not split)."""
    scanned, _ = _scan(code)
    return ["".join(f"[{t}]" if kind == "code" else t for kind, t in tokens) for tokens in scanned]


def _split_leading_codes(section: str) -> tuple[str, str]:
    """(the section's leading colour/condition codes, the rest)."""
    scanned, _ = _scan(section)
    tokens = scanned[0] if scanned else []
    lead = []
    for kind, text in tokens:
        if kind != "code" or _leading(text) is None:
            break
        lead.append(f"[{text}]")
    head = "".join(lead)
    return head, section[len(head):]


def signed(code: str) -> str:
    """``code`` with an explicit sign: ``#,##0`` -> ``+#,##0;-#,##0;#,##0``. The sign goes after
    leading colour codes (``[Blue]#,##0`` -> ``[Blue]+#,##0;[Blue]-#,##0;[Blue]#,##0``); a code with
    several sections or a condition is returned unchanged."""
    if len(sections(code)) > 1:
        return code
    head, body = _split_leading_codes(code)
    if "[" in head and any(_leading(c.strip("[]")) == "condition" for c in re.findall(r"\[[^\]]*\]", head)):
        return code
    return f"{head}+{body};{head}-{body};{head}{body}"


def first_unsigned(code: str) -> str:
    """The first section of ``code`` without the sign ``signed`` put in (for a chart's axis)."""
    first = sections(code)[0]
    head, body = _split_leading_codes(first)
    return head + (body[1:] if body.startswith("+") else body)
