"""Never lose a user's work: every command that writes goes through one atomic write that refuses
an existing file without --force, a link, a lock file, a read-only file and a workbook saved by
someone else meanwhile, and turns every OS error into one line with nothing half-written."""
from __future__ import annotations

import errno
import os
import random
import shutil
import stat
import threading
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from builders import UNITS, write_master

from reviewkit.cli import main
from reviewkit.errors import ReviewkitError
from reviewkit.fill import fill_workbook
from reviewkit.ooxml import WorkbookEditor
from reviewkit.rollup import custom_properties
from reviewkit.split import split_workbook

CHANGED = "the workbook changed while reviewkit was working; nothing was written"


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("lost")
    master = write_master(base / "master.xlsx")
    split_workbook(master, base / "dept")
    return base


@pytest.fixture
def wb(made, tmp_path) -> Path:
    p = tmp_path / "review.xlsx"
    shutil.copyfile(made / "master.xlsx", p)
    return p


@pytest.fixture
def dept(made, tmp_path) -> Path:
    out = tmp_path / "dept"
    shutil.copytree(made / "dept", out)
    return out


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return res.exit_code, res.output


def one_line_error(code: int, out: str) -> str:
    lines = out.strip().splitlines()
    assert code == 2, out
    assert len(lines) == 1 and lines[0].startswith("reviewkit: "), out
    assert "Traceback" not in out
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".~*"))


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


# --- existing files, links, locks, read-only ----------------------------------------------
def test_fill_o_refuses_an_existing_file_without_force(wb, tmp_path):
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"the user's other work")
    line = one_line_error(*run("fill", wb, "-o", out))
    assert "out.xlsx" in line and "already exists" in line and "--force" in line
    assert out.read_bytes() == b"the user's other work"
    code, text = run("fill", wb, "-o", out, "--force")
    assert code == 0, text
    assert zipfile.ZipFile(out).testzip() is None


def test_fill_o_never_follows_a_link(wb, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    link = tmp_path / "link.xlsx"
    link.symlink_to(notes)
    line = one_line_error(*run("fill", wb, "-o", link))
    assert "link.xlsx" in line and "link" in line
    assert notes.read_text() == "keep me" and link.is_symlink()
    code, text = run("fill", wb, "-o", link, "--force")
    assert code == 0, text
    assert notes.read_text() == "keep me"  # the link was replaced, not its target
    assert not link.is_symlink() and zipfile.ZipFile(link).testzip() is None


def test_fill_o_into_a_missing_folder_is_one_line(wb, tmp_path):
    line = one_line_error(*run("fill", wb, "-o", tmp_path / "nope" / "out.xlsx"))
    assert "out.xlsx" in line and "folder does not exist" in line
    assert not (tmp_path / "nope").exists()


def test_unchanged_copy_does_not_claim_the_new_file_already_held_the_results(wb, tmp_path):
    fill_workbook(wb)
    out = tmp_path / "copy.xlsx"
    code, text = run("fill", wb, "-o", out)
    assert code == 0 and out.exists()
    assert f"{out} already holds" not in text
    assert f"unchanged: {wb} already holds" in text and str(out) in text


def _read_only(p: Path) -> None:
    os.chmod(p, 0o444)


@pytest.mark.parametrize("command", ["fill", "fill -o", "new", "split", "rollup", "batch", "demo"])
def test_every_writing_command_refuses_a_read_only_workbook(command, wb, dept, tmp_path):
    if command == "fill":
        target, args = wb, ["fill", wb]
    elif command == "fill -o":
        target = tmp_path / "out.xlsx"
        shutil.copyfile(wb, target)
        args = ["fill", wb, "-o", target, "--force"]
    elif command == "new":
        target = tmp_path / "new.xlsx"
        shutil.copyfile(wb, target)
        args = ["new", target, "--force"]
    elif command == "split":
        target = dept / "华东区.xlsx"
        args = ["split", wb, "-o", dept, "--force"]
    elif command == "rollup":
        target = tmp_path / "company.xlsx"
        shutil.copyfile(wb, target)
        args = ["rollup", dept, "-o", target, "--force"]
    elif command == "batch":
        target, args = dept / "华东区.xlsx", ["batch", dept / "华东区.xlsx", "--jobs", "1"]
    else:
        target = tmp_path / "demo" / "review-demo.xlsx"
        target.parent.mkdir()
        shutil.copyfile(wb, target)
        args = ["demo", target.parent, "--lang", "en"]
    _read_only(target)
    before = target.read_bytes()
    others = {p: p.read_bytes() for p in dept.iterdir()}
    code, out = run(*args)
    assert "read-only" in out and target.name in out, out
    if command == "batch":
        assert code == 1 and "failed" in out
    else:
        one_line_error(code, out)
    assert target.read_bytes() == before
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
    assert {p: p.read_bytes() for p in dept.iterdir()} == others  # split: all or nothing
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["fill", "fill -o", "new", "split", "rollup", "batch", "demo"])
def test_every_writing_command_honours_an_excel_lock_file(command, wb, dept, tmp_path):
    if command == "fill":
        target, args = wb, ["fill", wb]
    elif command == "fill -o":
        target, args = tmp_path / "out.xlsx", ["fill", wb, "-o", tmp_path / "out.xlsx", "--force"]
    elif command == "new":
        target, args = tmp_path / "new.xlsx", ["new", tmp_path / "new.xlsx", "--force"]
    elif command == "split":
        target, args = dept / "华南区.xlsx", ["split", wb, "-o", dept, "--force"]
    elif command == "rollup":
        target = tmp_path / "c.xlsx"
        shutil.copyfile(wb, target)
        args = ["rollup", dept, "-o", target, "--force"]
    elif command == "batch":
        target, args = dept / "华南区.xlsx", ["batch", dept / "华南区.xlsx", "--jobs", "1"]
    else:
        target = tmp_path / "demo" / "review-demo.xlsx"
        target.parent.mkdir()
        args = ["demo", target.parent, "--lang", "en"]
    target.with_name("~$" + target.name).write_bytes(b"owner")
    before = target.read_bytes() if target.exists() else None
    others = {p: p.read_bytes() for p in dept.iterdir()}
    code, out = run(*args)
    assert "lock file" in out and target.name in out, out
    if command == "batch":
        assert code == 1 and "failed" in out
    else:
        one_line_error(code, out)
    assert (target.read_bytes() if target.exists() else None) == before
    assert {p: p.read_bytes() for p in dept.iterdir()} == others
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["fill -o", "new", "split", "rollup"])
def test_new_files_get_the_users_normal_permissions(command, wb, dept, tmp_path):
    out = tmp_path / "made"
    out.mkdir()
    args = {"fill -o": ["fill", wb, "-o", out / "f.xlsx"], "new": ["new", out / "n.xlsx"],
            "split": ["split", wb, "-o", out / "units"], "rollup": ["rollup", dept, "-o", out / "c.xlsx"]}[command]
    old = os.umask(0o022)
    try:
        code, text = run(*args)
    finally:
        os.umask(old)
    assert code == 0, text
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o644}


def test_a_replaced_workbook_keeps_its_mode(wb):
    os.chmod(wb, 0o640)
    fill_workbook(wb)
    assert stat.S_IMODE(wb.stat().st_mode) == 0o640


# --- someone else saves meanwhile ---------------------------------------------------------
def _other_version(path: Path, tmp_path: Path) -> bytes:
    """``path`` as another program would save it: the same workbook with a property of its own."""
    other = tmp_path / "other-save.xlsx"
    with WorkbookEditor.open(path) as ed:
        ed.set_custom_property("saved_by", "the other program")
        ed.save(other)
    data = other.read_bytes()
    other.unlink()
    return data


def _save_as_other_program(path: Path, data: bytes) -> None:
    """What Excel, WPS and sync clients do: write a temporary file, rename it over the workbook."""
    tmp = path.with_name(f"other-{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def test_a_save_by_another_program_just_before_the_rename_is_not_lost(wb, tmp_path, monkeypatch):
    other = _other_version(wb, tmp_path)
    import reviewkit.files as files

    real_fsync = os.fsync
    calls = []

    def fsync_then_other_save(fd):  # the temporary file is complete; the rename is next
        real_fsync(fd)
        if not calls:
            calls.append(fd)
            _save_as_other_program(wb, other)

    monkeypatch.setattr(files.os, "fsync", fsync_then_other_save)
    with pytest.raises(ReviewkitError) as err:
        fill_workbook(wb)
    assert CHANGED in str(err.value) and "review.xlsx" in str(err.value)
    assert wb.read_bytes() == other
    assert leftovers(tmp_path) == []


def test_a_save_after_the_last_check_and_before_the_rename_is_swapped_back(wb, tmp_path, monkeypatch):
    """The last gap: another program saves after reviewkit's final look and before its rename
    (a busy machine can pause reviewkit right there). The atomic swap hands its save back."""
    import reviewkit.files as files

    if not files._exchange(*_two_files(tmp_path)):
        pytest.skip("this system or file system cannot swap two files atomically")
    other = _other_version(wb, tmp_path)
    real_unchanged = files.Source.unchanged

    def unchanged_then_other_save(self):
        ok = real_unchanged(self)
        _save_as_other_program(wb, other)  # lands in the gap
        return ok

    monkeypatch.setattr(files.Source, "unchanged", unchanged_then_other_save)
    with pytest.raises(ReviewkitError) as err:
        fill_workbook(wb)
    assert CHANGED in str(err.value)
    assert wb.read_bytes() == other
    assert leftovers(tmp_path) == []


def _two_files(folder: Path) -> tuple[Path, Path]:
    a, b = folder / "swap-a", folder / "swap-b"
    a.write_bytes(b"a")
    b.write_bytes(b"b")
    return a, b


def test_an_in_place_save_of_the_same_size_is_noticed(wb, tmp_path, monkeypatch):
    """A writer that rewrites the file in place, same size and (coarse) same time: the bytes differ."""
    import reviewkit.files as files

    real_fsync = os.fsync
    original = wb.read_bytes()
    changed = original[:-30] + bytes(b ^ 1 for b in original[-30:])
    st = wb.stat()

    def fsync_then_overwrite(fd):
        real_fsync(fd)
        if wb.read_bytes() == original:
            with open(wb, "r+b") as fh:
                fh.write(changed)
            os.utime(wb, ns=(st.st_atime_ns, st.st_mtime_ns))

    monkeypatch.setattr(files.os, "fsync", fsync_then_overwrite)
    with pytest.raises(ReviewkitError, match="changed while reviewkit was working"):
        fill_workbook(wb)
    assert wb.read_bytes() == changed


_WRITER = """
import os, sys, time
for line in sys.stdin:
    delay, src, dst = line.rstrip("\\n").split("\\t")
    data = open(src, "rb").read()
    time.sleep(float(delay))
    tmp = dst + ".other-program.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, dst)
    print("saved", flush=True)
"""


def test_race_with_a_second_writer_never_loses_its_save(made, tmp_path):
    """50 fills (more, up to 200, until one race was caught: a loaded machine shifts the timing),
    each with another program (another process) saving the workbook at a random moment during it:
    its save is never lost."""
    import subprocess
    import sys

    base = tmp_path / "base.xlsx"
    shutil.copyfile(made / "master.xlsx", base)
    other = tmp_path / "other.xlsx"
    other.write_bytes(_other_version(base, tmp_path))
    t0 = time.perf_counter()
    shutil.copyfile(base, tmp_path / "timing.xlsx")
    fill_workbook(tmp_path / "timing.xlsx")
    span = (time.perf_counter() - t0) * 1.3
    rng = random.Random(14)
    outcomes = {"refused": 0, "filled the other save": 0, "saved after the fill": 0}
    writer = subprocess.Popen([sys.executable, "-c", _WRITER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        for i in range(200):
            if i >= 50 and outcomes["refused"]:
                break
            p = tmp_path / f"race{i}.xlsx"
            shutil.copyfile(base, p)
            writer.stdin.write(f"{rng.uniform(0, span)}\t{other}\t{p}\n")
            writer.stdin.flush()
            try:
                fill_workbook(p)
                refused = False
            except ReviewkitError as exc:
                assert CHANGED in str(exc)
                refused = True
            assert writer.stdout.readline().strip() == "saved"
            # the other program's save survives: as it saved it, or filled (fill read that save)
            assert custom_properties(p).get("saved_by") == "the other program", f"trial {i}: the other save was lost"
            if refused:
                outcomes["refused"] += 1
            elif p.read_bytes() == other.read_bytes():
                outcomes["saved after the fill"] += 1
            else:
                outcomes["filled the other save"] += 1
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
    assert leftovers(tmp_path) == []
    assert outcomes["refused"] >= 1, outcomes  # the race was really run


# --- OS errors: one line, nothing half-written -------------------------------------------
class _FaultyOs:
    """``os`` for ``reviewkit.files``: records each write step (creating the temporary file, each
    write and the fsync of it, the rename or link into place) and raises ``OSError(err)`` at the
    ``at``-th call of step ``op``. The folder sync after the rename is not a step: by then the
    file is complete and in place."""

    STEPS = ("open", "write", "fsync", "replace", "link")

    def __init__(self):
        self.op, self.at, self.err = None, 0, errno.ENOSPC
        self.calls: list[str] = []
        self._tmp_fds: set[int] = set()

    def step(self, name: str) -> None:
        n = self.calls.count(name)
        self.calls.append(name)
        if name == self.op and n == self.at:
            raise OSError(self.err, os.strerror(self.err))

    def __getattr__(self, name):
        real = getattr(os, name)
        if name == "close":
            return lambda fd: (self._tmp_fds.discard(fd), real(fd))[1]
        if name not in self.STEPS:
            return real

        def call(*args, **kwargs):
            if name == "open" and not args[1] & os.O_CREAT:
                return real(*args, **kwargs)  # the folder, opened to sync it
            if name == "fsync" and args[0] not in self._tmp_fds:
                return real(*args, **kwargs)
            self.step(name)
            out = real(*args, **kwargs)
            if name == "open":
                self._tmp_fds.add(out)
            return out

        return call


def _scenario(command: str, wb: Path, dept: Path, tmp_path: Path):
    """(cli args, files that must stay byte-identical, paths that must not appear)."""
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    if command == "fill":
        return ["fill", wb], [wb], []
    if command == "fill -o":
        return ["fill", wb, "-o", out / "f.xlsx"], [wb], [out / "f.xlsx"]
    if command == "new":
        return ["new", out / "n.xlsx"], [], [out / "n.xlsx"]
    if command == "split":
        return ["split", wb, "-o", out / "units"], [wb], [out / "units"]
    return ["rollup", dept, "-o", out / "c.xlsx"], sorted(dept.iterdir()), [out / "c.xlsx"]


@pytest.mark.parametrize("command", ["fill", "fill -o", "new", "split", "rollup"])
def test_every_os_error_at_every_write_step_is_one_line_and_leaves_the_original(command, wb, dept, tmp_path,
                                                                               monkeypatch):
    import reviewkit.files as files
    from pathlib import Path as _P

    args, keep, absent = _scenario(command, wb, dept, tmp_path)
    snapshot = {p: p.read_bytes() for p in keep}
    recorder = _FaultyOs()
    monkeypatch.setattr(files, "os", recorder)
    real_mkdir = _P.mkdir

    def mkdir(self, *a, **k):  # split creates its folder through pathlib
        recorder.step("mkdir")
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(_P, "mkdir", mkdir)
    real_exchange = files._exchange

    def exchange(a, b):  # an in-place rewrite is swapped in (where the system can), not renamed
        recorder.step("exchange")
        return real_exchange(a, b)

    monkeypatch.setattr(files, "_exchange", exchange)
    # a clean run on a copy tells which write steps the command takes
    code, text = run(*args)
    assert code in (0, 1), text
    steps = list(recorder.calls)
    for p in absent:
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    for p, data in snapshot.items():
        p.write_bytes(data)
    wanted = sorted({(op, i) for op in set(steps) for i in (0, steps.count(op) - 1)
                     if op in ("open", "write", "fsync", "replace", "link", "mkdir", "exchange")})
    assert wanted, steps
    for err in (errno.ENOSPC, errno.EACCES, errno.EROFS):
        for op, i in wanted:
            recorder.op, recorder.at, recorder.err, recorder.calls = op, i, err, []
            code, text = run(*args)
            assert code == 2, (op, i, steps, recorder.calls, text)
            line = one_line_error(code, text)
            assert {errno.ENOSPC: "disk is full", errno.EACCES: "permission denied",
                    errno.EROFS: "read-only"}[err] in line, (op, i, line)
            assert ".~" not in line and "rollup-" not in line  # never a temporary file's name
            for p, data in snapshot.items():
                assert p.read_bytes() == data, (op, i, p)
            for p in absent:
                assert not p.exists(), (op, i, p)
            assert leftovers(tmp_path) == [], (op, i)


def test_split_into_a_read_only_folder_is_one_line(wb, tmp_path, monkeypatch):
    from pathlib import Path as _P

    def no_mkdir(self, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(_P, "mkdir", no_mkdir)
    line = one_line_error(*run("split", wb, "-o", tmp_path / "units"))
    assert "permission denied" in line and "units" in line


# --- one-line messages --------------------------------------------------------------------
def test_a_newline_in_a_file_name_keeps_the_error_on_one_line(tmp_path):
    bad = tmp_path / "bad\nname.xlsx"
    bad.write_bytes(b"not a workbook")
    line = one_line_error(*run("fill", bad))
    assert "bad\\nname.xlsx" in line


def test_check_a_folder_checks_the_workbooks_in_it(made, tmp_path):
    folder = tmp_path / "d"
    shutil.copytree(made / "dept", folder)
    code, out = run("check", folder)
    assert code == 0, out
    assert f"ok: {len(UNITS)} file(s) checked" in out
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04 broken")
    code, out = run("check", folder)
    assert code == 1 and "broken.xlsx" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out = run("check", empty)
    assert code == 1 and "no .xlsx/.xlsm workbook" in out


# --- rollup -------------------------------------------------------------------------------
def test_rollup_expected_list_that_is_a_binary_file(dept, tmp_path):
    binary = tmp_path / "units.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00binary")
    line = one_line_error(*run("rollup", dept, "-o", tmp_path / "c.xlsx", "--expected", binary))
    assert "units.bin" in line and "UTF-8 text" in line
    assert not (tmp_path / "c.xlsx").exists()


def test_rollup_of_scorecard_only_departments(tmp_path):
    from builders import master_review

    from reviewkit.reading import read_review
    from reviewkit.templates import build_workbook

    review = master_review()
    review.tables["Facts"] = review.tables["Facts"].iloc[0:0]
    master = build_workbook(tmp_path / "m.xlsx", review, lang="zh")
    split_workbook(master, tmp_path / "dept")
    code, out = run("rollup", tmp_path / "dept", "-o", tmp_path / "company.xlsx")
    assert code == 0, out
    assert f"已汇总 {len(UNITS)} 个文件中的 {len(UNITS)} 个" in out  # a zh rollup reports in Chinese
    assert ".~" not in out and "rollup-" not in out
    company = read_review(tmp_path / "company.xlsx")
    assert len(company.scorecard) == len(review.tables["Scorecard"])
    assert company.facts.empty


def test_an_earlier_rollup_among_the_departments_is_refused_and_counted(dept, tmp_path):
    code, _ = run("rollup", dept, "-o", dept / "company.xlsx")
    assert code == 0
    code, out = run("rollup", dept, "-o", tmp_path / "c2.xlsx")
    assert code == 1, out
    assert f"已汇总 {len(UNITS) + 1} 个文件中的 {len(UNITS)} 个" in out  # a zh rollup reports in Chinese
    assert "未汇总 company.xlsx" in out


def test_a_duplicate_department_is_refused_and_counted(dept, tmp_path):
    shutil.copyfile(dept / "华东区.xlsx", dept / "华东区 (2).xlsx")
    code, out = run("rollup", dept, "-o", tmp_path / "c.xlsx")
    assert code == 1, out
    assert f"已汇总 {len(UNITS) + 1} 个文件中的 {len(UNITS)} 个" in out  # a zh rollup reports in Chinese
    assert out.count("未汇总 华东区") == 1 and "”已由 华东区" in out
