"""Property tests of the row/cell merge against a plain model of the sheet."""
from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from reviewkit.ooxml.cellref import cell_name, parse_cell
from reviewkit.ooxml.styles import StylesPart
from reviewkit.ooxml.worksheet import WorksheetEditor

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def sheet_xml(cells: dict[tuple[int, int], int], *, number_rows: bool, prefix: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    decl = f'xmlns:{prefix}="{NS}"' if prefix else f'xmlns="{NS}"'
    rows: dict[int, list[int]] = {}
    for (r, c) in sorted(cells):
        rows.setdefault(r, []).append(c)
    body = []
    prev = 0
    for r in sorted(rows):
        # rows may only omit r when they directly follow the previous one
        attr = f' r="{r}"' if number_rows or r != prev + 1 else ""
        prev = r
        cs = "".join(f'<{p}c r="{cell_name(r, c)}"><{p}v>{cells[(r, c)]}</{p}v></{p}c>' for c in sorted(rows[r]))
        body.append(f'<{p}row{attr} spans="1:9">{cs}</{p}row>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {decl}>'
            f'<{p}dimension ref="A1"/><{p}sheetData>{"".join(body)}</{p}sheetData>'
            f'<{p}pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            f"</{p}worksheet>").encode()


def read_cells(xml: bytes) -> tuple[dict[tuple[int, int], str], list[int]]:
    root = etree.fromstring(xml)
    out, order = {}, []
    for row in root.iter(f"{{{NS}}}row"):
        order.append(int(row.get("r")) if row.get("r") else order[-1] + 1)  # implicit: previous + 1
        for c in row.iter(f"{{{NS}}}c"):
            v = c.find(f"{{{NS}}}v")
            key = parse_cell(c.get("r"))
            assert key[0] == order[-1] and key not in out
            out[key] = v.text if v is not None else None
    return out, order


coords = st.tuples(st.integers(1, 60), st.integers(1, 8))


@settings(max_examples=150, deadline=None)
@given(existing=st.dictionaries(coords, st.integers(0, 999), max_size=60),
       writes=st.dictionaries(coords, st.integers(1000, 1999), min_size=1, max_size=25),
       number_rows=st.booleans(), prefix=st.sampled_from(["", "x"]))
def test_merge_matches_model(existing, writes, number_rows, prefix):
    book = SimpleNamespace(path="model.xlsx", table_headers=lambda part: {})  # a sheet without tables
    editor = WorksheetEditor(book, "S", "xl/worksheets/sheet1.xml")
    for (r, c), v in writes.items():
        editor.write(cell_name(r, c), v)
    styles = StylesPart(None, "model.xlsx", "xl/styles.xml")
    out = editor.render(sheet_xml(existing, number_rows=number_rows, prefix=prefix), styles)
    cells, order = read_cells(out)
    assert order == sorted(order) and len(order) == len(set(order))
    expected = {k: str(v) for k, v in {**existing, **writes}.items()}
    assert cells == expected
    # running the same writes again changes nothing
    assert editor.render(out, styles) == out
