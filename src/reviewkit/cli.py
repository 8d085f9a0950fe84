"""The ``reviewkit`` command line: parse, call the library, print. No logic lives here.

Help texts are in Chinese and English (our users read Chinese first); messages about a workbook
are in that workbook's language (``ReviewkitError.render``, ``Problem.render``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import ReviewkitError, printable

LANG = click.Choice(["zh", "en"])


class ReviewkitClickError(click.ClickException):
    """A ReviewkitError shown as one line, exit code 2."""

    exit_code = 2

    def show(self, file=None):  # one line, no "Error:" noise doubled
        click.echo(f"reviewkit: {printable(self.message)}", err=True)


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ReviewkitError as exc:
        raise ReviewkitClickError(exc.render()) from exc


#: every command's help option, said in both languages
HELP = click.help_option("-h", "--help", help="显示本帮助并退出。 / Show this message and exit.")


@click.group()
@HELP
@click.version_option(package_name="reviewkit-excel", help="显示版本 / Show the version.")
def main() -> None:
    """在 Excel 中做年终复盘与明年规划。

    Business reviews (复盘) and next-year plans in Excel.

    \b
    常用 / Common:
      reviewkit demo              示例工作簿 / sample workbooks
      reviewkit new 复盘.xlsx      新建工作簿 / a new workbook
      reviewkit check 复盘.xlsx    检查输入 / check the inputs
      reviewkit fill 复盘.xlsx     计算并写回 / compute and write back
      reviewkit export 复盘.xlsx   导出会议 PDF / meeting PDF
    """


@main.command()
@HELP
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--preset", default="sales", show_default=True,
              help="KPI 预设：sales 销售、membership 会员、saas、product 产品或 blank 空白。 / "
                   "KPI preset: sales, membership, saas, product or blank.")
@click.option("--lang", type=LANG, default="zh", show_default=True,
              help="工作簿语言：zh 中文、en 英文。 / Workbook language.")
@click.option("--macro/--no-macro", default=False,
              help="生成带“刷新”按钮的 .xlsm（xlwings）。 / Write an .xlsm with a Refresh button (xlwings).")
@click.option("--force", is_flag=True, help="PATH 已存在时覆盖。 / Overwrite PATH if it exists.")
def new(path: Path, preset: str, lang: str, macro: bool, force: bool) -> None:
    """新建一个待填写的复盘工作簿 PATH。 / Write a ready-to-fill review workbook to PATH."""
    from .templates import build_template

    out = _run(build_template, path, preset=preset, lang=lang, macro=macro, overwrite=force)
    click.echo(f"wrote {out}")


@main.command()
@HELP
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def check(files: tuple[Path, ...]) -> None:
    """读取工作簿（或文件夹中的每个工作簿）并一次列出全部问题（有问题时退出码 1）。 / Read workbooks
    (or every workbook in a folder) and report every problem at once (exit 1 if any)."""
    from .batch import find_workbooks
    from .errors import Problem
    from .reading import check_files

    empty = []
    listed: list[Path] = []
    for f in files:
        found = find_workbooks([f])[0] if f.is_dir() else [f]
        listed += found
        if not found:
            empty.append(Problem(str(f), None, None, "no .xlsx/.xlsm workbook in this folder",
                                 expected="a folder holding review workbooks"))
    files = tuple(dict.fromkeys(listed))
    problems = empty + _run(check_files, list(files))
    problems += _stale_warnings([f for f in files if not any(p.file == str(f) and p.severity == "error"
                                                           for p in problems)])
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        word = {"error": "错误", "warning": "警告"}.get(p.severity, p.severity) if p.lang == "zh" else p.severity
        click.echo(f"{word}{'：' if p.lang == 'zh' else ': '}{p.render()}")
    if errors:
        n_files = len({p.file for p in errors})
        if all(p.lang == "zh" for p in errors):
            click.echo(f"{n_files} 个文件中共有 {len(errors)} 个问题", err=True)
        else:
            click.echo(f"{len(errors)} problem(s) in {n_files} file(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(files)} file(s) checked, no problems / 已检查 {len(files)} 个文件，没有问题")


def _stale_warnings(files) -> list:
    """A warning for each workbook whose inputs changed since its last fill, in its language."""
    from .errors import Problem
    from .fill import stale_review

    out = []
    for f in files:
        try:
            stale, review = stale_review(f)
            if not stale:
                continue
            lang = review.lang
        except ReviewkitError:
            continue  # unreadable files are already reported by check_files
        out.append(Problem(str(f), None, None, "results are stale: inputs changed since the last fill",
                           expected="run `reviewkit fill` (or click Refresh) to update them",
                           severity="warning", lang=lang))
    return out


@main.command()
@HELP
@click.argument("directory", required=False, default="reviewkit-demo",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--lang", type=LANG, default=None, help="只生成这种语言（默认中英文各一）。 / "
                                                        "Only this language (default: both).")
def demo(directory: Path, lang: str | None) -> None:
    """用内置示例数据生成并填写复盘工作簿，并说明先看哪里。 / Build sample review workbooks on built-in
    data, fill them, and say what to open."""
    from .demo import run_demo

    report = _run(run_demo, directory, langs=(lang,) if lang else ("zh", "en"))
    click.echo(report)


@main.command()
@HELP
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="写到这个文件，而不是覆盖原文件。 / Write the filled workbook here instead of in place.")
@click.option("--as-of", default=None, help="判断逾期所用的日期（YYYY-MM-DD），默认今天。 / "
                                            "Date for overdue checks (YYYY-MM-DD); default today.")
@click.option("--force", is_flag=True, help="OUT 已存在时覆盖（链接本身被替换，不会写到链接指向的文件）。 / "
                                            "Overwrite OUT if it exists (a link is replaced, not followed).")
def fill(path: Path, out: Path | None, as_of: str | None, force: bool) -> None:
    """计算分析结果并写回工作簿（原子写入，不丢内容）。 / Compute the analysis and write it back
    into the workbook (atomic, lossless)."""
    from .fill import fill_workbook

    result = _run(fill_workbook, path, out=out, as_of=as_of, force=force)
    click.echo(str(result))


@main.command()
@HELP
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pdf", "as_pdf", is_flag=True, default=True,
              help="导出为 PDF（LibreOffice）。 / Export to PDF (LibreOffice).")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="PDF 写到这个文件夹。 / Folder for the PDF.")
@click.option("--sheets", default=None, metavar="工作表/NAME,...",
              help="只打印这些工作表（逗号分隔，按工作簿顺序），而不是会议材料。 / Print these sheets "
                   "(comma-separated, in workbook order) instead of the meeting pack.")
@click.option("--all", "all_sheets", is_flag=True, help="打印工作簿的每张工作表。 / Print every sheet of the workbook.")
def export(path: Path, as_pdf: bool, out: Path | None, sheets: str | None, all_sheets: bool) -> None:
    """把会议材料导出为 PDF：汇总、拆解、排名、甘特图、执行跟踪、计分卡（需要 LibreOffice）。 / Export
    the meeting pack to PDF: summary, breakdown, peers, timeline, execution, scorecard (needs LibreOffice)."""
    from .export import cjk_font_missing, export_pdf

    if cjk_font_missing():
        click.echo("warning: no Chinese (CJK) font is installed, so Chinese text prints as boxes; "
                   "install one (Debian/Ubuntu: apt-get install fonts-wqy-microhei)", err=True)
    names = [n.strip() for n in sheets.split(",") if n.strip()] if sheets is not None else None
    pdf = _run(export_pdf, path, out, sheets=names, all_sheets=all_sheets)
    click.echo(f"wrote {pdf}")


@main.command()
@HELP
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", default="unit", show_default=True,
              help="按单位列拆分，或按明细中的维度列（如 区域）。 / "
                   "Split by the unit column, or by a Facts dimension such as 区域 / region.")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="部门工作簿的文件夹（不存在则新建）。 / Folder for the departmental workbooks (created if missing).")
@click.option("--force", is_flag=True, help="覆盖文件夹中已有的工作簿。 / Overwrite workbooks already in the folder.")
def split(master: Path, by: str, out_dir: Path, force: bool) -> None:
    """把母表 MASTER 拆成每个单位（部门、区域、个人）一个预填的工作簿。 / Write one prefilled workbook
    per unit (department, region, person) of MASTER."""
    from .split import split_workbook

    report = _run(split_workbook, master, out_dir, by=by, overwrite=force)
    click.echo(report.render())


@main.command()
@HELP
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="并行进程数（默认每个 CPU 一个）。 / Worker processes (default: one per CPU).")
@click.option("--force", is_flag=True, help="输入未变的文件也重新填写。 / Refill files whose inputs have not changed.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="在 Dask 集群上运行（tcp://host:8786），需要 reviewkit-excel[dask]。 / "
                   "Run on a Dask cluster (tcp://host:8786); needs reviewkit-excel[dask].")
def batch(paths: tuple[Path, ...], jobs: int | None, force: bool, scheduler: str | None) -> None:
    """并行填写 PATHS（文件或文件夹）中的所有工作簿；有失败时退出码 1。 / Fill every workbook in
    PATHS (files or folders) in parallel; exit 1 if any failed."""
    from .batch import auto_progress, print_report, run_batch

    report = _run(run_batch, list(paths), jobs=jobs, force=force, progress=auto_progress(), scheduler=scheduler)
    print_report(report)
    sys.exit(report.exit_code)


@main.command()
@HELP
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="要写出的公司汇总工作簿。 / The company workbook to write.")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="去年的公司汇总，用于排名变化和应提交的单位。 / "
                   "Last year's company rollup, for rank changes and who is expected.")
@click.option("--expected", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="应提交单位的文本文件，每行一个。 / A text file with one expected unit per line.")
@click.option("--force", is_flag=True, help="OUT 已存在时覆盖。 / Overwrite OUT if it exists.")
def rollup(paths: tuple[Path, ...], out: Path, previous: Path | None, expected: Path | None, force: bool) -> None:
    """把各部门工作簿汇总成公司工作簿；有文件被拒绝时退出码 1。 / Consolidate departmental workbooks
    into a company workbook; exit 1 if any file was refused."""
    from .rollup import rollup_workbooks

    report = _run(rollup_workbooks, list(paths), out, previous=previous, expected=expected, overwrite=force)
    click.echo(report.render())
    sys.exit(report.exit_code)


def _text_options(*options: tuple[str, str]):
    """Optional text options (``name``, help), in the order given."""
    def add(fn):
        for name, text in reversed(options):
            fn = click.option(name, default=None, help=text)(fn)
        return fn
    return add


TABLE_NAMES = ("facts", "scorecard", "kpis", "plan", "progress", "results", "actions", "causes", "nextyear",
               "keepstopstart", "risks", "budget", "campaigns")


@main.command("import")
@HELP
@click.argument("args", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path),
                metavar="SOURCE... INTO.xlsx")
@click.option("--table", required=True, type=click.Choice(sorted(TABLE_NAMES), case_sensitive=False),
              metavar="表名/TABLE", help="要填入的表 / The table to fill: " + ", ".join(sorted(TABLE_NAMES)) + ".")
@click.option("--append", "mode", flag_value="append", default=True,
              help="加在表的已有行之后（默认）。 / Add the rows after the table's rows (default).")
@click.option("--replace", "mode", flag_value="replace", help="替换表中的行。 / Replace the table's rows.")
@click.option("--upsert", "mode", flag_value="upsert",
              help="同键的行更新、新行添加、其余保留。 / Update rows with the same key, add new ones, keep the rest.")
@click.option("--map", "mapping", default=None, metavar='"来源列=key,..."',
              help="来源列对应到表的列（'-' 表示忽略）。 / Map source columns to the table's columns "
                   "('-' ignores a column).")
@click.option("--save-map", is_flag=True, help="把对应关系存进工作簿的设置表，下次沿用。 / Keep the mapping in the "
                                               "workbook's Settings table for next time.")
@_text_options(
    ("--sheet", "xlsx 来源：要读的工作表（默认第一个）。 / xlsx source: the sheet to read (default: the first)."),
    ("--source-table", "xlsx 来源：按名称读取的 Excel 表。 / xlsx source: an Excel Table to read, by name."),
    ("--encoding", "CSV 编码（默认自动识别 UTF-8、GBK/GB18030）。 / CSV encoding (default: detected; UTF-8, "
                   "GBK/GB18030)."),
    ("--delimiter", "CSV 分隔符（默认在 , ; 和制表符中识别）。 / CSV delimiter (default: detected among , ; and tab)."))
@click.option("--skip-bad", is_flag=True, help="跳过有误的行并报告，而不是整体拒绝。 / Leave bad rows out and "
                                               "report them, instead of refusing.")
@click.option("--dry-run", is_flag=True, help="只说明会有哪些改动，不写文件。 / Say what would change; write nothing.")
def import_(args: tuple[Path, ...], table: str, mode: str, mapping: str | None, save_map: bool, sheet: str | None,
            source_table: str | None, encoding: str | None, delimiter: str | None, skip_bad: bool,
            dry_run: bool) -> None:
    """把 CSV / xlsx / 飞书多维表格 JSON 导出的数据导入 INTO.xlsx 的一张表（不丢内容，原子写入）。 / Import
    CSV / xlsx / 飞书 Bitable JSON exports into a table of INTO.xlsx (lossless, atomic)."""
    from .errors import ValidationError
    from .importing import import_sources

    if len(args) < 2:
        raise click.UsageError("give at least one SOURCE and the workbook INTO.xlsx")
    *sources, into = args
    try:
        result = import_sources(sources, into, table=table, mode=mode, mapping=mapping, sheet=sheet,
                                source_table=source_table, encoding=encoding, delimiter=delimiter,
                                save_map=save_map, skip_bad=skip_bad, dry_run=dry_run)
    except ValidationError as exc:
        for p in exc.problems:
            click.echo(f"{p.severity}: {p}", err=True)
        raise ReviewkitClickError(f"{len(exc.problems)} bad value(s); nothing written "
                                  "(fix them, or --skip-bad to leave those rows out)") from exc
    except ReviewkitError as exc:
        raise ReviewkitClickError(str(exc)) from exc
    click.echo(str(result))


if __name__ == "__main__":  # pragma: no cover
    main()
