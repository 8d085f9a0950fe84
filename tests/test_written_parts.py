"""Every part reviewkit writes (new, demo data filled, split, rollup, the editor's corpus edits)
is well-formed and passes what Excel checks before repairing a file (issue 14)."""
from __future__ import annotations


import pytest

from ooxml_audit import audit
from ooxml_helpers import CORPUS, expected_refusal, manifest, part_hashes
from builders import small_review as _review

from reviewkit.fill import fill_workbook
from reviewkit.rollup import rollup_workbooks
from reviewkit.split import split_workbook
from reviewkit.templates import build_template, build_workbook


@pytest.mark.parametrize("preset", ["sales", "membership", "saas", "product", "blank"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_new_templates_are_clean(tmp_path, preset, lang):
    path = build_template(tmp_path / "new.xlsx", preset=preset, lang=lang)
    assert audit(path) == []


def test_new_fill_split_rollup_with_the_three_probes(tmp_path):
    """Probes: control characters in unit and KPI names (chart text), a coloured number format
    (signed variants), and a refill (owned sheets rebuilt)."""
    review = _review(["North\x01west", "W\x07est", "East_x0041_"])
    kpis = review.tables["KPIs"]
    kpis.loc[0, "name"] = "Revenue\x0b(万元)"
    kpis.loc[0, "number_format"] = "[Blue]#,##0"
    kpis.loc[1, "number_format"] = '[Red][<0.5]0.0%;0.0%'
    master = build_workbook(tmp_path / "master.xlsx", review, lang="en", overwrite=True)
    assert audit(master) == []
    fill_workbook(master)
    assert audit(master) == []
    fill_workbook(master)  # a refill rebuilds the owned sheets
    assert audit(master) == []
    report = split_workbook(master, tmp_path / "dept")
    for f in report.files:
        assert audit(f.path) == [], f.path.name
        fill_workbook(f.path)
        assert audit(f.path) == [], f.path.name
    company = tmp_path / "company.xlsx"
    rollup_workbooks([tmp_path / "dept"], company)
    assert audit(company) == []


ROWS = [r for r in manifest() if not expected_refusal(r)]


@pytest.mark.skipif(not ROWS, reason=f"the Excel-made corpus is not at {CORPUS}")
@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_corpus_edits_are_clean(row, tmp_path):
    from ooxml_helpers import edit
    src = CORPUS / row["file"]
    out = tmp_path / f"edited{src.suffix}"
    edit(src, out)
    before, after = part_hashes(src), part_hashes(out)
    changed = {n for n, h in after.items() if before.get(n) != h}
    assert audit(out, only=changed) == []


def test_the_audit_finds_what_excel_repairs(tmp_path):
    import re
    import zipfile
    path = build_workbook(tmp_path / "a.xlsx", _review(["East", "West"]), lang="en", overwrite=True)
    fill_workbook(path)
    assert audit(path) == []
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    tables = sorted(n for n in parts if n.startswith("xl/tables/"))
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet") and b"<cfRule" in parts[n])
    drawing = next(n for n in parts if n.startswith("xl/drawings/drawing") and parts[n].count(b"cNvPr id=") > 1)
    parts[tables[1]] = re.sub(rb' id="\d+"', re.search(rb' id="\d+"', parts[tables[0]]).group(0), parts[tables[1]], 1)
    parts[tables[0]] = parts[tables[0]].replace(b'<tableColumn id="1" name="', b'<tableColumn id="1" name="X', 1)
    parts[sheet] = re.sub(rb'(<c r="[A-Z]+\d+") s="\d+"', rb'\1 s="9999"', parts[sheet], 1)
    parts[sheet] = re.sub(rb'dxfId="\d+"', b'dxfId="999"', parts[sheet], 1)
    parts[drawing] = re.sub(rb'cNvPr id="\d+"', b'cNvPr id="2"', parts[drawing])
    parts["xl/styles.xml"] = parts["xl/styles.xml"].replace(b'formatCode="', b'formatCode="[Blue', 1)
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(bad, "w") as zf:
        for n, d in parts.items():
            zf.writestr(n, d)
    found = "\n".join(audit(bad))
    for what in ("table id", "is named 'X", "style index 9999", "dxfId 999", "drawing object id 2",
                 "never closed"):
        assert what in found, (what, found)
