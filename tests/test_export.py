"""`reviewkit export --pdf` renders through LibreOffice, or says clearly that it is missing."""
from pathlib import Path

import xlsxwriter
from click.testing import CliRunner

from reviewkit.cli import main


def _small_book(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, ["Target", "Actual", "Achievement"])
    ws.write_row(1, 0, [1200, 1080])
    ws.write_formula(1, 2, "=B2/A2")
    wb.close()
    return path


def test_export_pdf_writes_a_pdf_with_the_recalculated_value(tmp_path, soffice):
    book = _small_book(tmp_path / "review.xlsx")
    result = CliRunner().invoke(main, ["export", str(book), "--pdf", "-o", str(tmp_path / "out")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "out" / "review.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    import subprocess
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "0.9" in text  # 1080 / 1200, computed by LibreOffice on load


def test_export_without_libreoffice_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEWKIT_SOFFICE", str(tmp_path / "no-such-soffice"))
    book = _small_book(tmp_path / "review.xlsx")
    result = CliRunner().invoke(main, ["export", str(book), "--pdf"])
    assert result.exit_code == 2
    assert "LibreOffice was not found" in result.output and "apt-get install" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "review.pdf").exists()
