"""The batch runner: folders, process pool, per-file results, Ctrl-C, Dask — with stand-in jobs.

The jobs here stand in for ``fill`` so the runner's guarantees are tested on their own: a job
"fills" a file by appending a marker with an atomic rename, fails on request, or kills its worker.
The real fill is exercised in test_batch_workflow.py.
"""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reviewkit.batch import (CANCELLED, FAILED, FILLED, SKIPPED, BatchReport, FileResult, PlainProgress,
                             find_workbooks, run_batch)
from reviewkit.errors import InputError, MissingDependencyError

MARK = b"#filled"


def marker_job(path: str, force: bool = False) -> FileResult:
    """Append MARK atomically; "bad" files fail cleanly, "boom" raises, "crash" kills the worker."""
    p = Path(path)
    data = p.read_bytes()
    if data.startswith(b"crash"):
        os._exit(3)
    if data.startswith(b"boom"):
        raise ValueError("unexpected thing in " + p.name)
    if data.startswith(b"bad"):
        return FileResult(path, FAILED, f"{p.name}: sheet 'Scorecard', cell C4: not a number")
    if data.endswith(MARK) and not force:
        return FileResult(path, SKIPPED, "inputs unchanged")
    tmp = p.with_name(".~" + p.name + ".tmp")
    tmp.write_bytes(data + MARK)
    os.replace(tmp, p)
    return FileResult(path, FILLED, f"pid {os.getpid()}")


def _files(tmp_path: Path, contents: dict[str, bytes]) -> list[Path]:
    out = []
    for name, data in contents.items():
        f = tmp_path / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)
        out.append(f)
    return out


def test_find_workbooks_expands_folders_and_skips_lock_files(tmp_path):
    _files(tmp_path, {"d/a.xlsx": b"a", "d/B.XLSM": b"b", "d/~$a.xlsx": b"lock", "d/.~a.xlsx.tmp": b"t",
                      "d/.~x.xlsx": b"t", "d/.a.123.tmp.xlsx": b"t", "d/notes.txt": b"n", "d/sub/c.xlsx": b"c", "e.txt": b"e"})
    files, bad = find_workbooks([tmp_path / "d", tmp_path / "d" / "a.xlsx", tmp_path / "missing.xlsx",
                                 tmp_path / "e.txt"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["d/B.XLSM", "d/a.xlsx", "d/sub/c.xlsx"]
    assert [(Path(r.path).name, r.status) for r in bad] == [("missing.xlsx", FAILED), ("e.txt", FAILED)]
    assert "no such file" in bad[0].reason and "not an .xlsx" in bad[1].reason


@pytest.mark.parametrize("jobs", [1, 2])
def test_bad_files_fail_with_a_reason_and_all_others_are_done(tmp_path, jobs):
    files = _files(tmp_path, {"a.xlsx": b"a", "b.xlsx": b"bad", "c.xlsx": b"c", "d.xlsx": b"boom",
                              "e.xlsx": b"e", "f.xlsx": b"f"})
    report = run_batch([tmp_path], jobs=jobs, job=marker_job)
    got = {Path(r.path).name: r.status for r in report.results}
    assert got == {"a.xlsx": FILLED, "b.xlsx": FAILED, "c.xlsx": FILLED, "d.xlsx": FAILED,
                   "e.xlsx": FILLED, "f.xlsx": FILLED}
    assert [Path(r.path).name for r in report.results] == sorted(got)  # input order kept
    reasons = {Path(r.path).name: r.reason for r in report.failed}
    assert "cell C4" in reasons["b.xlsx"]
    assert reasons["d.xlsx"].startswith("internal error ValueError") and "d.xlsx" in reasons["d.xlsx"]
    assert report.exit_code == 1 and not report.interrupted
    for f in files:
        data = f.read_bytes()
        assert data.endswith(MARK) == (data[:1] in (b"a", b"c", b"e", b"f"))
    if jobs == 2:  # really ran in worker processes, not in this one
        pids = {r.reason for r in report.by_status(FILLED)}
        assert f"pid {os.getpid()}" not in pids


def test_unchanged_files_are_skipped_unless_forced(tmp_path):
    files = _files(tmp_path, {"a.xlsx": b"a", "b.xlsx": b"b"})
    assert run_batch(files, jobs=2, job=marker_job).exit_code == 0
    again = run_batch(files, jobs=2, job=marker_job)
    assert [r.status for r in again.results] == [SKIPPED, SKIPPED]
    assert files[0].read_bytes() == b"a" + MARK
    forced = run_batch(files, jobs=2, job=marker_job, force=True)
    assert [r.status for r in forced.results] == [FILLED, FILLED]
    assert files[0].read_bytes() == b"a" + MARK + MARK


def test_a_crashing_worker_fails_only_its_file(tmp_path):
    _files(tmp_path, {f"f{i:02}.xlsx": (b"crash" if i == 3 else b"ok") for i in range(8)})
    report = run_batch([tmp_path], jobs=2, job=marker_job)
    got = {Path(r.path).name: r for r in report.results}
    assert got["f03.xlsx"].status == FAILED and "worker process died" in got["f03.xlsx"].reason
    # every other file is filled exactly once; one that a worker finished just before the crash
    # took the pool down is retried and then found already filled ("inputs unchanged")
    assert all(r.status in (FILLED, SKIPPED) for n, r in got.items() if n != "f03.xlsx")
    assert all((tmp_path / n).read_bytes() == b"ok" + MARK for n in got if n != "f03.xlsx")
    assert report.exit_code == 1


def test_plain_progress_and_report_lines(tmp_path):
    _files(tmp_path, {"a.xlsx": b"a", "b.xlsx": b"bad"})
    out = io.StringIO()
    report = run_batch([tmp_path, tmp_path / "nope.xlsx"], jobs=2, job=marker_job, progress=PlainProgress(out))
    lines = out.getvalue().splitlines()
    assert lines[0] == "reviewkit batch: 3 file(s)"
    assert len(lines) == 4 and all(line.startswith("[") for line in lines[1:])
    assert any("failed" in line and "cell C4" in line for line in lines)
    text = str(report)
    assert "3 file(s): 1 filled, 2 failed" in text
    assert "no such file" in text


def test_report_exit_codes():
    ok = BatchReport([FileResult("a", FILLED), FileResult("b", SKIPPED)])
    assert ok.exit_code == 0
    assert BatchReport([FileResult("a", FILLED), FileResult("b", FAILED, "x")]).exit_code == 1
    assert BatchReport([FileResult("a", CANCELLED)], interrupted=True).exit_code == 130


def test_jobs_must_be_positive(tmp_path):
    with pytest.raises(InputError, match="--jobs"):
        run_batch([tmp_path], jobs=0, job=marker_job)


SLOW_JOB = '''
import os, time
from pathlib import Path
from reviewkit.batch import FileResult

def slow_job(path, force=False):
    p = Path(path)
    data = p.read_bytes()
    time.sleep(0.6)
    tmp = p.with_name(".~" + p.name + ".tmp")
    tmp.write_bytes(data + b"-" + b"x" * 100000 + b"#done")
    os.replace(tmp, p)
    return FileResult(path, "filled")
'''

RUNNER = '''
import sys
sys.path.insert(0, {here!r})
from reviewkit.batch import run_batch, PlainProgress
from slowjob import slow_job

if __name__ == "__main__":
    report = run_batch([{folder!r}], jobs=2, job=slow_job, progress=PlainProgress(sys.stdout))
    print("REPORT")
    print(report)
    sys.exit(report.exit_code)
'''


@pytest.mark.slow
def test_ctrl_c_finishes_running_files_and_leaves_the_rest_untouched(tmp_path):
    folder = tmp_path / "dept"
    originals = {f"f{i:02}.xlsx": f"original {i}".encode() for i in range(12)}
    _files(folder, originals)
    (tmp_path / "slowjob.py").write_text(SLOW_JOB, encoding="utf-8")
    script = tmp_path / "run.py"
    script.write_text(RUNNER.format(here=str(tmp_path), folder=str(folder)), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the first file is done: the batch is running
        line = proc.stdout.readline()
        lines.append(line)
        if not line or line.startswith("[1/12]"):
            break
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C on a terminal does: the whole process group
    out, err = proc.communicate(timeout=60)
    out = "".join(lines) + out
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err
    report = out.split("REPORT\n", 1)[1]
    done = cancelled = 0
    for name, original in originals.items():
        data = (folder / name).read_bytes()
        if data == original:
            cancelled += 1
            assert f"cancelled  {folder / name}" in report
        else:  # complete, never half-written
            assert data == original + b"-" + b"x" * 100000 + b"#done"
            done += 1
            assert f"filled     {folder / name}" in report
    assert 1 <= done < 12 and cancelled >= 1
    assert "interrupted by Ctrl-C" in report
    assert not list(folder.glob(".~*")), "no temporary files left behind"


def test_missing_dask_names_the_extra(tmp_path, monkeypatch):
    _files(tmp_path, {"a.xlsx": b"a"})
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDependencyError, match=r"reviewkit-excel\[dask\]"):
        run_batch([tmp_path], job=marker_job, scheduler="tcp://127.0.0.1:1")
    assert (tmp_path / "a.xlsx").read_bytes() == b"a"


@pytest.mark.slow
def test_runs_on_a_local_dask_cluster_of_worker_processes(tmp_path):
    distributed = pytest.importorskip(
        "distributed", reason='dask.distributed is not installed (pip install "reviewkit-excel[dask]")')
    _files(tmp_path, {"a.xlsx": b"a", "b.xlsx": b"bad", "c.xlsx": b"c", "d.xlsx": b"boom"})
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        report = run_batch([tmp_path], job=marker_job, scheduler=cluster.scheduler_address)
        with distributed.Client(cluster) as client:
            worker_pids = set(client.run(os.getpid).values())
    got = {Path(r.path).name: r for r in report.results}
    assert {n: r.status for n, r in got.items()} == {"a.xlsx": FILLED, "b.xlsx": FAILED, "c.xlsx": FILLED,
                                                     "d.xlsx": FAILED}
    assert "ValueError" in got["d.xlsx"].reason
    ran_in = {int(got[n].reason.split()[1]) for n in ("a.xlsx", "c.xlsx")}
    assert ran_in <= worker_pids and os.getpid() not in ran_in
    assert report.workers == 2 and report.where == "Dask workers"
    assert (tmp_path / "a.xlsx").read_bytes() == b"a" + MARK
    assert report.exit_code == 1


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_rich_bar_and_table_on_a_terminal(tmp_path, monkeypatch):
    from rich.console import Console

    from reviewkit.batch import RichProgress, print_report

    monkeypatch.delenv("TERM", raising=False)
    _files(tmp_path, {"a.xlsx": b"a", "b.xlsx": b"bad"})
    bar = io.StringIO()
    report = run_batch([tmp_path], jobs=1, job=marker_job,
                       progress=RichProgress(Console(file=bar, force_terminal=True, width=100)))
    assert "2/2" in bar.getvalue() and "1 failed" in bar.getvalue()
    table = _Tty()
    print_report(report, table)
    text = table.getvalue()
    assert "\x1b[" in text  # coloured, a rich table
    import re

    flat = re.sub(r"\x1b\[[0-9;]*m|[\s│┃━─┡┩╇]", "", text)  # colours, folding and rules removed
    assert "a.xlsx" in flat and "cellC4" in flat and "1filled,1failed" in flat
    plain = io.StringIO()
    print_report(report, plain)
    assert "\x1b[" not in plain.getvalue() and plain.getvalue().splitlines()[0].startswith("filled  ")
