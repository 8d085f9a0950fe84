"""The Refresh button is on the summary sheet of a filled .xlsm, and stays through every fill."""
import zipfile

from reviewkit import model, vba
from reviewkit.fill import fill_workbook
from reviewkit.sample import make_sample_review
from reviewkit.templates import build_workbook


def _parts(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_filled_xlsm_has_a_working_refresh_button_on_guide_and_summary(tmp_path):
    review = make_sample_review("zh")
    review.tables["Facts"] = review.facts.head(400)
    path = build_workbook(tmp_path / "review.xlsm", review, lang="zh", macro=True)
    vba_before = _parts(path)["xl/vbaProject.bin"]
    fill_workbook(path, as_of="2025-12-31")
    first = _parts(path)

    bindings = vba.button_bindings(path)
    sheets = {b.sheet for b in bindings}
    assert {model.owned_sheet_name("guide", "zh"), model.owned_sheet_name("summary", "zh")} <= sheets
    modules = vba.read_macros(path)
    for b in bindings:
        proc = vba.resolve_macro(b.macro, modules)
        assert proc is not None and proc.name == "Refresh", b
    assert first["xl/vbaProject.bin"] == vba_before

    # filling again with the same inputs changes nothing: button, bindings and macros all stay
    fill_workbook(path, as_of="2025-12-31")
    assert _parts(path) == first


def test_filled_xlsx_gets_no_button_and_no_error(tmp_path):
    review = make_sample_review("en")
    review.tables["Facts"] = review.facts.head(400)
    path = build_workbook(tmp_path / "review.xlsx", review, lang="en")
    fill_workbook(path, as_of="2025-12-31")
    assert vba.button_bindings(path) == []
