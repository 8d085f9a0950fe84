"""Every file reviewkit writes goes through ``write_file``: one atomic write, one set of checks.

``write_file(target, data, ...)`` writes ``data`` to a temporary file beside ``target``, fsyncs it
and renames it over ``target`` only when every check passed:

- an existing ``target`` (or a link) is replaced only with ``replace=True`` (``--force``); a
  link is then replaced itself, never followed to overwrite the file it points at;
- Excel's ``~$`` lock file beside ``target`` and a read-only target are always refused;
- with ``source`` (a ``Source``: what a command read before rewriting that file in place), the
  file must still be byte-for-byte what was read, checked right before the rename, else
  "the workbook changed while reviewkit was working; nothing was written". Where the system
  can swap two files atomically (Linux ``renameat2(RENAME_EXCHANGE)``), the rename itself is
  checked too: the file swapped out must be the one read, else the other program's save is
  swapped back, so a save landing between the last check and the rename is not lost either;
- a new file gets the user's normal permissions (the umask); a replaced one keeps its mode;
- any OS error (disk full, permission, read-only disk, missing folder) becomes one
  ``ReviewkitError`` naming the path and what to do, and the temporary file is removed.
"""
from __future__ import annotations

import ctypes
import errno
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import ReviewkitError, WorkbookLockedError

CHANGED = "the workbook changed while reviewkit was working; nothing was written"

_ADVICE = {
    errno.ENOSPC: ("the disk is full", "free some space on the disk, then run the command again"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space, then run the command again"),
    errno.EACCES: ("permission denied", "a folder and file you may write (is the file open in another program?)"),
    errno.EPERM: ("operation not permitted", "a folder and file you may write (is the file open in another program?)"),
    errno.EROFS: ("the disk is read-only", "a folder on a writable disk"),
    errno.ENOENT: ("the folder does not exist", "an existing folder (create it first)"),
    errno.ENOTDIR: ("the folder does not exist", "an existing folder (create it first)"),
    errno.EISDIR: ("the path is a folder", "a file name"),
    errno.ENAMETOOLONG: ("the file name is too long", "a shorter file name"),
}


def os_error(exc: OSError, path: str | os.PathLike, doing: str = "cannot write the workbook") -> ReviewkitError:
    """The one-line ``ReviewkitError`` for an OS error while working on ``path``."""
    what, todo = _ADVICE.get(exc.errno, (exc.strerror or str(exc), "a writable folder with free space"))
    if exc.errno == errno.ENOENT and Path(path).parent.is_dir():
        what, todo = "the file does not exist", "an existing file"
    cls = WorkbookLockedError if exc.errno in (errno.EACCES, errno.EPERM) else ReviewkitError
    return cls(f"{doing}: {what}", file=path, expected=todo)


def lock_file_for(path: Path) -> Path | None:
    """Excel's owner file beside ``path`` (``~$name``; Excel drops two characters of long names)."""
    path = Path(path)
    for name in ("~$" + path.name, "~$" + path.name[2:]):
        candidate = path.with_name(name)
        if len(path.name) > 2 and candidate.exists():
            return candidate
    return None


@dataclass
class Source:
    """A file as a command read it: its bytes and what ``os.stat`` said about it."""

    path: Path
    data: bytes
    size: int
    mtime_ns: int
    ino: int

    @classmethod
    def read(cls, path: str | os.PathLike) -> Source:
        """Read ``path`` once; refuses (``CHANGED``) when it changes while being read."""
        path = Path(path)
        try:
            with open(path, "rb") as fh:
                before = os.fstat(fh.fileno())
                data = fh.read()
                after = os.fstat(fh.fileno())
        except OSError as exc:
            raise os_error(exc, path, "cannot read the file") from None
        if _key(before) != _key(after) or len(data) != after.st_size:
            raise ReviewkitError(CHANGED, file=path, expected="run the command again once the file is saved")
        return cls(path, data, after.st_size, after.st_mtime_ns, after.st_ino)

    @classmethod
    def of(cls, path: str | os.PathLike, data: bytes) -> Source:
        """``data`` just read from ``path`` by someone else; the stat is taken now (a later save than
        ``data`` then shows as a change at the final check, never the other way round)."""
        path = Path(path)
        try:
            st = os.stat(path)
        except OSError as exc:
            raise os_error(exc, path, "cannot read the file") from None
        return cls(path, data, st.st_size, st.st_mtime_ns, st.st_ino)

    def unchanged(self) -> bool:
        """True when ``path`` still holds exactly ``data`` (same inode, size, time and bytes)."""
        try:
            with open(self.path, "rb") as fh:
                st = os.fstat(fh.fileno())
                if (st.st_size, st.st_mtime_ns, st.st_ino) != (self.size, self.mtime_ns, self.ino):
                    return False
                same = fh.read(self.size + 1) == self.data
            # the last look, right before the caller's rename: nothing saved since the read
            return same and _key(os.stat(self.path)) == (self.size, self.mtime_ns, self.ino)
        except OSError:
            return False


def _key(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ino


def check_target(target: str | os.PathLike, *, replace: bool, source: Source | None = None) -> Path:
    """Refuse ``target`` before any work is done (the same checks ``write_file`` repeats)."""
    target = Path(target)
    in_place = _in_place(source, target)
    final = target.resolve() if in_place else target
    folder = final.parent
    if not folder.is_dir():
        if folder.exists():
            raise ReviewkitError("cannot write the workbook: the folder is a file", file=target, value=str(folder),
                                 expected="a folder")
        raise ReviewkitError("cannot write the workbook: the folder does not exist", file=target, value=str(folder),
                             expected="an existing folder (create it first)")
    try:
        st = os.lstat(final)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise os_error(exc, target) from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise ReviewkitError("the path is a folder", file=target, expected="a file name")
        if stat.S_ISLNK(st.st_mode) and not replace:
            raise ReviewkitError("the path is a link to another file", file=target, value=os.readlink(final),
                                 expected="a new file name, or --force to replace the link itself")
        if not in_place and not replace:
            raise ReviewkitError("the file already exists", file=target,
                                 expected="a new file name, or --force to overwrite")
        if not stat.S_ISLNK(st.st_mode) and not st.st_mode & stat.S_IWUSR:
            raise ReviewkitError("the file is read-only", file=target,
                                 expected="clear its read-only flag first, or write to another file")
    lock = lock_file_for(final)
    if lock is not None:
        raise WorkbookLockedError(f"the workbook is open in Excel (lock file {lock.name} is beside it)",
                                  file=target, expected="the workbook closed in Excel first")
    return final


def _in_place(source: Source | None, target: Path) -> bool:
    """``target`` rewrites the file ``source`` was read from: the same name, or another name of
    the same file that is not a link (a link given as an output is replaced, never followed)."""
    if source is None:
        return False
    if source.path == target:
        return True
    try:
        return not target.is_symlink() and os.path.samefile(source.path, target)
    except OSError:
        return False


def write_file(target: str | os.PathLike, data: bytes, *, replace: bool = False,
               source: Source | None = None) -> Path:
    """Write ``data`` to ``target`` atomically after the checks in the module docstring.

    ``source``: the file as read, when ``target`` rewrites it in place (a link to it is then
    followed, so the link keeps pointing at the rewritten file). Returns ``target``.
    """
    target = Path(target)
    final = check_target(target, replace=replace, source=source)
    in_place = _in_place(source, target)
    directory = final.parent
    tmp = directory / f".~{final.stem[:40]}.{secrets.token_hex(4)}.tmp"
    try:
        try:
            old_mode = stat.S_IMODE(os.stat(final).st_mode) if in_place or not final.is_symlink() else None
        except FileNotFoundError:
            old_mode = None
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)  # umask applies
        try:
            if old_mode is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, old_mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if source is not None and not source.unchanged():
            raise ReviewkitError(CHANGED, file=source.path, expected="run the command again on the saved workbook")
        if in_place:
            _swap_in(tmp, final, source)
        elif replace:
            os.replace(tmp, final)
        else:  # a new file: linking fails if another program created it meanwhile; never clobber it
            try:
                os.link(tmp, final)
            except FileExistsError:
                raise ReviewkitError("the file already exists", file=target,
                                     expected="a new file name, or --force to overwrite") from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                    raise
                os.replace(tmp, final)  # no hard links on this file system
            _remove(tmp)
    except OSError as exc:
        _remove(tmp)
        raise os_error(exc, target) from None
    except BaseException:
        _remove(tmp)
        raise
    _sync_dir(directory)
    return target


def make_dir(path: str | os.PathLike) -> bool:
    """Create the folder ``path`` (and its parents); True when this call created it."""
    path = Path(path)
    if path.is_dir():
        return False
    if path.exists():
        raise ReviewkitError("the output folder is a file", file=path, expected="a folder")
    try:
        path.mkdir(parents=True)
    except FileExistsError:
        return False
    except OSError as exc:
        raise os_error(exc, path, "cannot create the folder") from None
    return True


def _swap_in(tmp: Path, final: Path, source: Source) -> None:
    """Put ``tmp`` in place of ``final``, which must still be the file ``source`` read.

    ``Source.unchanged`` was checked just before; a save by another program can still land
    between that check and the rename (a busy machine may pause reviewkit right there). An
    atomic swap closes that gap: what it swaps out is compared with what was read, and a
    newer save is swapped back before refusing. Without a swap call, a plain rename.
    """
    if not _exchange(tmp, final):
        os.replace(tmp, final)
        return
    if _key(os.stat(tmp)) == (source.size, source.mtime_ns, source.ino):
        _remove(tmp)  # the file as read: replaced, as intended
        return
    _exchange(tmp, final)  # another program saved meanwhile: its save goes back in place
    raise ReviewkitError(CHANGED, file=source.path, expected="run the command again on the saved workbook")


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2 = None  # libc's renameat2, looked up on first use; False where there is none


def _exchange(a: Path, b: Path) -> bool:
    """Swap files ``a`` and ``b`` atomically; False where the system or file system cannot."""
    global _renameat2
    if _renameat2 is None:
        _renameat2 = False
        if os.name == "posix" and os.uname().sysname == "Linux":
            try:
                _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
            except (OSError, AttributeError):  # a libc older than glibc 2.28
                pass
    if not _renameat2:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):  # not on this kernel or disk
        return False
    raise OSError(err, os.strerror(err), str(b))


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _sync_dir(directory: Path) -> None:
    """Make the rename itself durable where the platform allows it."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
