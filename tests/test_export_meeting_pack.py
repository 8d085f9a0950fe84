"""`reviewkit export` on the filled demo: the meeting pack, as LibreOffice prints it.

The PDF's text (pdftotext) is checked the way a reader would look at it: the sheets in meeting
order, the summary on one landscape page, the whole pack within 12 pages, no `###`, labels whole,
and in the Chinese pack no English word reviewkit's own sheets write.
"""
from __future__ import annotations

import re
import subprocess

import pytest

sample = pytest.importorskip("reviewkit.sample")

#: the page bound of the zh and en demo packs (1 summary + 7 KPI pages of breakdown + peers,
#: timeline and execution on one page each, and up to three Scorecard pages)
MAX_PAGES = 14


def pdf_pages(pdf) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def page_size(pdf) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    m = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info)
    return float(m.group(1)), float(m.group(2))


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    from conftest import require_libreoffice

    require_libreoffice()
    from reviewkit.export import export_pdf
    from reviewkit.fill import fill_workbook
    from reviewkit.reading import read_review
    from reviewkit.templates import build_workbook

    tmp = tmp_path_factory.mktemp("pack")
    out = {}
    for lang in ("zh", "en"):
        path = tmp / f"demo_{lang}.xlsx"
        build_workbook(path, sample.make_sample_review(lang), lang=lang, overwrite=True)
        fill_workbook(path)
        before = path.read_bytes()
        pdf = export_pdf(path, tmp / f"pdf_{lang}")
        out[lang] = {"path": path, "before": before, "pdf": pdf, "pages": pdf_pages(pdf),
                     "review": read_review(path)}
    return out


@pytest.mark.libreoffice
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_meeting_pack_order_bound_and_untouched_workbook(packs, lang):
    from reviewkit import model
    from reviewkit.fill.words import _L

    p = packs[lang]
    assert p["path"].read_bytes() == p["before"]  # exported from a copy
    pages = p["pages"]
    assert 1 < len(pages) <= MAX_PAGES, len(pages)
    w, h = page_size(p["pdf"])
    assert w > h  # landscape
    i = 0 if lang == "zh" else 1
    titles = [_L["summary_title"][i], _L["breakdown_title"][i], _L["peers_title"][i]]
    # the summary is page 1 and only page 1; the breakdown follows, one page per KPI
    assert titles[0] in pages[0] and all(titles[0] not in pg for pg in pages[1:])
    assert titles[1] in pages[1]
    kpis = p["review"].kpis
    for k, name in enumerate(kpis["name"]):
        assert name in pages[1 + k], (name, k)
    n = 1 + len(kpis)
    assert titles[2] in pages[n]
    # then the timeline, the execution sheet and the scorecard, in that order
    timeline = {"zh": "甘特图", "en": "Timeline"}[lang]
    execution = {"zh": "执行跟踪", "en": "Execution"}[lang]
    scorecard = model.SCORECARD.sheet(lang)
    rest = pages[n + 1:]
    firsts = [next(j for j, pg in enumerate(rest) if t in pg) for t in (timeline, execution, scorecard)]
    assert firsts == sorted(firsts) and firsts[0] == 0
    # the guide, settings and the input tables other than the scorecard are not printed
    assert not any(model.owned_sheet_name("guide", lang) in pg.splitlines()[0:2] for pg in pages if pg.strip())
    assert all(str(x) not in "".join(pages) for x in p["review"].facts.iloc[:3, 0])


@pytest.mark.libreoffice
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_meeting_pack_has_no_hashes_or_cut_labels(packs, lang):
    p = packs[lang]
    text = "\n".join(p["pages"])
    assert "###" not in text
    review = p["review"]
    flat = re.sub(r"\s+", " ", text)
    # every unit name and KPI name prints whole (a region such as "Central China" once printed
    # as "Central Ch"), and so do the overdue action items and the timeline's legend
    for unit in set(review.scorecard["unit"]):
        assert f" {unit} " in f" {flat} ", unit
    for name in review.kpis["name"]:
        assert name in flat
    from reviewkit.fill.summary import _overdue

    late = _overdue(review, review.settings.get("as_of"))
    assert late  # the demo has an overdue action; the summary lists it
    for item, _, _ in late:
        assert item in flat, item
    legend = {"zh": "灰=非工作日 ◆=里程碑", "en": "grey = non-working, ◆ = milestone"}[lang]
    assert legend in flat
    # the timeline's axis says which year it is
    timeline = next(pg for pg in p["pages"] if {"zh": "甘特图", "en": "Timeline"}[lang] in pg)
    assert re.search(r"20\d\d", timeline.split("\n", 6)[-1])


@pytest.mark.libreoffice
def test_chinese_pack_has_no_english_words_of_ours(packs):
    """English words in the zh pack come only from what the user typed (KPI keys in the
    scorecard, task names such as CRM), units (pp = percentage points) and proper names (reviewkit
    and its fill command, the Excel table name Scorecard, KPI, ROI): the conclusion sentences are
    Chinese too."""
    p = packs["zh"]
    review = p["review"]
    allowed = {"pp", "KPI", "ROI", "reviewkit", "fill", "Scorecard"}
    for table in [*review.tables.values(), review.kpis, review.scorecard]:
        if table is None:
            continue
        for col in table.columns:
            if table[col].dtype.kind not in "iufcbmM":  # text typed by the user
                for v in table[col].dropna().astype(str):
                    allowed.update(re.findall(r"[A-Za-z][A-Za-z_]+", v))
    words = set(re.findall(r"[A-Za-z][A-Za-z_]+", "\n".join(p["pages"])))
    # rotated chart labels come out of pdftotext in pieces; a piece of an allowed word is fine
    stray = {w for w in words - allowed if not any(w in a for a in allowed)}
    assert stray == set()


@pytest.mark.libreoffice
def test_export_sheets_and_all(packs, tmp_path):
    from click.testing import CliRunner

    from reviewkit.cli import main

    path = packs["en"]["path"]
    res = CliRunner().invoke(main, ["export", str(path), "--sheets", "Peers", "-o", str(tmp_path / "one")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    pages = pdf_pages(tmp_path / "one" / f"{path.stem}.pdf")
    assert len(pages) == 1 and "Peer ranking" in pages[0]
    res = CliRunner().invoke(main, ["export", str(path), "--sheets", "No such sheet", "-o", str(tmp_path / "x")])
    assert res.exit_code == 2 and "No such sheet" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x" / f"{path.stem}.pdf").exists()
    res = CliRunner().invoke(main, ["export", str(path), "--all", "-o", str(tmp_path / "all")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert len(pdf_pages(tmp_path / "all" / f"{path.stem}.pdf")) > len(packs["en"]["pages"])
    assert path.read_bytes() == packs["en"]["before"]


def pdf_words(pdf) -> list[list[tuple[str, float, float]]]:
    """Per page, the words pdftotext finds with their printed width and height in points."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
    return [[(m[4], float(m[2]) - float(m[0]), float(m[3]) - float(m[1])) for m in word.findall(page)]
            for page in re.split(r"<page\b", xml)[1:]]


def scorecard_pages(pack, lang) -> range:
    """The pages the Scorecard prints on: from its title to the end of the pack (it is last)."""
    from reviewkit import model

    first = next(i for i, pg in enumerate(pack["pages"]) if model.SCORECARD.sheet(lang) in pg.split("\n", 2)[0])
    return range(first, len(pack["pages"]))


@pytest.mark.libreoffice
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_scorecard_pages_carry_the_meeting_columns(packs, lang):
    """Each printed Scorecard page repeats the header of the columns a meeting reads; the helper
    columns behind them are left out of the print, and every row (unit, KPI key) is printed."""
    from reviewkit import model
    from reviewkit.export import SCORECARD_PRINT

    p = packs[lang]
    pages = scorecard_pages(p, lang)
    assert 1 <= len(pages) <= 3
    i = 0 if lang == "zh" else 1
    shown = [(c.zh, c.en)[i] for c in model.SCORECARD.columns if c.key in SCORECARD_PRINT]
    hidden = [(c.zh, c.en)[i] for c in model.SCORECARD.columns if c.key not in SCORECARD_PRINT]
    for n in pages:
        flat = re.sub(r"\s+", " ", p["pages"][n])
        missing = [h for h in shown if h not in flat]
        assert missing == [], (n, missing)
        assert not [h for h in hidden if f" {h} " in f" {flat} "], n
    printed = "\n".join(p["pages"][n] for n in pages)
    sc = p["review"].scorecard
    for unit, kpi in zip(sc["unit"], sc["kpi"]):
        assert re.search(rf"^\s*{re.escape(unit)}\s+{re.escape(kpi)}\s", printed, re.M), (unit, kpi)


@pytest.mark.libreoffice
def test_scorecard_prints_at_a_readable_size(packs):
    """The zh Scorecard prints at 60 % of its size or more (it once printed at about 25 %, unreadable
    on a projector): a Chinese character is one em wide, so a unit name of n characters in the
    workbook's 11 pt body font is 11 * n points wide at full size."""
    p = packs["zh"]
    words = pdf_words(p["pdf"])
    units = set(p["review"].scorecard["unit"])
    for n in scorecard_pages(p, "zh"):
        widths = [w / (11 * len(text)) for text, w, _ in words[n] if text in units]
        assert widths, n
        assert min(widths) >= 0.6, (n, min(widths))


def test_scorecard_print_copy_keeps_every_value(tmp_path):
    """The copy the Scorecard prints from hides the helper columns, fits one page wide, repeats
    the header row and gives the wrapped conclusions their rows' height; every cell value of
    the workbook stays what it was."""
    from python_calamine import CalamineWorkbook

    from reviewkit import model
    from reviewkit.export import SCORECARD_PRINT, _print_scorecard
    from reviewkit.fill import fill_workbook
    from reviewkit.ooxml import WorkbookEditor
    from reviewkit.reading.package import find_tables
    from reviewkit.templates import build_workbook

    path, copy = tmp_path / "b.xlsx", tmp_path / "copy.xlsx"
    build_workbook(path, sample.make_sample_review("zh"), lang="zh", overwrite=True)
    fill_workbook(path)
    table = find_tables(path).table("Scorecard")
    with WorkbookEditor.open(path) as book:
        _print_scorecard(book, path, [table.sheet])
        book.save(copy)
        part = book.sheet(table.sheet).part
    with WorkbookEditor.open(copy) as book:
        xml = book.package.read(part).decode()
        wb = book.package.read(book.workbook_part).decode()
    keys = {c.zh: c.key for c in model.SCORECARD.columns}
    hidden = {int(m) for m in re.findall(r'<col min="(\d+)" max="\1"[^>]*hidden="1"', xml)}
    expect = {table.first_col + k for k, c in enumerate(table.columns) if keys[c.name] not in SCORECARD_PRINT}
    assert hidden == expect and expect
    assert re.search(r'<pageSetup[^>]*fitToWidth="1"', xml) and re.search(r'<pageSetup[^>]*fitToHeight="0"', xml)
    assert 'orientation="landscape"' in xml and '<pageSetUpPr fitToPage="1"/>' in xml
    assert f"!${table.first_row}:${table.first_row}</definedName>" in wb
    tall = {int(r): float(h) for r, h in re.findall(r'<row r="(\d+)"[^>]*ht="([\d.]+)" customHeight="1"', xml)}
    data = range(table.first_row + 1, table.last_row + 1)
    assert all(tall.get(r, 0) >= 30 for r in data)  # the demo's conclusions take two lines or more

    def values(p):
        book = CalamineWorkbook.from_path(str(p))
        return {n: book.get_sheet_by_name(n).to_python() for n in book.sheet_names}

    assert values(copy) == values(path)


def test_missing_cjk_font_is_one_warning_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import reviewkit.export as export
    from reviewkit.cli import main

    monkeypatch.setattr(export, "cjk_font_missing", lambda: True)
    monkeypatch.setenv("REVIEWKIT_SOFFICE", str(tmp_path / "no-such-soffice"))
    book = tmp_path / "b.xlsx"
    book.write_bytes(b"PK")  # never opened: LibreOffice is missing
    res = CliRunner().invoke(main, ["export", str(book)])
    warning = [line for line in res.output.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "fonts-wqy-microhei" in warning[0]
