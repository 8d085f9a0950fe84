"""Fill on the built-in demo data (``reviewkit.sample``), both languages: LibreOffice agrees with
every cached value, and filling again changes nothing. Skips until the sample module exists."""
from __future__ import annotations

import unicodedata

import pytest

from builders import formula_cells, same_cell, sheet_rows

sample = pytest.importorskip("reviewkit.sample")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from reviewkit.fill import fill_workbook
    from reviewkit.templates import build_workbook

    tmp = tmp_path_factory.mktemp("demo")
    out = {}
    for lang in ("zh", "en"):
        path = tmp / f"demo_{lang}.xlsx"
        build_workbook(path, sample.make_sample_review(lang), lang=lang, overwrite=True)
        out[lang] = (path, fill_workbook(path))
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_demo_fills_and_refills_unchanged(demo, lang):
    from reviewkit.fill import fill_workbook

    path, result = demo[lang]
    assert result.changed and result.formulas > 0
    data = path.read_bytes()
    assert fill_workbook(path).changed is False
    assert path.read_bytes() == data


@pytest.mark.libreoffice
def test_libreoffice_agrees_on_the_demo(demo, tmp_path, soffice):
    from reviewkit.libreoffice import recalculate

    paths = [p for p, _ in demo.values()]
    res = recalculate(paths, tmp_path / "lo")
    bad = []
    for path in paths:
        lo = res[path.resolve()]
        assert lo is not None
        for sheet, cells in formula_cells(path).items():
            cached, recalc = sheet_rows(path, sheet), sheet_rows(lo, sheet)
            for r, c in cells:
                a = cached[r][c] if c < len(cached[r]) else ""
                b = recalc[r][c] if r < len(recalc) and c < len(recalc[r]) else ""
                a, b = ("" if a is None else a), ("" if b is None else b)
                if isinstance(a, str) and isinstance(b, str):
                    # the timeline caches task names as the reader returns them, NFKC-folded
                    # ("（" -> "("), while its INDEX formula returns the cell text as typed
                    a, b = unicodedata.normalize("NFKC", a), unicodedata.normalize("NFKC", b)
                if not same_cell(a, b):
                    bad.append((path.name, sheet, r + 1, c + 1, a, b))
    assert bad == []
