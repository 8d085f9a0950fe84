"""Benchmark: where the CPU time of one ``reviewkit fill`` goes, stage by stage.

Run with ``python benchmarks/bench_fill.py [--kind small|demo-unit|demo] [--repeat N] [--profile]``
from the repository root (``src`` is put on the path).

Workbooks:

* ``small``: one departmental workbook split from the small test master (tests/test_split.py:
  3 KPIs, 216 fact rows), the typical file of a ``reviewkit batch``;
* ``demo-unit``: one region of the demo company (reviewkit.sample: 7 KPIs, ~4,000 fact rows);
* ``demo``: the whole demo workbook (all regions, ~23,000 fact rows).

Times are CPU seconds (``time.process_time``: the machine may be loaded), the median over
``--repeat`` runs after one warm-up run (which pays imports and caches), and the minimum
(the least disturbed by other processes on a loaded machine). Stages:

    read_review · analyse (the analysis engine) · fingerprint · plan (scorecard cells, owned
    sheets, quarterly targets, timeline) · editor_open · apply_plan · to_bytes

``--profile`` adds a cProfile of the whole fill (top functions by cumulative and own time);
``--imports`` measures, in a fresh interpreter, what importing the fill path costs a worker.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


def make_workbook(folder: Path, kind: str) -> Path:
    from reviewkit.split import split_workbook
    from reviewkit.templates import build_workbook

    if kind == "small":
        from builders import write_master

        master = write_master(folder / "master.xlsx")
    else:
        from reviewkit.sample import make_sample_review

        master = build_workbook(folder / "master.xlsx", make_sample_review("zh"), lang="zh")
        if kind == "demo":
            return master
    return split_workbook(master, folder / "units").files[0].path


def stages(path: Path) -> dict[str, float]:
    """CPU seconds of each stage of one fill of ``path`` (nothing is saved)."""
    import datetime as dt

    from reviewkit import fill as fl
    from reviewkit.fill import analysed, breakdown, peers, scorecard, summary, timeline
    from reviewkit.ooxml import WorkbookEditor
    from reviewkit.reading import read_review

    t: dict[str, float] = {}
    c = time.process_time
    s = c(); review = read_review(path); t["read_review"] = c() - s
    lang = review.lang if review.lang in ("zh", "en") else "zh"
    lower_rule = str(analysed._settings_value(review, "lower_rule", "linear")).strip().lower()
    cap = analysed._settings_value(review, "cap")
    cap = None if cap is None else float(cap)
    s = c(); an = analysed._analyse(review, lang, lower_rule, cap); t["analyse"] = c() - s
    s = c(); fp = fl.fingerprint(review); t["fingerprint"] = c() - s
    s = c()
    warnings: list[str] = []
    scorecard._scorecard_plan(review, an, lang, lower_rule, cap, warnings)
    scvals = [scorecard._scorecard_values(d, an.ranks.get((d["unit"], d["kpi"])),
                                          analysed._params(an, d["kpi"]).pp, lang)
              for d in an.rows]
    summary._summary_sheet(review, an, lang, fp, dt.date.today(), scvals)
    breakdown._breakdown_sheet(review, an, lang)
    peers._peers_sheet(review, an, lang, scvals)
    scorecard._next_year_plan(review, warnings, frozenset())
    timeline._timeline_sheet(review, lang, None, warnings)
    t["plan_sheets"] = c() - s
    s = c(); plan = fl.build_fill_plan(review); t["(build_fill_plan total)"] = c() - s
    s = c(); ed = WorkbookEditor.open(path); t["editor_open"] = c() - s
    try:
        s = c(); fl.apply_plan(ed, plan); t["apply_plan"] = c() - s
        s = c(); ed.to_bytes(); t["to_bytes"] = c() - s
    finally:
        ed.close()
    return t


def whole_fill(path: Path, work: Path) -> float:
    """CPU seconds of ``fill_workbook`` on a fresh copy (a full fill that saves)."""
    import shutil

    from reviewkit.fill import fill_workbook

    dst = work / ("copy" + path.suffix)
    shutil.copyfile(path, dst)
    s = time.process_time()
    fill_workbook(dst)
    return time.process_time() - s


def import_cost() -> dict[str, float]:
    code = ("import time; c=time.process_time; s=c(); import reviewkit.fill, reviewkit.reading.read, "
            "reviewkit.ooxml; a=c()-s; s=c(); import reviewkit.batch; b=c()-s; import sys; "
            "print(a, b, len(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}).stdout.split()
    return {"import fill+reader+ooxml": float(out[0]), "then import batch": float(out[1]),
            "modules loaded": float(out[2])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=["small", "demo-unit", "demo"], default="small")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="cProfile one fill (top 30 functions)")
    ap.add_argument("--imports", action="store_true", help="measure the import cost of a fresh worker")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = make_workbook(tmp, args.kind)
        stages(path)  # warm-up: imports, caches
        runs = [stages(path) for _ in range(args.repeat)]
        fills = [whole_fill(path, tmp) for _ in range(max(1, args.repeat))]
        print(f"{args.kind}: {path.name}, {path.stat().st_size / 1024:.0f} KiB; CPU ms over {args.repeat} runs:"
              f" median, min")
        for k in runs[0]:
            col = [1000 * r[k] for r in runs]
            print(f"  {k:26s} {statistics.median(col):8.1f} {min(col):8.1f}")
        print(f"  {'fill_workbook (saves)':26s} {1000 * statistics.median(fills):8.1f} {1000 * min(fills):8.1f}")
        if args.profile:
            pr = cProfile.Profile()
            pr.enable()
            whole_fill(path, tmp)
            pr.disable()
            for key in ("cumulative", "tottime"):
                buf = io.StringIO()
                pstats.Stats(pr, stream=buf).sort_stats(key).print_stats(30)
                print(buf.getvalue())
    if args.imports:
        for k, v in import_cost().items():
            print(f"  {k:26s} {v:8.3f}")


if __name__ == "__main__":
    main()
