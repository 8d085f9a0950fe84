"""The one cache facility: bounded, named, clearable, and off with REVIEWKIT_NO_CACHE."""
import subprocess
import sys

import pytest

from reviewkit import caching


def _fresh(name, maxsize, **kw):
    caching._REGISTRY.pop(name, None)
    return caching.Cache(name, maxsize, **kw)


def test_a_full_cache_drops_its_oldest_entry():
    c = _fresh("test.bounded", 3)
    for k in "abcd":
        c.put(k, k.upper())
    assert len(c) == 3
    assert c.get("a") is None
    assert [c.get(k) for k in "bcd"] == ["B", "C", "D"]
    assert c.info().hits == 3 and c.info().misses == 1


def test_an_identity_cache_tells_equal_objects_apart():
    c = _fresh("test.identity", 10, identity=True)
    a, b = [1, 2], [1, 2]
    c.put(a, "first")
    assert c.get(a) == "first"
    assert c.get(b) is None


def test_memo_is_listed_and_cleared():
    caching._REGISTRY.pop("test.memo", None)
    calls = []

    @caching.memo("test.memo", 8)
    def double(x):
        calls.append(x)
        return 2 * x

    assert double(2) == double(2) == 4
    assert calls == [2]
    info = {i.name: i for i in caching.caches()}["test.memo"]
    assert (info.size, info.maxsize, info.hits) == (1, 8, 1)
    caching.clear()
    assert double(2) == 4 and calls == [2, 2]


def test_two_caches_cannot_share_a_name():
    _fresh("test.name", 2)
    with pytest.raises(ValueError):
        caching.Cache("test.name", 2)


def test_the_environment_switch_turns_every_cache_off():
    code = ("from reviewkit import caching\n"
            "c = caching.Cache('t.off', 4); c.put('k', 1)\n"
            "n = []\n"
            "@caching.memo('t.m', 4)\n"
            "def f(x):\n    n.append(x); return x\n"
            "f(1); f(1)\n"
            "print(caching.ENABLED, len(c), c.get('k'), len(n))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "REVIEWKIT_NO_CACHE": "1"}).stdout.split()
    assert out == ["False", "0", "None", "2"]


SRC = __import__("pathlib").Path(caching.__file__).parent
DOCS = SRC.parent.parent / "docs" / "layout.md"


def _all_modules():
    import importlib
    import pkgutil

    import reviewkit

    for mod in pkgutil.walk_packages(reviewkit.__path__, "reviewkit."):
        importlib.import_module(mod.name)


def test_every_cache_goes_through_the_facility():
    """No module keeps an lru_cache of its own: each cache is named and listed by caching."""
    import ast

    found = []
    for path in SRC.rglob("*.py"):
        if path.name == "caching.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("lru_cache", "cache", "cached_property") \
                    and isinstance(node.value, ast.Name) and node.value.id == "functools":
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "functools" \
                    and {a.name for a in node.names} & {"lru_cache", "cache"}:
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert found == []


def test_every_cache_is_listed_in_the_layout_doc():
    _all_modules()
    doc = DOCS.read_text(encoding="utf-8")
    names = [i.name for i in caching.caches() if not i.name.startswith(("test.", "t."))]
    assert len(names) >= 10
    assert [n for n in names if f"`{n}`" not in doc] == []
