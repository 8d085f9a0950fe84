"""What the Refresh button runs: recompute the review inside the workbook open in Excel.

The button's macro (``macros/Reviewkit.bas``) calls, through xlwings' ``RunPython``::

    import reviewkit.button; reviewkit.button.refresh()

:func:`refresh` takes the calling book (``xlwings.Book.caller()``), reads its tables with the
xlwings engine into the same ``Review`` the file reader makes, builds the write plan and
applies it to the open workbook. Errors never reach the user as a Python traceback: a
``ReviewkitError`` is shown as the CLI's one line (``reviewkit: <file>, sheet …, cell …: …``),
anything unexpected as one line naming a log file that holds the traceback.

Without macros: the xlwings add-in's *Run main* button runs ``main()`` of a Python module
named like the workbook and saved beside it; :func:`write_sidecar` writes that module for an
.xlsx, and it simply calls :func:`refresh`.
"""
from __future__ import annotations

import datetime as _dt
import keyword
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

from .engines.xlwings_editor import XlwingsEditor
from .engines.xlwings_engine import XlwingsEngine
from .errors import InputError, MissingDependencyError, ReviewkitError
from .model import Review

SIDECAR_SOURCE = '''"""xlwings "Run main" for {name}: recompute the reviewkit review in this workbook."""
from reviewkit.button import main  # noqa: F401  (xlwings calls main())
'''


@dataclass(frozen=True)
class RefreshResult:
    ok: bool
    message: str  # one line, as the CLI prints it
    cells: int = 0  # cells written
    log: str | None = None  # traceback file of an unexpected error
    skipped: tuple[str, ...] = ()  # what the open workbook keeps as it was (see XlwingsEditor)
    warnings: tuple[str, ...] = ()  # fill's warnings (e.g. a KPI not broken down)


def refresh(book=None, *, as_of: str | None = None) -> RefreshResult:
    """Recompute the review in ``book`` (default: the workbook whose button was clicked).

    Returns what happened; the user sees it as the status cell / status bar and, for an
    error, a message box. Never raises for a problem in the workbook.
    """
    if book is None:
        book = _caller()
    engine = XlwingsEngine(book)
    try:
        review = engine.read_review()
        editor = XlwingsEditor(book)
        warnings = write_into(editor, review, as_of=as_of)
        editor.save()
        cells = editor.cells_written
        kept = "; charts and conditional formats kept as they were" if editor.skipped else ""
        result = RefreshResult(True, f"reviewkit: refreshed, {cells} cells written{kept}", cells,
                               skipped=tuple(editor.skipped), warnings=warnings)
    except ReviewkitError as exc:
        result = RefreshResult(False, f"reviewkit: {exc.render()}")  # in the workbook's language
    except Exception as exc:  # noqa: BLE001 - the user must see one line, not a traceback window
        log = _log_traceback(exc)
        result = RefreshResult(False, f"reviewkit: unexpected error ({type(exc).__name__}: {exc}); "
                                      f"details in {log}, please report it", log=str(log))
    engine.report(result.message, ok=result.ok)
    return result


def main() -> RefreshResult:
    """xlwings add-in "Run main" entry point (see :func:`write_sidecar`)."""
    return refresh()


def write_into(editor, review: Review, *, as_of: str | None = None) -> tuple[str, ...]:
    """Record through ``editor`` what ``reviewkit fill`` writes for ``review``; return warnings.

    ``editor`` has :class:`reviewkit.ooxml.WorkbookEditor`'s writing API (here an
    :class:`~reviewkit.engines.xlwings_editor.XlwingsEditor`). It runs ``reviewkit.fill``'s
    ``build_fill_plan`` and ``apply_plan``, what ``reviewkit fill`` runs on a file, so the
    button writes exactly what the CLI writes.
    """
    fill = _fill_module()
    plan = fill.build_fill_plan(review, as_of=as_of)
    fill.apply_plan(editor, plan)
    stamp_property = getattr(fill, "FILLED_AT_PROPERTY", None)
    if stamp_property:
        editor.set_custom_property(stamp_property,
                                   _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat())
    return tuple(plan.warnings)


def _fill_module():
    """``reviewkit.fill``, checked for the plan API the button uses."""
    from . import fill

    if not (hasattr(fill, "build_fill_plan") and hasattr(fill, "apply_plan")):
        raise MissingDependencyError("this reviewkit's fill has no build_fill_plan/apply_plan, which the "
                                     "Refresh button needs", expected="a complete reviewkit: pip install -U \"reviewkit-excel[excel]\"")
    return fill


def write_sidecar(workbook: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``<workbook stem>.py`` beside an .xlsx so the xlwings add-in's *Run main* works.

    xlwings imports the module by the workbook's name, so that name must be a Python
    identifier (``review_2026.xlsx``, not ``2026 review.xlsx``).
    """
    path = Path(workbook)
    stem = path.stem
    if not stem.isidentifier() or keyword.iskeyword(stem):
        raise InputError("xlwings' Run main needs a workbook name that is a Python identifier", file=path,
                         value=path.name, expected="letters, digits and _ only, not starting with a digit, "
                                                   "e.g. review_2026.xlsx")
    target = path.with_suffix(".py")
    if target.exists() and not overwrite:
        raise InputError("the Run main module already exists", file=target, expected="overwrite=True to replace it")
    target.write_text(SIDECAR_SOURCE.format(name=path.name), encoding="utf-8")
    return target


def _caller():
    try:
        import xlwings
    except ImportError as exc:
        raise MissingDependencyError("the Refresh button needs xlwings: pip install \"reviewkit-excel[excel]\" (or pip install xlwings)") from exc
    try:
        return xlwings.Book.caller()
    except Exception as exc:  # noqa: BLE001 - xlwings raises plain exceptions outside Excel
        raise MissingDependencyError(
            "refresh() without a book only works when Excel calls it (the Refresh button); "
            "from Python pass the book: refresh(xlwings.Book('review.xlsm'))", value=str(exc)) from exc


def _log_traceback(exc: BaseException) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    log = Path(tempfile.gettempdir()) / f"reviewkit-refresh-{stamp}.log"
    try:
        log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    except OSError:
        pass
    return log
