"""Golden equivalence: every input of tests/golden/ filled again gives the stored output, part for
part and byte for byte (the fill time stamp aside), from the same reader tables and analysis
frames. It guards refactoring and speed work; an intended output change regenerates the goldens
(``python tests/golden/golden.py``, see tests/golden/golden.py) and shows in review."""
from __future__ import annotations

import difflib
import hashlib
import json
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
import golden  # noqa: E402

INPUTS = golden.inputs()


def test_the_golden_corpus_is_there():
    names = {p.name for p in INPUTS}
    assert len(INPUTS) >= 18
    assert {"demo_zh.xlsx", "demo_en.xlsx", "sales_zh_macro.xlsm", "refill_en.xlsx", "user_content.xlsx"} <= names
    assert {p.name[: -len(".json")] for p in golden.EXPECTED.glob("*.json")} == names


def _diff(name: str, old: bytes, new: bytes) -> str:
    def lines(b: bytes) -> list[str]:
        return b.decode("utf-8", "replace").replace("><", ">\n<").splitlines()

    return "\n".join(list(difflib.unified_diff(lines(old), lines(new), "golden/" + name, "now/" + name,
                                               lineterm="", n=1))[:40])


@pytest.fixture(params=[True, False], ids=["pandas-internals", "pandas-public"])
def pandas_path(request, monkeypatch):
    """Each golden comparison on pandas' internals and on the public-API fallback."""
    from reviewkit import _pandas

    if request.param and not _pandas.FAST:
        pytest.skip("this pandas lacks the internals reviewkit._pandas uses")
    monkeypatch.setattr(_pandas, "FAST", request.param)


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_fill_output_is_byte_identical_to_the_golden(path, pandas_path):
    want = json.loads((golden.EXPECTED / f"{path.name}.json").read_text(encoding="utf-8"))
    got = golden.parts(golden.fill_bytes(path))
    assert [n for n, _ in got] == [n for n, _, _ in want["parts"]], "the output's parts (or their order) changed"
    stored = zipfile.ZipFile(golden.EXPECTED / f"{path.name}.parts.zip")
    before = dict(golden.parts(path.read_bytes()))
    for (name, body), (_, size, digest) in zip(got, want["parts"]):
        if hashlib.sha256(body).hexdigest() != digest:
            old = stored.read(name) if name in stored.namelist() else before.get(name, b"")
            pytest.fail(f"{path.name}: part {name} differs from the golden ({size} -> {len(body)} bytes)\n"
                        + _diff(name, old, body))


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_reader_tables_and_analysis_frames_equal_the_golden(path, pandas_path):
    want = json.loads((golden.EXPECTED / f"{path.name}.json").read_text(encoding="utf-8"))["frames"]
    got = golden.analysis_digests(path)
    assert sorted(got) == sorted(want)
    for frame in want:
        assert got[frame]["shape"] == want[frame]["shape"], frame
        assert got[frame]["index"] == want[frame]["index"], frame
        now = {name: rest for name, *rest in got[frame]["columns"]}
        for name, dtype, digest in want[frame]["columns"]:
            assert name in now, f"{frame}: column {name} is gone"
            assert now[name] == [dtype, digest], f"{frame}.{name} (dtype or values) changed"
        assert [c[0] for c in got[frame]["columns"]] == [c[0] for c in want[frame]["columns"]], \
            f"{frame}: columns added or reordered"


def test_caching_off_gives_the_same_bytes():
    """With ``REVIEWKIT_NO_CACHE=1`` no cache is consulted, so every cache is proven to only
    remember what would be computed anyway: the outputs equal the goldens byte for byte."""
    import os
    import subprocess

    script = (
        "import hashlib, json, sys\n"
        f"sys.path.insert(0, {str(Path(golden.__file__).parent)!r})\n"
        "import golden\n"
        "from reviewkit import caching\n"
        "assert not caching.ENABLED\n"
        "for path in golden.inputs():\n"
        "    want = json.loads((golden.EXPECTED / f'{path.name}.json').read_text(encoding='utf-8'))['parts']\n"
        "    got = [(n, hashlib.sha256(b).hexdigest()) for n, b in golden.parts(golden.fill_bytes(path))]\n"
        "    if got != [(n, d) for n, _, d in want]:\n"
        "        print(path.name)\n"
        "assert all(i.size == 0 for i in caching.caches()), [i for i in caching.caches() if i.size]\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={**os.environ, "REVIEWKIT_NO_CACHE": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == [], f"differ with caching off: {run.stdout.split()}"
