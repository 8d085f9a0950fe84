"""`reviewkit check` warns when a filled workbook's inputs changed since the last fill."""
from click.testing import CliRunner

from reviewkit.cli import main
from reviewkit.ooxml import WorkbookEditor
from reviewkit.reading import read_review
from reviewkit.sample import make_sample_review
from reviewkit.templates import build_workbook


def test_check_says_results_are_stale_after_an_input_changes(tmp_path):
    review = make_sample_review("en")
    review.tables["Facts"] = review.facts.head(300)  # keep it small: only the scorecard matters here
    path = build_workbook(tmp_path / "review.xlsx", review, lang="en")
    runner = CliRunner()
    assert "stale" not in runner.invoke(main, ["check", str(path)], catch_exceptions=False).output
    assert runner.invoke(main, ["fill", str(path)], catch_exceptions=False).exit_code == 0

    fresh = runner.invoke(main, ["check", str(path)], catch_exceptions=False)
    assert fresh.exit_code == 0 and "stale" not in fresh.output

    layout = read_review(path).layouts["Scorecard"]
    cell = layout.cell("actual", 0)
    with WorkbookEditor.open(path) as book:
        book.sheet(layout.sheet).write(cell, 123456.0)
        book.save()
    stale = runner.invoke(main, ["check", str(path)], catch_exceptions=False)
    assert stale.exit_code == 0  # a warning, not an input error
    assert "warning: review.xlsx: results are stale: inputs changed since the last fill" in stale.output
    assert "reviewkit fill" in stale.output


def test_the_stale_warning_speaks_the_workbook_language(tmp_path):
    """A zh workbook's stale warning is Chinese (frame and message), an en one's English."""
    runner = CliRunner()
    said = {}
    for lang in ("zh", "en"):
        review = make_sample_review(lang)
        review.tables["Facts"] = review.facts.head(300)
        path = build_workbook(tmp_path / f"review_{lang}.xlsx", review, lang=lang)
        assert runner.invoke(main, ["fill", str(path)], catch_exceptions=False).exit_code == 0
        layout = read_review(path).layouts["Scorecard"]
        with WorkbookEditor.open(path) as book:
            book.sheet(layout.sheet).write(layout.cell("actual", 0), 123456.0)
            book.save()
        res = runner.invoke(main, ["check", str(path)], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        said[lang] = [line for line in res.output.splitlines() if "stale" in line or "过期" in line]
    assert said["zh"] == ["警告：review_zh.xlsx：结果已过期：上次填写后输入有改动；"
                          "应为 运行 reviewkit fill（或点击“刷新”按钮）更新结果"]
    assert said["en"] == ["warning: review_en.xlsx: results are stale: inputs changed since the last fill; "
                          "expected run `reviewkit fill` (or click Refresh) to update them"]
