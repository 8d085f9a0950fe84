"""Benchmark: batch-fill N departmental workbooks, against the obvious one-process baseline.

Run with ``python benchmarks/bench_batch.py [--n 1000] [--jobs 2] [--baseline-n N]`` from the
repository root (``src`` is put on the path). It

1. splits a six-unit master (three years of monthly facts, three KPIs) into departmental
   workbooks and copies them round-robin to N files (each never filled, so each is fully filled);
2. **baseline**, in a fresh process: for each file openpyxl ``load_workbook``, read the
   Scorecard/KPIs tables into pandas, compute achievement, gap, change vs last year and the
   status with pandas, write the cells, ``save`` — one process, like a hand-written script;
3. **reviewkit**, in a fresh process: ``run_batch(files, jobs=J)`` (process pool, lossless
   editor, atomic writes), pool start-up included;
4. **profile**: where the time of one file goes in ``fill_job`` (check, staleness, read, plan,
   apply, write), averaged over a few files in one process.

Both runs get their own copies. Peak memory is the maximum resident set size of the process and
its children (``resource.getrusage``). The baseline runs on ``--baseline-n`` files (default
min(N, 100)): it is slow, and its per-file cost is flat, so its rate extrapolates.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


# --- data ---------------------------------------------------------------------------------
def make_files(folder: Path, n: int, master_kind: str = "small") -> list[Path]:
    from builders import write_master

    from reviewkit.split import split_workbook

    seed_dir = folder / "_seed"
    seed_dir.mkdir(parents=True, exist_ok=True)
    if master_kind == "demo":  # reviewkit.sample: 7 KPIs, ~4,000 fact rows per region
        from reviewkit.sample import make_sample_review
        from reviewkit.templates import build_workbook

        master = build_workbook(seed_dir / "master.xlsx", make_sample_review("zh"), lang="zh")
    else:  # tests/test_split.py: 3 KPIs, 216 fact rows per unit
        master = write_master(seed_dir / "master.xlsx")
    seeds = [f.path for f in split_workbook(master, seed_dir / "units").files]
    out = []
    for i in range(n):
        src = seeds[i % len(seeds)]
        dst = folder / f"dept{i:05d}.xlsx"
        shutil.copyfile(src, dst)
        out.append(dst)
    return out


def copy_set(files: list[Path], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for f in files:
        dst = folder / f.name
        shutil.copyfile(f, dst)
        out.append(dst)
    return out


# --- the baseline -------------------------------------------------------------------------
def _table_frame(wb, name):
    import pandas as pd
    from openpyxl.utils.cell import range_boundaries

    for ws in wb.worksheets:
        if name in ws.tables:
            t = ws.tables[name]
            c0, r0, c1, r1 = range_boundaries(t.ref)
            rows = list(ws.iter_rows(min_row=r0, max_row=r1, min_col=c0, max_col=c1, values_only=True))
            return ws, (c0, r0), pd.DataFrame(rows[1:], columns=rows[0])
    raise KeyError(name)


def baseline_fill(path: Path) -> None:
    """openpyxl load → pandas → write cells → save: the script a finance analyst would write."""
    import numpy as np
    import openpyxl

    wb = openpyxl.load_workbook(path)
    _, _, kpis = _table_frame(wb, "KPIs")
    ws, (c0, r0), sc = _table_frame(wb, "Scorecard")
    direction = dict(zip(kpis["KPI代码"], kpis["方向"]))
    sc = sc.dropna(how="all", subset=["单位", "KPI代码"])
    t = sc["目标"].astype(float)
    a = sc["实际"].astype(float)
    ly = sc["去年"].astype(float)
    lower = sc["KPI代码"].map(direction).eq("越低越好")
    ach = np.where(lower, 2 - a / t, a / t)
    gap = a - t
    chg = a - ly
    chg_pct = chg / ly.abs()
    status = np.select([ach >= 1, ach >= 0.9], ["达标", "预警"], "未达标")
    headers = list(sc.columns)
    cols = {h: c0 + headers.index(h) for h in ("达成率", "差额", "同比变化", "同比%", "状态")}
    for i, row in enumerate(range(r0 + 1, r0 + 1 + len(sc))):
        ws.cell(row, cols["达成率"]).value = float(ach[i])
        ws.cell(row, cols["差额"]).value = float(gap.iloc[i])
        ws.cell(row, cols["同比变化"]).value = float(chg.iloc[i])
        ws.cell(row, cols["同比%"]).value = float(chg_pct.iloc[i])
        ws.cell(row, cols["状态"]).value = str(status[i])
    wb.save(path)


def run_baseline(files: list[Path]) -> dict:
    baseline_fill(files[0])  # warm-up: imports, like the workers' start-up
    t0, c0 = time.perf_counter(), time.process_time()
    for f in files[1:]:
        baseline_fill(f)
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "files": len(files) - 1}


def measured_fill_job(path: str, force: bool = False):
    """``fill_job`` plus the worker's CPU seconds and peak RSS, carried in the result's reason."""
    from reviewkit.batch import FileResult, fill_job

    c0 = time.process_time()
    r = fill_job(path, force)
    cpu = time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return FileResult(r.path, r.status, f"cpu={cpu:.6f} rss={rss:.1f} pid={os.getpid()} {r.reason}"[:300],
                      r.seconds)


def run_reviewkit(files: list[Path], jobs: int) -> dict:
    from bench_batch import measured_fill_job as job  # importable by the workers by this name

    from reviewkit.batch import fill_job, run_batch

    job.__wrapped__ = fill_job  # run_batch then preloads what fill_job needs, as for `reviewkit batch`

    t0 = time.perf_counter()
    report = run_batch(files, jobs=jobs, job=job)
    seconds = time.perf_counter() - t0
    counts = report.counts()
    if counts["failed"]:
        raise SystemExit("reviewkit batch failed on: " + "; ".join(f"{r.path}: {r.reason}" for r in report.failed[:3]))
    cpu = [float(r.reason.split()[0][4:]) for r in report.results]
    rss = {}
    for r in report.results:
        parts = dict(x.split("=", 1) for x in r.reason.split()[:3])
        rss[parts["pid"]] = max(rss.get(parts["pid"], 0.0), float(parts["rss"]))
    return {"seconds": seconds, "files": len(files), "counts": counts, "cpu": sum(cpu),
            "job_seconds": sum(r.seconds for r in report.results), "worker_rss_mb": rss}


PHASES = ("package_open", "safety_check", "editor_open", "stale_check", "read_review", "build_fill_plan", "apply_plan",
          "to_bytes", "write_file")


def profile(files: list[Path]) -> dict:
    """Mean CPU seconds per phase of fill_job on ``files`` (one process, after a warm-up file).

    The phases in fill_job's order: the package is opened once (read, zip directory parsed,
    checked), ``safety.check`` inflates its XML parts, and the editor and the reader take that
    same package; on a never-filled workbook the staleness check is one custom-property lookup.
    """
    from reviewkit.fill import FINGERPRINT_PROPERTY, apply_plan, build_fill_plan
    from reviewkit.ooxml import WorkbookEditor
    from reviewkit.ooxml.package import Package
    from reviewkit.files import Source, write_file
    from reviewkit.reading import read_review
    from reviewkit.safety import check

    phases = {k: 0.0 for k in PHASES}
    warm, *rest = files
    for i, f in enumerate([warm, *rest]):
        t = {}
        s = time.process_time(); pkg = Package.open(f); t["package_open"] = time.process_time() - s
        s = time.process_time(); check(pkg); t["safety_check"] = time.process_time() - s
        s = time.process_time(); ed = WorkbookEditor(pkg); t["editor_open"] = time.process_time() - s
        s = time.process_time(); ed.get_custom_property(FINGERPRINT_PROPERTY); t["stale_check"] = time.process_time() - s
        s = time.process_time(); review = read_review(pkg); t["read_review"] = time.process_time() - s
        s = time.process_time(); plan = build_fill_plan(review); t["build_fill_plan"] = time.process_time() - s
        s = time.process_time(); apply_plan(ed, plan); t["apply_plan"] = time.process_time() - s
        s = time.process_time(); data = ed.to_bytes(); t["to_bytes"] = time.process_time() - s
        ed.close()
        s = time.process_time(); write_file(Path(f), data, source=Source.of(f, pkg.data))
        t["write_file"] = time.process_time() - s
        if i:  # the first file pays imports and caches
            for k, v in t.items():
                phases[k] += v / len(rest)
    return phases


def _child(mode: str, folder: str, jobs: int) -> None:
    files = sorted(Path(folder).glob("*.xlsx"))
    if mode == "baseline":
        out = run_baseline(files)
    elif mode == "reviewkit":
        out = run_reviewkit(files, jobs)
    else:
        out = profile(files)
    ru_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ru_kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out["peak_rss_mb"] = max(ru_self, ru_kids) / 1024  # Linux: KiB
    out["peak_rss_self_mb"] = ru_self / 1024
    out["peak_rss_children_mb"] = ru_kids / 1024
    print("RESULT " + json.dumps(out))


def _run_child(mode: str, folder: Path, jobs: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", mode, "--dir", str(folder), "--jobs", str(jobs)],
                          capture_output=True, text=True)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode or line is None:
        raise SystemExit(f"{mode} run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(line[7:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="departmental workbooks to fill (default 1000)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes for reviewkit (default 2)")
    ap.add_argument("--baseline-n", type=int, default=None, help="files for the baseline (default min(n, 100))")
    ap.add_argument("--profile-n", type=int, default=8, help="files for the per-phase profile")
    ap.add_argument("--master", choices=["small", "demo"], default="small",
                    help="departments split from the small test master (default) or the demo company")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--child", choices=["baseline", "reviewkit", "profile"], help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.dir, args.jobs)
        return
    bn = args.baseline_n or min(args.n, 100)
    work = Path(tempfile.mkdtemp(prefix="rk-bench-batch-"))
    try:
        t0 = time.perf_counter()
        files = make_files(work / "gen", args.n, args.master)
        print(f"generated {len(files)} departmental workbooks ({files[0].stat().st_size / 1024:.0f} KB each) "
              f"in {time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs")
        base = _run_child("baseline", _copy(files[:bn], work / "baseline"), 1)
        ours = _run_child("reviewkit", _copy(files, work / "reviewkit"), args.jobs)
        prof = _run_child("profile", _copy(files[:args.profile_n + 1], work / "profile"), 1)
        b_rate = base["files"] / base["seconds"]
        o_rate = ours["files"] / ours["seconds"]
        b_cpu = base["cpu"] / base["files"]
        o_cpu = ours["cpu"] / ours["files"]
        workers = ours["worker_rss_mb"]
        print(f"baseline  (openpyxl+pandas, 1 process): {base['files']:5d} files in {base['seconds']:7.1f} s wall = "
              f"{b_rate:6.2f} workbooks/s; CPU {1000 * b_cpu:5.0f} ms/file; peak RSS {base['peak_rss_mb']:.0f} MB")
        print(f"reviewkit (run_batch, {args.jobs} processes):        {ours['files']:5d} files in {ours['seconds']:7.1f} s wall = "
              f"{o_rate:6.2f} workbooks/s; CPU {1000 * o_cpu:5.0f} ms/file in a worker; peak RSS "
              f"{max(workers.values()):.0f} MB per worker ({len(workers)} workers), "
              f"{ours['peak_rss_self_mb']:.0f} MB parent")
        print(f"throughput ratio reviewkit/baseline, wall clock: {o_rate / b_rate:.2f}x  (target 10x on 2 cores)")
        print(f"throughput ratio on CPU time ({args.jobs} workers x per-file CPU, insensitive to other load): "
              f"{args.jobs * b_cpu / o_cpu:.2f}x; per-file CPU ratio {b_cpu / o_cpu:.2f}x")
        try:
            print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        except OSError:  # pragma: no cover
            pass
        total = sum(prof[k] for k in PHASES)
        print(f"per-file profile of fill_job, CPU time (mean of {args.profile_n} files, one process): "
              f"{1000 * total:.0f} ms")
        for k in PHASES:
            print(f"  {k:<16} {1000 * prof[k]:7.1f} ms  {100 * prof[k] / total:5.1f}%")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"files kept in {work}")


def _copy(files: list[Path], folder: Path) -> Path:
    copy_set(files, folder)
    return folder


if __name__ == "__main__":
    main()
