"""Fill many workbooks in parallel: a process pool by default, a Dask cluster on request.

``run_batch`` expands folders to their .xlsx/.xlsm files, runs a *job* (``fill_job`` unless told
otherwise) on each in worker processes, and returns a ``BatchReport`` with one ``FileResult`` per
file: ``filled``, ``unchanged`` (filled, nothing to change), ``skipped`` (inputs unchanged since
the last fill), ``failed`` (with a one-line reason) or ``cancelled`` (Ctrl-C before it started;
the file is untouched). One bad file never stops the others.

Ctrl-C: workers ignore SIGINT, so a file being filled is finished and written atomically; files not
yet started are cancelled and left as they were. A second Ctrl-C stops the workers at once — still
safe, because fill writes to a temporary file and renames it only when complete.

A job is any importable function ``job(path: str, force: bool) -> FileResult``; it must be
picklable by reference (defined at module level) so worker processes and Dask workers can run it.
"""
from __future__ import annotations

import gc
import inspect
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError, MissingDependencyError, ReviewkitError
from .progress import PlainProgress, RichProgress, _NoProgress, auto_progress  # noqa: F401 (re-exported)

FILLED, UNCHANGED, SKIPPED, FAILED, CANCELLED = "filled", "unchanged", "skipped", "failed", "cancelled"
STATUSES = (FILLED, UNCHANGED, SKIPPED, FAILED, CANCELLED)
SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class FileResult:
    """What happened to one file. ``reason`` is one line: why it failed, or what fill did."""

    path: str
    status: str
    reason: str = ""
    seconds: float = 0.0


@dataclass
class BatchReport:
    results: list[FileResult] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    workers: int = 1
    where: str = "local processes"

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def by_status(self, status: str) -> list[FileResult]:
        return [r for r in self.results if r.status == status]

    @property
    def failed(self) -> list[FileResult]:
        return self.by_status(FAILED)

    @property
    def exit_code(self) -> int:
        """0 when every file is done; 1 when any failed; 130 when stopped by Ctrl-C."""
        if self.interrupted:
            return 130
        return 1 if self.failed else 0

    def summary(self) -> str:
        c = self.counts()
        parts = [f"{c[s]} {s}" for s in STATUSES if c[s]]
        rate = len([r for r in self.results if r.status != CANCELLED]) / self.seconds if self.seconds else 0.0
        head = f"{len(self.results)} file(s): " + (", ".join(parts) or "nothing to do")
        tail = f" in {self.seconds:.1f} s ({rate:.1f} files/s, {self.workers} {self.where})"
        return head + tail + (" — interrupted by Ctrl-C" if self.interrupted else "")

    def lines(self) -> list[str]:
        """The per-file table as plain text lines (for logs and CI)."""
        width = max([len(r.status) for r in self.results] + [6])
        return [f"{r.status:<{width}}  {r.path}" + (f"  — {r.reason}" if r.reason else "")
                for r in self.results]

    def __str__(self) -> str:
        return "\n".join([*self.lines(), self.summary()])


# --- finding the files --------------------------------------------------------------
def find_workbooks(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[FileResult]]:
    """Expand folders (recursively) to their .xlsx/.xlsm files, in a stable order.

    Skips Excel's ``~$`` lock files and hidden files (our ``.~…tmp`` temporaries among them). A path that does not
    exist or is not a workbook is returned as a ``failed`` result rather than stopping the batch.
    """
    found: list[Path] = []
    bad: list[FileResult] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            found.append(p)

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*"), key=lambda x: str(x)):
                if (f.is_file() and f.suffix.lower() in SUFFIXES
                        and not f.name.startswith(("~$", "."))):  # lock files, temporaries
                    add(f)
        elif p.is_file():
            if p.suffix.lower() in SUFFIXES:
                add(p)
            else:
                bad.append(FileResult(str(p), FAILED, f"not an .xlsx/.xlsm workbook (suffix {p.suffix or 'none'})"))
        else:
            bad.append(FileResult(str(p), FAILED, "no such file or folder"))
    return found, bad


# --- jobs ---------------------------------------------------------------------------
def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    msg = text[0] if text else ""
    if not isinstance(exc, ReviewkitError):
        msg = f"internal error {type(exc).__name__}: {msg}"
    return msg[:300]


def fill_job(path: str, force: bool = False) -> FileResult:
    """Fill one workbook in place: the file is opened once (``Package.open``), checked
    (``safety.check``), then ``fill_if_stale`` reads, fills and saves that same package."""
    t0 = time.perf_counter()
    try:
        from .fill import fill_if_stale
        from .ooxml.package import Package
        from .safety import check

        pkg = Package.open(path)
        check(pkg)
        result = fill_if_stale(pkg, force=force)
        if result is None:
            return FileResult(path, SKIPPED, "inputs unchanged since the last fill (use --force to refill)",
                              time.perf_counter() - t0)
        status = _fill_status(result)
        return FileResult(path, status, _fill_reason(result), time.perf_counter() - t0)
    except Exception as exc:  # one bad file never stops the batch; ReviewkitError says what and where
        return FileResult(path, FAILED, _one_line(exc), time.perf_counter() - t0)


def _fill_status(result: object) -> str:
    status = getattr(result, "status", None)
    if status in (FILLED, UNCHANGED):
        return status
    changed = getattr(result, "changed", None)
    if changed is not None:
        return FILLED if changed else UNCHANGED
    return FILLED


def _fill_reason(result: object) -> str:
    text = str(result).strip().splitlines()
    return text[0][:200] if text else ""


def check_job(path: str, force: bool = False) -> FileResult:
    """Read and validate one workbook without writing anything (``status`` is unchanged/failed)."""
    t0 = time.perf_counter()
    try:
        from .ooxml.package import Package
        from .reading import read_review
        from .safety import check

        pkg = Package.open(path)
        check(pkg)
        read_review(pkg)  # every error found raises one ValidationError, said on one line
        return FileResult(path, UNCHANGED, "valid", time.perf_counter() - t0)
    except Exception as exc:
        return FileResult(path, FAILED, _one_line(exc), time.perf_counter() - t0)


# --- the runner ---------------------------------------------------------------------
def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def run_batch(paths: Iterable[str | os.PathLike], *, jobs: int | None = None, force: bool = False,
              job: Callable[[str, bool], FileResult] = fill_job, progress=None,
              scheduler: object | None = None) -> BatchReport:
    """Run ``job`` on every workbook under ``paths``; never stop at a bad file.

    ``jobs``: worker processes (default: the CPUs this process may use; 1 runs in-process).
    ``force``: refill files whose inputs have not changed. ``progress``: an object with
    ``start(total)``, ``advance(result)``, ``message(text)``, ``close()`` (``PlainProgress``,
    ``RichProgress`` or ``auto_progress()``); None for silence. ``scheduler``: a Dask
    scheduler address (``tcp://host:8786``) or a ``distributed.Client`` to run the same tasks
    on a cluster whose workers see the same file paths (needs ``reviewkit-excel[dask]``).
    Results come back in the order of the input files.
    """
    if jobs is not None and jobs < 1:
        raise InputError("--jobs must be at least 1", value=jobs, expected="a positive number of processes")
    t0 = time.perf_counter()
    files, bad = find_workbooks(paths)
    prog = progress or _NoProgress()
    order = {str(p): i for i, p in enumerate(files)}
    results: dict[str, FileResult] = {}
    prog.start(len(files) + len(bad))
    for r in bad:
        prog.advance(r)
    interrupted = False
    workers, where = 1, "process"
    try:
        if scheduler is not None:
            workers, where = _run_dask(files, scheduler, job, force, prog, results)
        else:
            workers = min(jobs or default_jobs(), max(1, len(files)))
            where = "process" if workers == 1 else "processes"
            if workers == 1:
                interrupted = _run_inline(files, job, force, prog, results)
            else:
                interrupted = _run_pool(files, workers, job, force, prog, results)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        prog.close()
    for p in files:
        if str(p) not in results:
            results[str(p)] = FileResult(str(p), CANCELLED, "stopped by Ctrl-C before it started; file untouched")
    ordered = sorted(results.values(), key=lambda r: order.get(r.path, -1))
    return BatchReport(results=bad + ordered, interrupted=bool(interrupted),
                       seconds=time.perf_counter() - t0, workers=workers, where=where)


def _run_inline(files, job, force, prog, results) -> bool:
    for p in files:
        try:
            r = job(str(p), force)
        except KeyboardInterrupt:
            results[str(p)] = FileResult(str(p), CANCELLED, "stopped by Ctrl-C while running; file untouched")
            return True
        except Exception as exc:
            r = FileResult(str(p), FAILED, _one_line(exc))
        results[str(p)] = r
        prog.advance(r)
    return False


#: how often a worker looks whether the batch process is still there (seconds)
PARENT_CHECK_SECONDS = 0.5


def watch_parent(pid: int) -> None:
    """End this process when process ``pid`` (the batch run) is gone, e.g. killed with kill -9.

    Workers are children of the fork server, not of the batch process, and block on a queue the
    dead parent will never feed: without this they, the fork server and the resource tracker
    would run on. A daemon thread polls every ``PARENT_CHECK_SECONDS``; leaving mid-file is safe
    (fill writes to a temporary file and renames it only when complete).
    """
    import threading

    def watch() -> None:
        while _alive(pid):
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="reviewkit-parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    try:  # a killed parent its own parent has not reaped yet is a zombie: gone all the same
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


#: a worker's first garbage-collection threshold (Python's default is 700); see _worker_init
_WORKER_GC_THRESHOLD = 10_000


def _worker_init(modules: tuple[str, ...], parent: int | None = None) -> None:
    # Ctrl-C reaches the whole process group; the parent decides, workers finish their file.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        watch_parent(parent)
    for m in modules:
        try:
            __import__(m)
        except Exception:  # a missing optional module only costs start-up time later
            pass
    # A worker fills file after file with the same modules loaded. Freezing what exists now (the
    # imported modules: ~60,000 objects) keeps the cycle collector from scanning it again and
    # again, and a higher first threshold lets a file's short-lived objects be freed by reference
    # counting before a collection looks at them: a fill's collections cost ~2 ms with Python's
    # defaults and ~0.4 ms with these, for a few MB more between collections.
    gc.freeze()
    gc.set_threshold(_WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])


def _mp_context(preload: tuple[str, ...]):
    methods = multiprocessing.get_all_start_methods()
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file and not os.path.exists(main_file) and "fork" in methods:
        # `python - < script`: spawn and forkserver would try to re-run a main file that does
        # not exist; fork copies this process instead.
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        # A fork server imports pandas and the job's module once; workers fork from it cheaply,
        # and nothing forks the parent's threads (the progress bar).
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(preload))
        return ctx
    return multiprocessing.get_context("spawn")


_WARM = ("pandas", "numpy", "lxml.etree", "reviewkit.safety")


def _warm_modules(job) -> tuple[str, ...]:
    mods = list(_WARM)
    if inspect.unwrap(job) is fill_job:  # fill_job itself, or a wrapper saying so with __wrapped__
        # fill imports these lazily; preloading them in the fork server saves every worker ~120 ms
        mods += ["reviewkit.fill", "reviewkit.analysis", "reviewkit.planning",
                 "reviewkit.reading.read", "python_calamine"]
    elif job is check_job:
        mods.append("reviewkit.reading.read")
    mod = getattr(job, "__module__", None)
    if mod and mod != "__main__":
        mods.append(mod)
    return tuple(mods)


_BROKEN = object()


class _StopFlag:
    """First Ctrl-C sets ``requested`` (the loop stops submitting); a second one raises.

    A flag rather than KeyboardInterrupt, so the signal cannot land between submitting a file to
    the pool and recording that it was submitted.
    """

    def __init__(self):
        self.requested = False
        self._old = None

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        try:
            self._old = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: Ctrl-C is the caller's business
            self._old = None
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


def _collect(done, inflight, suspects, solo, results, prog):
    """Record finished futures; on a dead pool queue its files as suspects, return _BROKEN."""
    broken = False
    for fut in done:
        path = inflight.pop(fut)
        try:
            r = fut.result()
        except BrokenProcessPool:
            broken = True
            if path == solo:
                r = FileResult(path, FAILED, "the worker process died while handling this file "
                                             "(out of memory or a crash in a library)")
            else:
                suspects.append(path)
                continue
        except Exception as exc:
            r = FileResult(path, FAILED, _one_line(exc))
        if not isinstance(r, FileResult):
            r = FileResult(path, FAILED, f"internal error: the job returned {type(r).__name__}")
        if path == solo:
            solo = None
        results[path] = r
        prog.advance(r)
    if broken:
        for fut, path in list(inflight.items()):  # all of them are lost with the pool
            inflight.pop(fut)
            if path != solo:
                suspects.append(path)
        return _BROKEN
    return solo


def _new_pool(workers, modules):
    return ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(modules),
                               initializer=_worker_init, initargs=(modules, os.getpid()))


def _run_pool(files, workers, job, force, prog, results) -> bool:
    """Bounded submission (2 per worker), so Ctrl-C leaves little queued work to wait for.

    If a worker dies (a crash in a library, out of memory) the pool is lost with every file in
    flight; those files are retried one at a time in a fresh pool, so only the culprit fails.
    """
    modules = _warm_modules(job)
    queue = deque(str(p) for p in files)
    suspects: deque[str] = deque()
    solo: str | None = None  # a suspect running alone
    interrupted = False
    ex = _new_pool(workers, modules)
    inflight: dict[Future, str] = {}
    stop = _StopFlag()
    try:
        with stop:
            while queue or inflight or suspects:
                if stop.requested and not interrupted:
                    interrupted = True
                    queue.clear()
                    suspects.clear()
                    for fut in list(inflight):
                        if fut.cancel():
                            inflight.pop(fut)
                    prog.message(f"Ctrl-C: finishing {len(inflight)} file(s) being filled; "
                                 "the rest are left untouched (Ctrl-C again to stop now)")
                if not interrupted:
                    if suspects:
                        if not inflight:
                            solo = suspects.popleft()
                            inflight[ex.submit(job, solo, force)] = solo
                    else:
                        while queue and len(inflight) < 2 * workers:
                            path = queue.popleft()
                            inflight[ex.submit(job, path, force)] = path
                elif not inflight:
                    break
                done, _ = wait(list(inflight), timeout=0.2, return_when=FIRST_COMPLETED)
                solo = _collect(done, inflight, suspects, solo, results, prog)
                if solo is _BROKEN:
                    solo = None
                    ex.shutdown(wait=False, cancel_futures=True)
                    ex = _new_pool(workers, modules)
    except KeyboardInterrupt:
        for p in list((getattr(ex, "_processes", None) or {}).values()):
            try:
                p.terminate()
            except Exception:  # pragma: no cover
                pass
        for path in inflight.values():
            results.setdefault(path, FileResult(path, CANCELLED, "stopped by a second Ctrl-C while running "
                                                                 "(written atomically: complete or untouched)"))
        ex.shutdown(wait=False, cancel_futures=True)
        return True
    ex.shutdown(wait=True)
    return interrupted


def _run_dask(files, scheduler, job, force, prog, results) -> tuple[int, str]:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise MissingDependencyError("running on a Dask cluster needs dask.distributed",
                                     value=str(scheduler),
                                     expected='pip install "reviewkit-excel[dask]"') from exc
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, set_as_default=False, timeout="10s") if own else scheduler
    except (OSError, TimeoutError) as exc:
        raise MissingDependencyError(f"cannot reach the Dask scheduler ({exc})", value=str(scheduler),
                                     expected="a running scheduler, e.g. tcp://host:8786") from exc
    try:
        paths = [str(p) for p in files]
        workers = max(1, len(client.nthreads()))
        futures = client.map(job, paths, [force] * len(paths), pure=False)
        by_key = {f.key: p for f, p in zip(futures, paths)}
        try:
            for fut in as_completed(futures, loop=client.loop):
                path = by_key[fut.key]
                try:
                    r = fut.result()
                except Exception as exc:
                    r = FileResult(path, FAILED, _one_line(exc))
                results[path] = r
                prog.advance(r)
        except KeyboardInterrupt:
            left = [f for f in futures if not f.done()]
            client.cancel(left)
            for f in left:  # a task already running on a worker may still finish (atomic write)
                results[by_key[f.key]] = FileResult(by_key[f.key], CANCELLED,
                                                    "stopped by Ctrl-C; not started or still running on the "
                                                    "cluster (written atomically, so complete or untouched)")
            raise
        return workers, "Dask workers"
    finally:
        if own:
            client.close()


def print_report(report: BatchReport, stream=None) -> None:
    """The per-file result table: a rich table on a terminal, plain lines otherwise."""
    s = stream or sys.stdout
    if hasattr(s, "isatty") and s.isatty() and os.environ.get("TERM") != "dumb":
        from rich.console import Console
        from rich.table import Table

        colours = {FILLED: "green", UNCHANGED: "cyan", SKIPPED: "dim", FAILED: "bold red", CANCELLED: "yellow"}
        table = Table(show_edge=False, header_style="bold")
        for name in ("status", "file", "seconds", "reason"):
            table.add_column(name, overflow="fold", justify="right" if name == "seconds" else "left")
        from rich.text import Text

        for r in report.results:  # Text, not markup: a reason may contain "[...]"
            table.add_row(Text(r.status, style=colours.get(r.status, "")), Text(r.path), f"{r.seconds:.2f}",
                          Text(r.reason))
        console = Console(file=s)
        console.print(table)
        console.print(Text(report.summary()))
    else:
        print(str(report), file=s, flush=True)
