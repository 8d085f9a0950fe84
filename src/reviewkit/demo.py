"""``reviewkit demo``: the sample company's review workbooks, filled, and what to do next."""
from __future__ import annotations

import time
from pathlib import Path

from . import model
from .errors import ReviewkitError
from .files import make_dir
from .sample import make_sample_review
from .templates import build_workbook

_NAMES = {"zh": "复盘示例.xlsx", "en": "review-demo.xlsx"}


def demo_path(directory: str | Path, lang: str) -> Path:
    """Where ``run_demo`` writes the workbook of ``lang``."""
    return Path(directory) / _NAMES[lang]


def run_demo(directory: str | Path, langs: tuple[str, ...] = ("zh", "en")) -> str:
    """Build (and fill, when ``reviewkit.fill`` is available) the sample workbook per language.

    Existing demo files in ``directory`` are replaced; other files are left alone. Returns a
    short report: the files written, which sheet to open first, and the next commands.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ReviewkitError("the demo folder is a file", file=directory, expected="a folder (it is created if missing)")
    for lang in langs:
        if lang not in model.LANGS:
            raise ReviewkitError("unknown language", value=lang, expected=" or ".join(model.LANGS))
    make_dir(directory)
    try:
        from .fill import fill_workbook
    except ImportError:
        fill_workbook = None

    lines: list[str] = []
    written: list[Path] = []
    for lang in langs:
        t0 = time.perf_counter()
        review = make_sample_review(lang)
        path = build_workbook(demo_path(directory, lang), review, lang=lang, overwrite=True)
        written.append(path)
        n_facts = len(review.facts)
        note = ""
        if fill_workbook is not None:
            fill_workbook(path)
            note = "filled"
        else:
            note = "fill not available yet: run reviewkit fill later"
        lines.append(f"  {path}  ({lang}, {n_facts:,} fact rows, {len(review.scorecard)} scorecard rows; "
                     f"{note}; {time.perf_counter() - t0:.1f} s)")
    first = written[0]
    lang0 = langs[0]
    summary = model.owned_sheet_name("summary", lang0)
    guide = model.owned_sheet_name("guide", lang0)
    open_first = (f"Open {first.name} and read the '{summary}' sheet first (the '{guide}' sheet explains every "
                  "sheet)." if fill_workbook is not None else
                  f"Open {first.name}; the '{guide}' sheet explains every sheet.")
    report = [f"reviewkit demo: wrote {len(written)} workbook(s) for a sample company "
              "(6 regions, 2023-2025):", *lines, "", open_first,
              "The sample plants two stories to find: renewals fell among small internet firms and the "
              "2024Q3 signing cohort; East China missed revenue (~90%) because manufacturing dropped.",
              "Next:",
              f"  reviewkit check \"{first}\"     # list every input problem",
              f"  reviewkit fill \"{first}\"      # recompute after you edit the yellow cells",
              f"  reviewkit export \"{first}\"    # PDF for the review meeting",
              f"  reviewkit import export.csv \"{first}\" --table facts --dry-run   # an ERP / 飞书 export in",
              f"  reviewkit new my-review.xlsx --preset sales --lang {lang0}   # your own, empty workbook"]
    return "\n".join(report)
