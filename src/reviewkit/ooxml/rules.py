"""Conditional-formatting rules and data validations as small frozen specs, rendered to XML.

Each spec names the range it applies to (``sqref``, e.g. ``"H5:H200"``). The worksheet editor
drops the rules it owns and appends these; the builder renders them into owned sheets.
"""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .. import caching
from ..errors import InputError
from . import _xml
from ._xml import q
from .cellref import parse_sqref
from .styles import DxfStyle, StylesPart, argb

CELL_IS_OPERATORS = {"lessThan", "lessThanOrEqual", "equal", "notEqual", "greaterThanOrEqual", "greaterThan",
                     "between", "notBetween"}
_OPERATOR_ALIASES = {"<": "lessThan", "<=": "lessThanOrEqual", "=": "equal", "==": "equal", "!=": "notEqual",
                     "<>": "notEqual", ">=": "greaterThanOrEqual", ">": "greaterThan"}
ICON_SETS = {"3Arrows": 3, "3ArrowsGray": 3, "3Flags": 3, "3TrafficLights1": 3, "3TrafficLights2": 3,
             "3Signs": 3, "3Symbols": 3, "3Symbols2": 3, "4Arrows": 4, "4ArrowsGray": 4, "4RedToBlack": 4,
             "4Rating": 4, "4TrafficLights": 4, "5Arrows": 5, "5ArrowsGray": 5, "5Rating": 5, "5Quarters": 5}
_CFVO_TYPES = {"min", "max", "num", "percent", "percentile", "formula"}


def _check_sqref(sqref: str) -> None:
    parse_sqref(sqref)  # raises InputError naming the bad reference


def _formula(text: str | float | int) -> str:
    text = _xml.excel_text(str(text))
    return text[1:] if text.startswith("=") else text


@dataclass(frozen=True)
class CellIsRule:
    """Format cells whose value compares with ``formulas`` (``operator`` 'greaterThan', '>' ...)."""

    sqref: str
    operator: str
    formulas: tuple[str, ...]
    dxf: DxfStyle
    stop_if_true: bool = False

    _TYPE = "cellIs"

    def __post_init__(self):
        _check_sqref(self.sqref)
        op = _OPERATOR_ALIASES.get(self.operator, self.operator)
        if op not in CELL_IS_OPERATORS:
            raise InputError("unknown cell-value operator", value=self.operator,
                             expected=" / ".join(sorted(CELL_IS_OPERATORS)))
        object.__setattr__(self, "operator", op)
        forms = (self.formulas,) if isinstance(self.formulas, (str, int, float)) else tuple(self.formulas)
        need = 2 if op in ("between", "notBetween") else 1
        if len(forms) != need:
            raise InputError(f"operator {op} takes {need} value(s)", value=forms)
        object.__setattr__(self, "formulas", tuple(_formula(f) for f in forms))

    def _tail(self) -> str:
        return (_stop(self) + f' operator="{self.operator}">'
                + "".join(f"<formula>{_text(f)}</formula>" for f in self.formulas) + "</cfRule>")


@dataclass(frozen=True)
class ExpressionRule:
    """Format cells where ``formula`` (relative to the range's top-left cell) is true."""

    sqref: str
    formula: str
    dxf: DxfStyle
    stop_if_true: bool = False

    _TYPE = "expression"

    def __post_init__(self):
        _check_sqref(self.sqref)

    def _tail(self) -> str:
        return _stop(self) + f">{_formula_el(self.formula)}</cfRule>"


@dataclass(frozen=True)
class Cfvo:
    """A threshold: ``Cfvo("min")``, ``Cfvo("percent", 50)``, ``Cfvo("num", 0)``."""

    type: str
    value: float | str | None = None

    def __post_init__(self):
        if self.type not in _CFVO_TYPES:
            raise InputError("unknown threshold type", value=self.type, expected=" / ".join(sorted(_CFVO_TYPES)))

    def _text(self) -> str:
        if self.value is None:
            return f'<cfvo type="{self.type}"/>'
        return f'<cfvo type="{self.type}" val="{_attr(_formula(self.value))}"/>'


@dataclass(frozen=True)
class ColorScaleRule:
    """Two- or three-colour scale; ``colors`` pair with ``thresholds``."""

    sqref: str
    colors: tuple[str, ...] = ("#F8696B", "#FFEB84", "#63BE7B")
    thresholds: tuple[Cfvo, ...] = (Cfvo("min"), Cfvo("percentile", 50), Cfvo("max"))

    _TYPE = "colorScale"

    def __post_init__(self):
        _check_sqref(self.sqref)
        if len(self.colors) != len(self.thresholds) or len(self.colors) not in (2, 3):
            raise InputError("a colour scale needs 2 or 3 colours, one per threshold",
                             value=(len(self.colors), len(self.thresholds)))
        for c in self.colors:
            argb(c)

    def _tail(self) -> str:
        return ("><colorScale>" + "".join(t._text() for t in self.thresholds)
                + "".join(f'<color rgb="{argb(c)}"/>' for c in self.colors) + "</colorScale></cfRule>")


@dataclass(frozen=True)
class DataBarRule:
    sqref: str
    color: str = "#638EC6"
    low: Cfvo = Cfvo("min")
    high: Cfvo = Cfvo("max")
    show_value: bool = True

    _TYPE = "dataBar"

    def __post_init__(self):
        _check_sqref(self.sqref)
        argb(self.color)

    def _tail(self) -> str:
        show = "" if self.show_value else ' showValue="0"'
        return (f'><dataBar{show}>{self.low._text()}{self.high._text()}<color rgb="{argb(self.color)}"/>'
                "</dataBar></cfRule>")


@dataclass(frozen=True)
class IconSetRule:
    """Icon set such as '3Arrows' or '3TrafficLights1'; default thresholds split by percent."""

    sqref: str
    icon_set: str = "3TrafficLights1"
    thresholds: tuple[Cfvo, ...] | None = None
    reverse: bool = False
    show_value: bool = True

    _TYPE = "iconSet"

    def __post_init__(self):
        _check_sqref(self.sqref)
        if self.icon_set not in ICON_SETS:
            raise InputError("unknown icon set", value=self.icon_set, expected=" / ".join(sorted(ICON_SETS)))
        n = ICON_SETS[self.icon_set]
        if self.thresholds is None:
            object.__setattr__(self, "thresholds",
                               tuple(Cfvo("percent", round(100 * i / n)) for i in range(n)))
        elif len(self.thresholds) != n:
            raise InputError(f"icon set {self.icon_set} needs {n} thresholds", value=len(self.thresholds))

    def _tail(self) -> str:
        attrs = ("" if self.show_value else ' showValue="0"') + (' reverse="1"' if self.reverse else "")
        return (f'><iconSet iconSet="{self.icon_set}"{attrs}>' + "".join(t._text() for t in self.thresholds)
                + "</iconSet></cfRule>")


ConditionalFormat = CellIsRule | ExpressionRule | ColorScaleRule | DataBarRule | IconSetRule
_RULE_TYPES = (CellIsRule, ExpressionRule, ColorScaleRule, DataBarRule, IconSetRule)
_DXF_TYPES = (CellIsRule, ExpressionRule)


def _stop(rule) -> str:
    return ' stopIfTrue="1"' if rule.stop_if_true else ""


def _formula_el(formula) -> str:
    return f"<formula>{_text(_formula(formula))}</formula>"


def _text(text: str) -> str:
    """Element text as lxml writes it: & < > and a carriage return escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _attr(text: str) -> str:
    """Attribute text as lxml writes it: & < > " and tab, line feed, carriage return escaped."""
    return _text(text).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")


#: a rule -> the text after its priority (rules are frozen, and fill's rule factories return the
#: same objects for every workbook, so a batch writes each rule's text once)
_TAILS = caching.Cache("rules.tails", 4096, identity=True)


def conditional_formatting_text(rules, styles: StylesPart, first_priority: int) -> str:
    """One ``<conditionalFormatting>`` per distinct sqref (in order of first use), the rules in the
    given order with priorities from ``first_priority``; written without namespace declarations."""
    groups: dict[str, list[str]] = {}
    for i, rule in enumerate(rules):
        if type(rule) not in _RULE_TYPES:
            raise InputError("not a conditional-format rule", value=type(rule).__name__,
                             expected="CellIsRule, ExpressionRule, ColorScaleRule, DataBarRule or IconSetRule")
        tail = _TAILS.get(rule)
        if tail is None:
            tail = _TAILS.put(rule, rule._tail())
        dxf = f' dxfId="{styles.dxf_index(rule.dxf)}"' if type(rule) in _DXF_TYPES else ""
        groups.setdefault(rule.sqref, []).append(
            f'<cfRule type="{rule._TYPE}"{dxf} priority="{first_priority + i}"{tail}')
    return "".join(f'<conditionalFormatting sqref="{_attr(sqref)}">{"".join(items)}</conditionalFormatting>'
                   for sqref, items in groups.items())


@dataclass(frozen=True)
class ListValidation:
    """A drop-down: ``choices`` (literal list) or ``source`` (a range/formula such as ``"$Z$1:$Z$5"``)."""

    sqref: str
    choices: tuple[str, ...] = ()
    source: str | None = None
    allow_blank: bool = True
    show_dropdown: bool = True
    error_title: str | None = None
    error: str | None = None
    prompt_title: str | None = None
    prompt: str | None = None
    error_style: str = "stop"

    def __post_init__(self):
        _check_sqref(self.sqref)
        object.__setattr__(self, "choices", tuple(str(c) for c in self.choices))
        if bool(self.choices) == bool(self.source):
            raise InputError("a list validation needs either choices or a source range", value=self.sqref)
        if self.choices:
            if any("," in c or '"' in c for c in self.choices):
                raise InputError("list choices may not contain ',' or '\"'", value=self.choices,
                                 expected="plain labels, or put them in cells and use source=")
            if len(",".join(self.choices)) > 255:
                raise InputError("list choices are longer than Excel's 255-character limit",
                                 value=len(",".join(self.choices)), expected="a source= range instead")
        if self.error_style not in ("stop", "warning", "information"):
            raise InputError("unknown error style", value=self.error_style, expected="stop / warning / information")

    def to_xml(self) -> etree._Element:
        el = etree.Element(q("dataValidation"), type="list")
        if self.error_style != "stop":
            el.set("errorStyle", self.error_style)
        if self.allow_blank:
            el.set("allowBlank", "1")
        if not self.show_dropdown:
            el.set("showDropDown", "1")  # sic: Excel's attribute means "hide the arrow"
        el.set("showInputMessage", "1")
        el.set("showErrorMessage", "1")
        for attr, val in (("errorTitle", self.error_title), ("error", self.error),
                          ("promptTitle", self.prompt_title), ("prompt", self.prompt)):
            if val:
                el.set(attr, val)
        el.set("sqref", self.sqref)
        f1 = etree.SubElement(el, q("formula1"))
        f1.text = '"' + ",".join(self.choices) + '"' if self.choices else _formula(self.source)
        return el


def data_validations_element(validations) -> etree._Element:
    dvs = etree.Element(q("dataValidations"), count=str(len(validations)))
    for v in validations:
        if not isinstance(v, ListValidation):
            raise InputError("not a data validation", value=type(v).__name__, expected="ListValidation")
        dvs.append(v.to_xml())
    return dvs


__all__ = ["CellIsRule", "ExpressionRule", "ColorScaleRule", "DataBarRule", "IconSetRule", "Cfvo",
           "ListValidation", "ConditionalFormat"]
