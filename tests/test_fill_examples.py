"""The fill example runs and does what its docstring says."""
from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fill_review.py"


def test_fill_example_runs(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("fill_review_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    from reviewkit.templates import build_workbook

    path = tmp_path / "example.xlsx"
    build_workbook(path, mod.example_review("en"), lang="en")
    mod.main([str(path)])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("filled ") and out[1].startswith("unchanged: ")
    assert out[2] == "stale: False"
    assert any(line.startswith("owned sheet Breakdown:") and "charts" in line for line in out)
