"""Number formats from the KPIs table: checked before they reach styles.xml and the charts, and
signed variants built after any leading colour code (issue 14)."""
from __future__ import annotations

import re
import zipfile

import pytest
from lxml import etree

from builders import small_review as _review

from reviewkit.errors import ValidationError
from reviewkit.fill import fill_workbook
from reviewkit.ooxml import numfmt
from reviewkit.reading import check_files
from reviewkit.templates import build_workbook


@pytest.mark.parametrize("code, why", [
    ('0.0"万', "quote"),
    ("[Blue#,##0", "never closed"),
    ("0;0;0;0;0", "5 sections"),
    ("+[Blue]#,##0", "must come first"),
    ("0[>100]", "must come first"),
    ("#,##0]", "closes nothing"),
    ("0\x07", "control character"),
])
def test_bad_codes_are_named(code, why):
    assert why in numfmt.problem(code)


@pytest.mark.parametrize("code", ["#,##0", "0.0%", '0.0"万"', "[Blue]#,##0", "[Red][>100]0;0", "[h]:mm",
                                  '#,##0_);(#,##0)', "[$-409]#,##0", '0.0"万;"', "[Color10]0", r'0\[x\]'])
def test_good_codes_pass(code):
    assert numfmt.problem(code) is None


def test_signed_goes_after_the_colour_code():
    assert numfmt.signed("[Blue]#,##0") == "[Blue]+#,##0;[Blue]-#,##0;[Blue]#,##0"
    assert numfmt.signed("#,##0") == "+#,##0;-#,##0;#,##0"
    assert numfmt.signed('0.0"万;"') == '+0.0"万;";-0.0"万;";0.0"万;"'  # the quoted ';' is text
    assert numfmt.signed("#,##0;(#,##0)") == "#,##0;(#,##0)"
    for code in ("[Blue]#,##0", "#,##0", '0.0"万"', "[Red]0.0%"):
        assert numfmt.problem(numfmt.signed(code)) is None
        assert numfmt.first_unsigned(numfmt.signed(code)) == code


def _book(tmp_path, fmt):
    review = _review(["East", "West"])
    review.tables["KPIs"].loc[0, "number_format"] = fmt
    return build_workbook(tmp_path / "f.xlsx", review, lang="en", overwrite=True)


@pytest.mark.parametrize("fmt", ['0.0"万', "[Blue#,##0", "0;0;0;0;0", "+[Blue]#,##0"])
def test_check_names_the_kpis_cell_and_fill_refuses(tmp_path, fmt):
    path = _book(tmp_path, fmt)
    before = path.read_bytes()
    problems = [p for p in check_files([path]) if "number format" in p.message]
    assert len(problems) == 1, problems
    p = problems[0]
    assert p.severity == "error" and p.sheet == "KPIs" and re.fullmatch(r"[A-Z]+\d+", p.cell or "")
    assert p.value == fmt and "revenue" in p.message
    with pytest.raises(ValidationError, match="number format"):
        fill_workbook(path)
    assert path.read_bytes() == before


def _formats(path) -> tuple[set, set]:
    with zipfile.ZipFile(path) as zf:
        styles = etree.fromstring(zf.read("xl/styles.xml"))
        codes = {el.get("formatCode") for el in styles.iter("{*}numFmt")}
        charts = set()
        for n in zf.namelist():
            if n.startswith("xl/charts/chart"):
                charts |= {el.get("formatCode") for el in etree.fromstring(zf.read(n)).iter("{*}numFmt")}
    return codes, charts


def test_fill_writes_a_coloured_format_excel_accepts(tmp_path):
    path = _book(tmp_path, "[Blue]#,##0")
    assert not [p for p in check_files([path]) if p.severity == "error"]
    fill_workbook(path)
    codes, charts = _formats(path)
    assert "[Blue]+#,##0;[Blue]-#,##0;[Blue]#,##0" in codes
    assert not [c for c in codes | charts if numfmt.problem(c)], codes | charts
    assert "[Blue]#,##0" in charts
