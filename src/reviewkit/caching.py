"""Every cache reviewkit keeps goes through this module.

Why caches at all: a batch fills hundreds of workbooks split from one master, and they share
most of their parts (styles, theme, relationships, tables), their cell references, number
formats and labels. Remembering the result of pure work across files is what makes a batch
fill fast (``benchmarks/bench_batch.py``). A cache that does not pay there does not exist.

The rules, so a newcomer can find and trust every cache:

- Each cache has a **name** (``"module.what"``) and a **bound**; :func:`caches` lists them.
- A cache holds only the results of **pure** work: the value for a key never changes, so a
  hit gives exactly the bytes or objects a miss would have computed.
- One eviction rule: when a table is full, the **oldest** entry goes (insertion order).
  :func:`memo` caches use ``functools.lru_cache``'s own least-recently-used rule.
- :func:`clear` empties them all (tests, long-running processes).
- ``REVIEWKIT_NO_CACHE=1`` in the environment turns every cache off at import: each lookup
  misses and nothing is stored. The golden test fills its inputs that way too and expects the
  same bytes.

Two kinds: :func:`memo` wraps a pure function (keys are its hashable arguments); :class:`Cache`
is a bounded table for work whose key is not a plain argument (bytes of a part, a spec object
by identity). Per-object lookups that live and die with one workbook (a styles part's index of
its own entries, an editor's parsed parts) are state of that object, not caches, and are not
listed here.

docs/layout.md lists the caches by module.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Callable, Hashable, TypeVar

__all__ = ["ENABLED", "Cache", "CacheInfo", "caches", "clear", "memo"]

#: False when ``REVIEWKIT_NO_CACHE`` is set to anything but ``""`` or ``"0"``.
ENABLED = os.environ.get("REVIEWKIT_NO_CACHE", "") in ("", "0")

_F = TypeVar("_F", bound=Callable)
_V = TypeVar("_V")


@dataclass(frozen=True)
class CacheInfo:
    """One cache's state, as :func:`caches` reports it."""
    name: str
    size: int
    maxsize: int
    hits: int
    misses: int


class Cache:
    """A named, bounded table of computed values; the oldest entry goes when it is full.

    ``identity=True`` keys on the object itself by identity (for unhashable or large spec
    objects): the entry keeps the object alive, so its ``id`` cannot be reused by another.
    """

    __slots__ = ("name", "maxsize", "identity", "_data", "hits", "misses")

    def __init__(self, name: str, maxsize: int, *, identity: bool = False) -> None:
        if name in _REGISTRY:
            raise ValueError(f"a cache named {name!r} already exists")
        self.name, self.maxsize, self.identity = name, maxsize, identity
        self._data: dict = {}
        self.hits = self.misses = 0
        _REGISTRY[name] = self

    def get(self, key: Hashable, default=None):
        """The stored value for ``key``, or ``default``."""
        if self.identity:
            hit = self._data.get(id(key))
            if hit is not None and hit[0] is key:
                self.hits += 1
                return hit[1]
        else:
            hit = self._data.get(key, _MISSING)
            if hit is not _MISSING:
                self.hits += 1
                return hit
        self.misses += 1
        return default

    def put(self, key: Hashable, value: _V) -> _V:
        """Store ``value`` for ``key`` (unless caching is off) and return it."""
        if not ENABLED:
            return value
        data = self._data
        if len(data) >= self.maxsize:
            del data[next(iter(data))]
        if self.identity:
            data[id(key)] = (key, value)
        else:
            data[key] = value
        return value

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def info(self) -> CacheInfo:
        return CacheInfo(self.name, len(self._data), self.maxsize, self.hits, self.misses)


class _Memo:
    """A :func:`memo` function's entry in the registry."""

    __slots__ = ("name", "maxsize", "fn")

    def __init__(self, name: str, maxsize: int, fn) -> None:
        self.name, self.maxsize, self.fn = name, maxsize, fn

    def clear(self) -> None:
        self.fn.cache_clear()

    def info(self) -> CacheInfo:
        i = self.fn.cache_info()
        return CacheInfo(self.name, i.currsize, self.maxsize, i.hits, i.misses)


def memo(name: str, maxsize: int) -> Callable[[_F], _F]:
    """Decorator: remember a pure function's results (``functools.lru_cache``), under ``name``."""
    def wrap(fn: _F) -> _F:
        if name in _REGISTRY:
            raise ValueError(f"a cache named {name!r} already exists")
        cached = functools.lru_cache(maxsize=maxsize if ENABLED else 0)(fn)
        _REGISTRY[name] = _Memo(name, maxsize, cached)
        return cached  # type: ignore[return-value]
    return wrap


def caches() -> list[CacheInfo]:
    """Every cache, by name, with its size, bound, hits and misses."""
    return [c.info() for _, c in sorted(_REGISTRY.items())]


def clear() -> None:
    """Empty every cache."""
    for c in _REGISTRY.values():
        c.clear()


_MISSING = object()
_REGISTRY: dict[str, Cache | _Memo] = {}
