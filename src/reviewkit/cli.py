"""The ``reviewkit`` command line: parse, call the library, print. No logic lives here."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import ReviewkitError

LANG = click.Choice(["zh", "en"])


class ReviewkitClickError(click.ClickException):
    """A ReviewkitError shown as one line, exit code 2."""

    exit_code = 2

    def show(self, file=None):  # one line, no "Error:" noise doubled
        click.echo(f"reviewkit: {self.message}", err=True)


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ReviewkitError as exc:
        raise ReviewkitClickError(str(exc)) from exc


@click.group()
@click.version_option(package_name="reviewkit")
def main() -> None:
    """Business reviews (复盘) and next-year plans in Excel."""


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--preset", default="sales", show_default=True,
              help="KPI preset: sales, membership, saas, product or blank.")
@click.option("--lang", type=LANG, default="zh", show_default=True)
@click.option("--macro/--no-macro", default=False, help="Write an .xlsm with a Refresh button (xlwings).")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def new(path: Path, preset: str, lang: str, macro: bool, force: bool) -> None:
    """Write a ready-to-fill review workbook to PATH."""
    from .templates import build_template

    out = _run(build_template, path, preset=preset, lang=lang, macro=macro, overwrite=force)
    click.echo(f"wrote {out}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def check(files: tuple[Path, ...]) -> None:
    """Read workbooks and report every problem at once (exit 1 if any)."""
    from .reader import check_files

    problems = _run(check_files, list(files))
    problems += _stale_warnings([f for f in files if not any(p.file == str(f) and p.severity == "error"
                                                           for p in problems)])
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        click.echo(f"{p.severity}: {p}")
    if errors:
        click.echo(f"{len(errors)} problem(s) in {len({p.file for p in errors})} file(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(files)} file(s) checked, no problems")


def _stale_warnings(files) -> list:
    """A warning for each workbook whose inputs changed since its last fill."""
    from .errors import Problem
    from .fill import is_stale

    out = []
    for f in files:
        try:
            stale = is_stale(f)
        except ReviewkitError:
            continue  # unreadable files are already reported by check_files
        if stale:
            out.append(Problem(str(f), None, None, "results are stale: inputs changed since the last fill",
                               expected="run `reviewkit fill` (or click Refresh) to update them",
                               severity="warning"))
    return out


@main.command()
@click.argument("directory", required=False, default="reviewkit-demo",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--lang", type=LANG, default=None, help="Only this language (default: both).")
def demo(directory: Path, lang: str | None) -> None:
    """Build sample review workbooks on built-in data, fill them, and say what to open."""
    from .demo import run_demo

    report = _run(run_demo, directory, langs=(lang,) if lang else ("zh", "en"))
    click.echo(report)


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the filled workbook here instead of in place.")
@click.option("--as-of", default=None, help="Date for overdue checks (YYYY-MM-DD); default today.")
def fill(path: Path, out: Path | None, as_of: str | None) -> None:
    """Compute the analysis and write it back into the workbook (atomic, lossless)."""
    from .fill import fill_workbook

    result = _run(fill_workbook, path, out=out, as_of=as_of)
    click.echo(str(result))


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pdf", "as_pdf", is_flag=True, default=True, help="Export to PDF (LibreOffice).")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--sheets", default=None, metavar="NAME,...",
              help="Print these sheets (comma-separated, in workbook order) instead of the meeting pack.")
@click.option("--all", "all_sheets", is_flag=True, help="Print every sheet of the workbook.")
def export(path: Path, as_pdf: bool, out: Path | None, sheets: str | None, all_sheets: bool) -> None:
    """Export the meeting pack to PDF: summary, breakdown, peers, timeline, execution, scorecard
    (会议材料：汇总、拆解、排名、甘特图、执行跟踪、计分卡; needs LibreOffice)."""
    from .export import cjk_font_missing, export_pdf

    if cjk_font_missing():
        click.echo("warning: no Chinese (CJK) font is installed, so Chinese text prints as boxes; "
                   "install one (Debian/Ubuntu: apt-get install fonts-wqy-microhei)", err=True)
    names = [n.strip() for n in sheets.split(",") if n.strip()] if sheets is not None else None
    pdf = _run(export_pdf, path, out, sheets=names, all_sheets=all_sheets)
    click.echo(f"wrote {pdf}")


@main.command()
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", default="unit", show_default=True,
              help="Split by the unit column, or by a Facts dimension such as 区域 / region.")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the departmental workbooks (created if missing).")
@click.option("--force", is_flag=True, help="Overwrite workbooks already in the folder.")
def split(master: Path, by: str, out_dir: Path, force: bool) -> None:
    """Write one prefilled workbook per unit (department, region, person) of MASTER."""
    from .split import split_workbook

    report = _run(split_workbook, master, out_dir, by=by, overwrite=force)
    click.echo(str(report))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: one per CPU).")
@click.option("--force", is_flag=True, help="Refill files whose inputs have not changed.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run on a Dask cluster (tcp://host:8786); needs reviewkit[dask].")
def batch(paths: tuple[Path, ...], jobs: int | None, force: bool, scheduler: str | None) -> None:
    """Fill every workbook in PATHS (files or folders) in parallel; exit 1 if any failed."""
    from .batch import auto_progress, print_report, run_batch

    report = _run(run_batch, list(paths), jobs=jobs, force=force, progress=auto_progress(), scheduler=scheduler)
    print_report(report)
    sys.exit(report.exit_code)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The company workbook to write.")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Last year's company rollup, for rank changes and who is expected.")
@click.option("--expected", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A text file with one expected unit per line.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def rollup(paths: tuple[Path, ...], out: Path, previous: Path | None, expected: Path | None, force: bool) -> None:
    """Consolidate departmental workbooks into a company workbook; exit 1 if any file was refused."""
    from .rollup import rollup_workbooks

    report = _run(rollup_workbooks, list(paths), out, previous=previous, expected=expected, overwrite=force)
    click.echo(str(report))
    sys.exit(report.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
