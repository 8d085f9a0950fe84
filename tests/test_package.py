"""The package as users meet it: its public names, its distribution and version."""
from __future__ import annotations

import importlib.metadata

from click.testing import CliRunner

import reviewkit
from reviewkit.cli import main
from reviewkit.fill import fill_workbook
from reviewkit.reading import read_review


def test_every_public_name_resolves():
    for name in reviewkit.__all__:
        assert getattr(reviewkit, name) is not None, name
    assert reviewkit.read_review is read_review
    assert reviewkit.fill_workbook is fill_workbook


def test_version_comes_from_our_distribution():
    """The distribution is reviewkit-excel (``reviewkit`` on the public index is another project)."""
    dist = importlib.metadata.distribution("reviewkit-excel")
    assert "reviewkit" in (dist.read_text("top_level.txt") or "reviewkit").split()
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert dist.version in result.output
    assert not any(r.startswith("xlwings") for r in dist.requires or [] if "extra ==" not in r)
