"""Cell values -> ``<c>`` XML text, shared by the in-place editor and the sheet builder."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from ..errors import InputError
from ._xml import esc, excel_text

ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!",
               "#CALC!")
MAX_TEXT = 32_767
_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


class ErrorValue(str):
    """An Excel error such as ``ErrorValue("#N/A")``, as a cached formula result or a cell value."""

    def __new__(cls, code: str):
        if code not in ERROR_CODES:
            raise InputError("unknown Excel error value", value=code, expected=" / ".join(ERROR_CODES))
        return super().__new__(cls, code)


@dataclass(frozen=True)
class CellWrite:
    """One pending write: a value, or a formula with its cached result."""

    value: object = None
    formula: str | None = None
    style: object = None  # a CellStyle, or None to keep the cell's current format


def excel_serial(value: dt.date | dt.datetime, date1904: bool = False) -> float:
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    delta = value - (_EPOCH_1904 if date1904 else _EPOCH_1900)
    serial = delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    if not date1904 and serial < 61:  # Excel's phantom 1900-02-29
        serial -= 1
    return serial


def number_text(value: float | int) -> str:
    if type(value) is not float:
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int):
            return str(value)
        value = float(value)
    if not math.isfinite(value):
        raise InputError("NaN and infinity cannot be stored in a cell", value=value,
                         expected="a finite number, None, or an ErrorValue such as '#N/A'")
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _check_text(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise InputError(f"text of {len(text):,} characters is longer than Excel's cell limit", value=text[:40] + "…",
                         expected=f"at most {MAX_TEXT:,} characters")
    return esc(excel_text(text))


def _num_like(value) -> str | None:
    """Text for numbers, including numpy/pandas scalars, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return number_text(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and type(value).__module__ == "numpy":
        v = item()
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return number_text(v)
    return None


def cell_xml(ref: str, w: CellWrite, style: int | None, date1904: bool = False) -> str:
    return value_xml(ref, w.value, w.formula, style, date1904)


def value_xml(ref: str, v: object, formula: str | None, style: int | None, date1904: bool = False) -> str:
    """``cell_xml`` for a value and formula given directly (no CellWrite per cell)."""
    try:
        return _value_xml(ref, v, formula, style, date1904)
    except InputError as exc:
        if exc.cell is not None:
            raise
        raise InputError(exc.detail, file=exc.file, sheet=exc.sheet, cell=ref, value=exc.value,
                         expected=exc.expected) from None


def _value_xml(ref: str, v: object, formula: str | None, style: int | None, date1904: bool) -> str:
    s = f' s="{style}"' if style else ""
    t = type(v)
    if formula is None:  # fast paths for the usual plain values; the general code below agrees
        if t is str:
            return f'<c r="{ref}"{s} t="inlineStr">{_inline(v)}</c>'
        if t is float or t is int:
            return f'<c r="{ref}"{s}><v>{number_text(v)}</v></c>'
    if isinstance(v, (dt.date, dt.datetime)):
        v = excel_serial(v, date1904)
    f = "" if formula is None else f"<f>{esc(excel_text(formula))}</f>"
    if v is None:
        return f'<c r="{ref}"{s}>{f}</c>' if f else f'<c r="{ref}"{s}/>'
    if isinstance(v, ErrorValue):
        kind, body = ' t="e"', f"<v>{esc(v)}</v>"
    elif isinstance(v, bool):
        kind, body = ' t="b"', f"<v>{int(v)}</v>"
    elif (num := _num_like(v)) is not None:
        kind, body = "", f"<v>{num}</v>"
    elif isinstance(v, str):  # a formula's text result is a t="str" value, a typed text inline
        kind, body = (' t="str"', f"<v>{_check_text(v)}</v>") if f else (' t="inlineStr"', _inline(v))
    elif f:
        raise InputError("unsupported cached formula result", cell=ref, value=type(v).__name__,
                         expected="a number, str, bool, date, ErrorValue or None")
    else:
        raise InputError("unsupported cell value", cell=ref, value=type(v).__name__,
                         expected="a number, str, bool, date/datetime, ErrorValue or None")
    return f'<c r="{ref}"{s}{kind}>{f}{body}</c>'


def _inline(v: str) -> str:
    """An inline text's ``<is>`` element."""
    space = ' xml:space="preserve"' if v != v.strip() or "\n" in v else ""
    return f"<is><t{space}>{_check_text(v)}</t></is>"
