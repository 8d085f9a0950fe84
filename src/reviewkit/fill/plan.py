"""The write plan: everything a fill writes, as plain data (see docs/fill.md). Engine-neutral: the
file engine applies it with :mod:`reviewkit.ooxml`, the xlwings engine to a workbook open in Excel."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..engines.plan import CellWrite
from ..ooxml import CellStyle, SheetSpec


# --- the plan -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SheetRules:
    """Conditional formats of one existing sheet: ``rules`` replace every rule inside ``owned``."""

    sheet: str
    owned: tuple[str, ...]
    rules: tuple


@dataclass(frozen=True)
class OwnedSheet:
    """A sheet reviewkit owns (``key`` in ``model.OWNED_SHEETS``), rebuilt from ``spec``."""

    key: str
    name: str
    spec: SheetSpec
    position: int | None = None


@dataclass(frozen=True)
class FillPlan:
    """Everything a fill writes, as plain data. See docs/fill.md.

    ``cells``: :class:`reviewkit.engines.plan.CellWrite` records (sheet, cell, value or
    ``=formula`` with its cached value, number format); ``styles``: the full look of each
    written cell, by (sheet, cell), for engines that can style; ``conditional_formats``;
    ``sheets``: owned sheets; ``properties``: custom document properties (without the time
    stamp, which the applying engine adds).
    """

    cells: tuple[CellWrite, ...]
    styles: Mapping[tuple[str, str], CellStyle]
    conditional_formats: tuple[SheetRules, ...]
    sheets: tuple[OwnedSheet, ...]
    properties: Mapping[str, str]
    fingerprint: str
    lang: str
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what fill tidied in the inputs ("converted 4 text numbers: …")

    @property
    def formulas(self) -> int:
        return sum(1 for c in self.cells if c.formula)
