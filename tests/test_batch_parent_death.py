"""kill -9 of the batch parent: its fork server, workers and resource tracker exit too."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from reviewkit.batch import FILLED, FileResult

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc (Linux)")


def slow_job(path: str, force: bool = False) -> FileResult:
    """Say it started (a file beside it), then take far longer than the test waits."""
    Path(path + ".started").write_text(str(os.getpid()))
    time.sleep(120)
    return FileResult(path, FILLED)


def _marked(mark: str) -> list[int]:
    """Processes whose environment carries ``mark`` (the batch run and everything it started)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            env = (d / "environ").read_bytes()
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if mark.encode() in env and state != "Z":
            pids.append(int(d.name))
    return pids


_SCRIPT = textwrap.dedent("""
    import sys
    sys.path[:0] = [{src!r}, {tests!r}]
    from reviewkit.batch import run_batch
    from test_batch_parent_death import slow_job
    run_batch({files!r}, jobs=2, job=slow_job)
""")


def test_kill_9_of_the_parent_leaves_no_process_behind(tmp_path):
    files = []
    for i in range(6):
        f = tmp_path / f"f{i}.xlsx"
        f.write_bytes(b"x")
        files.append(str(f))
    mark = f"REVIEWKIT_TEST_RUN_{uuid.uuid4().hex}"
    env = dict(os.environ, **{mark: "1"})
    script = _SCRIPT.format(src=str(REPO / "src"), tests=str(REPO / "tests"), files=files)
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    survivors: list[int] = []
    try:
        deadline = time.time() + 60
        while len(list(tmp_path.glob("*.started"))) < 2 and time.time() < deadline:
            time.sleep(0.1)
        assert len(list(tmp_path.glob("*.started"))) == 2, "the workers never started"
        children = [p for p in _marked(mark) if p != proc.pid]
        assert len(children) >= 3  # fork server, two workers (and the resource tracker)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.time() + 10
        while time.time() < deadline:
            survivors = _marked(mark)
            if not survivors:
                break
            time.sleep(0.2)
        assert survivors == [], f"still running after the parent was killed: {survivors}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _marked(mark):  # only the processes this test started
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
