"""``reviewkit demo``: sample workbooks written (and filled), and a report that says what next."""
import sys

import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from reviewkit.cli import main
from reviewkit.demo import run_demo
from reviewkit.errors import ReviewkitError
from reviewkit.sample import make_sample_review

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "reviewkit-demo"
    result = CliRunner().invoke(main, ["demo", str(out)], catch_exceptions=False)
    return out, result


def test_demo_writes_both_languages_and_reports(demo_run):
    out, result = demo_run
    assert result.exit_code == 0, result.output
    zh, en = out / "复盘示例.xlsx", out / "review-demo.xlsx"
    assert zh.exists() and en.exists()
    report = result.output
    assert str(zh) in report and str(en) in report
    assert f"{len(make_sample_review('en').facts):,} fact rows" in report
    assert "filled" in report and "汇总" in report  # fill exists: read the Summary first
    for command in ("reviewkit check", "reviewkit fill", "reviewkit export", "reviewkit new", "reviewkit import"):
        assert command in report


def _sheet(path, name):
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def test_demo_workbook_is_filled_with_the_sample_numbers(demo_run):
    out, _ = demo_run
    book = CalamineWorkbook.from_path(str(out / "review-demo.xlsx"))
    assert book.sheet_names[0] == "Guide" and "Summary" in book.sheet_names
    rows = _sheet(out / "review-demo.xlsx", "Scorecard")
    header = rows[3]
    col = {h: i for i, h in enumerate(header)}
    data = {(r[col["Unit"]], r[col["KPI key"]]): r for r in rows[4:] if r[0]}
    expected = make_sample_review("en").scorecard.set_index(["unit", "kpi"])
    assert len(data) == len(expected)
    east = data[("East China", "revenue")]
    want = expected.loc[("East China", "revenue")]
    assert east[col["Actual"]] == pytest.approx(want["actual"])
    # computed by fill: achievement = actual / target (about 90% for East China revenue)
    assert east[col["Achievement"]] == pytest.approx(want["actual"] / want["target"], rel=1e-6)
    assert 0.9 <= east[col["Achievement"]] < 0.91


def test_demo_without_fill_says_so(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "reviewkit.fill", None)  # import reviewkit.fill -> ImportError
    report = run_demo(tmp_path, langs=("en",))
    assert "fill not available yet" in report
    assert (tmp_path / "review-demo.xlsx").exists() and not (tmp_path / "复盘示例.xlsx").exists()
    assert "Summary" not in CalamineWorkbook.from_path(str(tmp_path / "review-demo.xlsx")).sheet_names


def test_demo_into_a_file_is_a_clear_error(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    result = CliRunner().invoke(main, ["demo", str(target), "--lang", "zh"], catch_exceptions=False)
    assert result.exit_code == 2 and "is a file" in result.output  # click's own check
    with pytest.raises(ReviewkitError, match="demo folder is a file"):
        run_demo(target, langs=("zh",))
