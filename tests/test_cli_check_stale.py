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
