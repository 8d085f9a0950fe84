"""Shared fixtures: LibreOffice availability and a corpus path."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from reviewkit.libreoffice import find_soffice

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "corpus" / "excel-made"


def require_libreoffice() -> str:
    """Skip (or fail in CI, where REVIEWKIT_REQUIRE_LIBREOFFICE=1) when soffice is missing."""
    path = find_soffice()
    if path:
        return path
    if os.environ.get("REVIEWKIT_REQUIRE_LIBREOFFICE") == "1":
        pytest.fail("LibreOffice is required (REVIEWKIT_REQUIRE_LIBREOFFICE=1) but soffice was not found")
    pytest.skip("LibreOffice (soffice) is not installed; apt-get install libreoffice-calc-nogui")


@pytest.fixture(scope="session", autouse=True)
def _temp_files_under_pytest(tmp_path_factory):
    """Temporary files of the code under test (LibreOffice profiles, Refresh logs) go under
    pytest's own temporary folder, which pytest prunes, instead of piling up in /tmp."""
    saved = tempfile.tempdir
    tempfile.tempdir = str(tmp_path_factory.mktemp("tmp"))
    yield
    tempfile.tempdir = saved


@pytest.fixture
def soffice() -> str:
    return require_libreoffice()


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the Excel-made corpus is missing from {CORPUS} (it is part of the repository)")
    return CORPUS
