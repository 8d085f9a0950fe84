"""The golden equivalence corpus: fixed input workbooks, and what ``fill`` made of each.

``tests/test_golden.py`` fills every input again and compares, byte for byte, every part of the
output with the stored golden output (only the ``reviewkit.filled_at`` time stamp is ignored),
plus the tables the reader read and every analysis DataFrame (values and dtypes). Refactoring
must keep all of it identical; a change that means to alter the output regenerates the goldens
on purpose and shows the change in review:

    python tests/golden/golden.py            # refill the inputs, rewrite expected/
    python tests/golden/golden.py --inputs   # rebuild the inputs first (only when the input set changes)

Layout: ``inputs/NAME.xlsx|xlsm``; ``expected/NAME.xlsx.json`` (every output part's name, size and
SHA-256 in zip order, and a digest of every reader table and analysis frame);
``expected/NAME.xlsx.parts.zip`` (the output parts that differ from the input, to diff on failure).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
INPUTS = HERE / "inputs"
EXPECTED = HERE / "expected"
AS_OF = dt.date(2025, 12, 31)
_STAMP = re.compile(rb"(<property [^>]*name=\"reviewkit\.filled_at\"[^>]*><vt:lpwstr>)[^<]*(</vt:lpwstr>)")


def inputs() -> list[Path]:
    return sorted(p for p in INPUTS.iterdir() if p.suffix in (".xlsx", ".xlsm"))


def parts(data: bytes) -> list[tuple[str, bytes]]:
    """The zip's parts in order, the fill time stamp blanked."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        out = []
        for info in zf.infolist():
            body = zf.read(info)
            if info.filename == "docProps/custom.xml":
                body = _STAMP.sub(rb"\1-\2", body)
            out.append((info.filename, body))
        return out


def _column_digest(values: list) -> str:
    return hashlib.sha256("\x1f".join(map(repr, values)).encode("utf-8", "surrogatepass")).hexdigest()[:20]


def frame_digest(df: pd.DataFrame) -> dict:
    """Shape, dtypes and a digest of every column's exact values (``repr`` of each)."""
    return {"shape": list(df.shape), "index": _column_digest(df.index.tolist()),
            "columns": [[str(c), str(df[c].dtype), _column_digest(df[c].tolist())] for c in df.columns]}


def analysis_digests(path: Path) -> dict:
    """The reader's tables and the analysis frames ``fill`` is built on, digested."""
    import reviewkit
    from reviewkit.reading import read_review

    review = read_review(path)
    out = {f"table:{name}": frame_digest(df) for name, df in sorted(review.tables.items())}
    if review.scorecard.empty:
        return out
    facts = review.facts if not review.facts.empty else None
    data = {"kpis": review.kpis, "scorecard": review.scorecard, "facts": facts,
            "causes": review.causes, "actions": review.tables.get("Actions")}
    result = reviewkit.analyse(data, lang=review.lang if review.lang in ("zh", "en") else "zh")
    out.update({f"analysis:{name}": frame_digest(df) for name, df in sorted(result.items())})
    return out


def fill_bytes(path: Path) -> bytes:
    """Fill a copy of ``path`` as of AS_OF and return the output's bytes (``path`` is untouched)."""
    from reviewkit.fill import fill_workbook

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / ("out" + path.suffix)
        fill_workbook(path, out=out, as_of=AS_OF)
        return out.read_bytes()


def record(path: Path) -> tuple[dict, dict[str, bytes]]:
    """The golden record of one input, and the output parts that differ from the input's."""
    before = dict(parts(path.read_bytes()))
    after = parts(fill_bytes(path))
    changed = {name: body for name, body in after if before.get(name) != body}
    rec = {"parts": [[name, len(body), hashlib.sha256(body).hexdigest()] for name, body in after],
           "frames": analysis_digests(path)}
    return rec, changed


def write_expected(path: Path) -> None:
    rec, changed = record(path)
    EXPECTED.mkdir(exist_ok=True)
    (EXPECTED / f"{path.name}.json").write_text(json.dumps(rec, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                                                encoding="utf-8")
    with zipfile.ZipFile(EXPECTED / f"{path.name}.parts.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in changed.items():
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), body, zipfile.ZIP_DEFLATED)


def build_inputs() -> None:
    """The input set: demos (zh/en), split departments, presets, random reviews, templates, a
    macro workbook and an already-filled workbook whose inputs changed since."""
    sys.path.insert(0, str(HERE.parent))
    from builders import build_user_content, preset_review, random_review, sales_review  # the suite's builders

    from reviewkit.ooxml import WorkbookEditor
    from reviewkit.reading import read_review
    from reviewkit.sample import make_sample_review
    from reviewkit.split import split_workbook
    from reviewkit.templates import build_workbook

    if INPUTS.exists():
        shutil.rmtree(INPUTS)
    INPUTS.mkdir(parents=True)

    def build(name, review, macro=False):
        path = INPUTS / (name + (".xlsm" if macro else ".xlsx"))
        build_workbook(path, review, lang=review.lang, macro=macro, overwrite=True)
        return path

    demo_zh = build("demo_zh", make_sample_review("zh"))
    build("demo_en", make_sample_review("en"))
    with tempfile.TemporaryDirectory() as tmp:
        report = split_workbook(demo_zh, tmp)
        for i, f in enumerate(report.files[:2]):
            shutil.copyfile(f.path, INPUTS / f"split_dept{i + 1}.xlsx")
    build("sales_zh", sales_review("zh", seed=1))
    build("sales_en_5units", sales_review("en", seed=2, units=5))
    build("sales_zh_macro", sales_review("zh", seed=3), macro=True)
    for preset, lang in (("membership", "zh"), ("saas", "en"), ("product", "zh")):
        build(f"preset_{preset}_{lang}", preset_review(preset, lang))
    for seed in (1, 2, 3):
        build(f"random_{seed}", random_review(seed))
    templates = HERE.parents[1] / "xlsx_templates"
    for name in ("sales_zh", "blank_en"):
        shutil.copyfile(templates / f"{name}.xlsx", INPUTS / f"template_{name}.xlsx")
    # a workbook made by another writer, with the user's pictures, comments, chart, button,
    # sparkline, text box and defined name
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".xlsx", ".xlsm"):
            build_user_content(INPUTS / f"user_content{suffix}", Path(tmp))
    # filled once, then a target edited: the refill replaces every owned sheet
    refill = build("refill_en", sales_review("en", seed=4))
    from reviewkit.fill import fill_workbook

    fill_workbook(refill, as_of=AS_OF)
    layout = read_review(refill).layouts["Scorecard"]
    col = layout.columns["target"]
    with WorkbookEditor.open(refill) as ed:
        ed.sheet(layout.sheet).write(f"{col}{layout.first_row}", 999.0)
        ed.save()


def main(argv: list[str]) -> None:
    if "--inputs" in argv:
        build_inputs()
    if EXPECTED.exists():
        shutil.rmtree(EXPECTED)
    for path in inputs():
        write_expected(path)
        print(f"golden: {path.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
