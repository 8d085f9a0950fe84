"""Write every preset x language template into xlsx_templates/ (the committed golden files).

    python scripts/build_templates.py [OUTDIR]

``tests/test_templates.py`` rebuilds them and compares every zip part, so run this after any
change to the template builder, the presets or the model, and commit the result.
"""
from __future__ import annotations

import sys
from pathlib import Path

from reviewkit.model import LANGS
from reviewkit.presets import PRESETS
from reviewkit.templates import build_template

REPO = Path(__file__).resolve().parents[1]
OUTDIR = REPO / "xlsx_templates"


def build_all(outdir: Path = OUTDIR) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    return [build_template(outdir / f"{preset}_{lang}.xlsx", preset=preset, lang=lang, overwrite=True)
            for preset in PRESETS for lang in LANGS]


if __name__ == "__main__":
    for path in build_all(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTDIR):
        print(path)
