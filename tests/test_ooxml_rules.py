"""The conditional-format text writer against the lxml reference (tests/oracles.py)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from oracles import conditional_formatting_elements
from reviewkit.ooxml import _xml
from reviewkit.ooxml.rules import (Cfvo, CellIsRule, ColorScaleRule, DataBarRule, ExpressionRule, IconSetRule,
                                   conditional_formatting_text)
from reviewkit.ooxml.render import _fragment
from reviewkit.ooxml.styles import DxfStyle, StylesPart
from reviewkit.ooxml.skeleton import apply_cf

#: formula text with what XML escapes: markup, quotes, tab, line feed, carriage return, controls,
#: non-printable but legal characters, lone surrogates
_TEXT = st.text(alphabet=st.sampled_from(list('A1=<>&"\'\t\n\r\x01\x1f\xa0\u200b\u2028\ud800\ufffe_x0041中 ')),
                min_size=1, max_size=12)


def _rules(text: str) -> list:
    red = DxfStyle(fill="#F8CBAD")
    return [CellIsRule("B2:B9", "between", (text, "2"), red, stop_if_true=True),
            ExpressionRule("B2:B9", f'=AND({text}<>"", A2>0)', DxfStyle(bold=True)),
            ColorScaleRule("C2:C9", thresholds=(Cfvo("min"), Cfvo("formula", text), Cfvo("max"))),
            DataBarRule("D2:D9", low=Cfvo("num", text), show_value=False),
            IconSetRule("E2:E9", "3Arrows", thresholds=(Cfvo("percent", 0), Cfvo("num", text), Cfvo("num", 5)),
                        reverse=True, show_value=False),
            CellIsRule("E2:E9", "<", 0, red)]


def _styles() -> StylesPart:
    return StylesPart(None, "book.xlsx", "xl/styles.xml")


@settings(max_examples=60, deadline=None)
@given(_TEXT)
def test_text_is_what_lxml_writes(text):
    rules = _rules(text)
    written = conditional_formatting_text(rules, _styles(), 7)
    expected = "".join(_fragment(el) for el in conditional_formatting_elements(rules, _styles(), 7))
    assert written == expected


def test_rules_go_into_a_part_with_a_prefixed_namespace_as_elements():
    """A part lxml serializes whole (main namespace under a prefix): the same bytes as elements."""
    doc = (f'<x:worksheet xmlns:x="{_xml.MAIN}"><x:sheetData/>'
           '<x:conditionalFormatting sqref="Z1"><x:cfRule type="expression" priority="4"/>'
           "</x:conditionalFormatting><x:pageMargins/></x:worksheet>").encode()
    rules = _rules('x<"y"\t')
    ours = etree.fromstring(doc)
    apply_cf(ours, [(2, 2, 9, 5)], rules, _styles())
    ref = etree.fromstring(doc)
    anchor = ref.find(_xml.q("conditionalFormatting"))
    for el in conditional_formatting_elements(rules, _styles(), 5):
        anchor.addnext(el)
        anchor = el
    assert etree.tostring(ours) == etree.tostring(ref)
    assert [el.get("priority") for el in ours.iter(_xml.q("cfRule"))] == ["4", *map(str, range(5, 11))]
