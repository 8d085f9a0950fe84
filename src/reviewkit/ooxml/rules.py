"""Conditional-formatting rules and data validations as small frozen specs, rendered to XML.

Each spec names the range it applies to (``sqref``, e.g. ``"H5:H200"``). The worksheet editor
drops the rules it owns and appends these; the builder renders them into owned sheets.
"""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

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

    def to_xml(self, styles: StylesPart, priority: int) -> etree._Element:
        el = etree.Element(q("cfRule"), type="cellIs", dxfId=str(styles.dxf_index(self.dxf)),
                           priority=str(priority))
        if self.stop_if_true:
            el.set("stopIfTrue", "1")
        el.set("operator", self.operator)
        for f in self.formulas:
            etree.SubElement(el, q("formula")).text = f
        return el


@dataclass(frozen=True)
class ExpressionRule:
    """Format cells where ``formula`` (relative to the range's top-left cell) is true."""

    sqref: str
    formula: str
    dxf: DxfStyle
    stop_if_true: bool = False

    def __post_init__(self):
        _check_sqref(self.sqref)

    def to_xml(self, styles: StylesPart, priority: int) -> etree._Element:
        el = etree.Element(q("cfRule"), type="expression", dxfId=str(styles.dxf_index(self.dxf)),
                           priority=str(priority))
        if self.stop_if_true:
            el.set("stopIfTrue", "1")
        etree.SubElement(el, q("formula")).text = _formula(self.formula)
        return el


@dataclass(frozen=True)
class Cfvo:
    """A threshold: ``Cfvo("min")``, ``Cfvo("percent", 50)``, ``Cfvo("num", 0)``."""

    type: str
    value: float | str | None = None

    def __post_init__(self):
        if self.type not in _CFVO_TYPES:
            raise InputError("unknown threshold type", value=self.type, expected=" / ".join(sorted(_CFVO_TYPES)))

    def to_xml(self) -> etree._Element:
        el = etree.Element(q("cfvo"), type=self.type)
        if self.value is not None:
            el.set("val", _formula(self.value))
        return el


@dataclass(frozen=True)
class ColorScaleRule:
    """Two- or three-colour scale; ``colors`` pair with ``thresholds``."""

    sqref: str
    colors: tuple[str, ...] = ("#F8696B", "#FFEB84", "#63BE7B")
    thresholds: tuple[Cfvo, ...] = (Cfvo("min"), Cfvo("percentile", 50), Cfvo("max"))

    def __post_init__(self):
        _check_sqref(self.sqref)
        if len(self.colors) != len(self.thresholds) or len(self.colors) not in (2, 3):
            raise InputError("a colour scale needs 2 or 3 colours, one per threshold",
                             value=(len(self.colors), len(self.thresholds)))
        for c in self.colors:
            argb(c)

    def to_xml(self, styles: StylesPart, priority: int) -> etree._Element:
        el = etree.Element(q("cfRule"), type="colorScale", priority=str(priority))
        cs = etree.SubElement(el, q("colorScale"))
        for t in self.thresholds:
            cs.append(t.to_xml())
        for c in self.colors:
            etree.SubElement(cs, q("color"), rgb=argb(c))
        return el


@dataclass(frozen=True)
class DataBarRule:
    sqref: str
    color: str = "#638EC6"
    low: Cfvo = Cfvo("min")
    high: Cfvo = Cfvo("max")
    show_value: bool = True

    def __post_init__(self):
        _check_sqref(self.sqref)
        argb(self.color)

    def to_xml(self, styles: StylesPart, priority: int) -> etree._Element:
        el = etree.Element(q("cfRule"), type="dataBar", priority=str(priority))
        bar = etree.SubElement(el, q("dataBar"))
        if not self.show_value:
            bar.set("showValue", "0")
        bar.append(self.low.to_xml())
        bar.append(self.high.to_xml())
        etree.SubElement(bar, q("color"), rgb=argb(self.color))
        return el


@dataclass(frozen=True)
class IconSetRule:
    """Icon set such as '3Arrows' or '3TrafficLights1'; default thresholds split by percent."""

    sqref: str
    icon_set: str = "3TrafficLights1"
    thresholds: tuple[Cfvo, ...] | None = None
    reverse: bool = False
    show_value: bool = True

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

    def to_xml(self, styles: StylesPart, priority: int) -> etree._Element:
        el = etree.Element(q("cfRule"), type="iconSet", priority=str(priority))
        icons = etree.SubElement(el, q("iconSet"), iconSet=self.icon_set)
        if not self.show_value:
            icons.set("showValue", "0")
        if self.reverse:
            icons.set("reverse", "1")
        for t in self.thresholds:
            icons.append(t.to_xml())
        return el


ConditionalFormat = CellIsRule | ExpressionRule | ColorScaleRule | DataBarRule | IconSetRule


def conditional_formatting_elements(rules, styles: StylesPart, first_priority: int) -> list[etree._Element]:
    """One <conditionalFormatting> per distinct sqref, rules in the given order and priority."""
    out: dict[str, etree._Element] = {}
    for i, rule in enumerate(rules):
        if not hasattr(rule, "to_xml") or not hasattr(rule, "sqref"):
            raise InputError("not a conditional-format rule", value=type(rule).__name__,
                             expected="CellIsRule, ExpressionRule, ColorScaleRule, DataBarRule or IconSetRule")
        cf = out.get(rule.sqref)
        if cf is None:
            cf = out[rule.sqref] = etree.Element(q("conditionalFormatting"), sqref=rule.sqref)
        cf.append(rule.to_xml(styles, first_priority + i))
    return list(out.values())


def _plain(text: object) -> bool:
    return isinstance(text, str) and text.isprintable()


def _attr(text: str) -> str:
    """Attribute text as lxml writes it (for printable text: & < > " escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _text(text: str) -> str:
    """Element text as lxml writes it (for printable text: & < > escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cfvo_text(t: Cfvo) -> str:
    return f'<cfvo type="{t.type}"/>' if t.value is None else f'<cfvo type="{t.type}" val="{_attr(_formula(t.value))}"/>'


def _text_ok(rule) -> bool:
    """True when ``_rule_text`` writes what ``rule.to_xml`` + lxml would (plain printable text)."""
    kind = type(rule)
    if kind is CellIsRule:
        return _plain(rule.sqref) and all(_plain(f) for f in rule.formulas)
    if kind is ExpressionRule:
        return _plain(rule.sqref) and _plain(_formula(rule.formula))
    if kind is DataBarRule:
        thresholds = (rule.low, rule.high)
    elif kind is IconSetRule or kind is ColorScaleRule:
        thresholds = rule.thresholds
    else:
        return False
    return _plain(rule.sqref) and all(type(t) is Cfvo and (t.value is None or _plain(_formula(t.value)))
                                      for t in thresholds)


def _rule_text(rule, styles: StylesPart, priority: int) -> str:
    kind = type(rule)
    if kind is CellIsRule or kind is ExpressionRule:
        cell_is = kind is CellIsRule
        head = (f'<cfRule type="{"cellIs" if cell_is else "expression"}" '
                f'dxfId="{styles.dxf_index(rule.dxf)}" priority="{priority}"')
        if rule.stop_if_true:
            head += ' stopIfTrue="1"'
        if cell_is:
            head += f' operator="{rule.operator}"'
        formulas = rule.formulas if cell_is else (_formula(rule.formula),)
        return head + ">" + "".join(f"<formula>{_text(f)}</formula>" for f in formulas) + "</cfRule>"
    if kind is DataBarRule:
        show = "" if rule.show_value else ' showValue="0"'
        return (f'<cfRule type="dataBar" priority="{priority}"><dataBar{show}>{_cfvo_text(rule.low)}'
                f'{_cfvo_text(rule.high)}<color rgb="{argb(rule.color)}"/></dataBar></cfRule>')
    if kind is IconSetRule:
        attrs = (f' iconSet="{rule.icon_set}"' + ("" if rule.show_value else ' showValue="0"')
                 + (' reverse="1"' if rule.reverse else ""))
        return (f'<cfRule type="iconSet" priority="{priority}"><iconSet{attrs}>'
                + "".join(_cfvo_text(t) for t in rule.thresholds) + "</iconSet></cfRule>")
    return (f'<cfRule type="colorScale" priority="{priority}"><colorScale>'
            + "".join(_cfvo_text(t) for t in rule.thresholds)
            + "".join(f'<color rgb="{argb(c)}"/>' for c in rule.colors) + "</colorScale></cfRule>")


#: id(rule) -> (rule, _text_ok(rule), its text split around dxfId and priority, see _rule_parts).
#: Rules are frozen values and fill builds them through caches, so the same objects recur in
#: every workbook; the entry keeps its rule alive, so the id cannot be reused meanwhile.
_RULE_PARTS: dict[int, tuple] = {}


def _rule_parts(rule) -> tuple:
    found = _RULE_PARTS.get(id(rule))
    if found is not None and found[0] is rule:
        return found
    ok = _text_ok(rule)
    head = tail = None
    if ok:
        # the text for dxfId 0 / priority 0, cut where those two go (they come in that order)
        kind = type(rule)
        if kind is CellIsRule or kind is ExpressionRule:
            head, tail = _rule_text(rule, _NO_DXF, 0).split(' dxfId="0" priority="0"', 1)
            head += ' dxfId="'
        else:
            head, tail = _rule_text(rule, _NO_DXF, 0).split(' priority="0"', 1)
    if len(_RULE_PARTS) >= 4096:
        _RULE_PARTS.clear()
    found = _RULE_PARTS[id(rule)] = (rule, ok, head, tail)
    return found


class _NoDxf:
    """Stands in for StylesPart when a rule's text is cut into parts: every dxf is 0."""

    @staticmethod
    def dxf_index(style) -> int:
        return 0


_NO_DXF = _NoDxf()


def conditional_formatting_text(rules, styles: StylesPart, first_priority: int) -> str | None:
    """``conditional_formatting_elements`` serialized (without namespace declarations), written
    as text without building lxml elements; None, before any dxf is added, when a rule needs
    the element path (another kind, or text lxml would escape differently or refuse)."""
    parts = [_rule_parts(rule) for rule in rules]
    if not all(p[1] for p in parts):
        return None
    groups: dict[str, list[str]] = {}
    for i, (rule, _ok, head, tail) in enumerate(parts):
        if hasattr(rule, "dxf"):
            text = f'{head}{styles.dxf_index(rule.dxf)}" priority="{first_priority + i}"{tail}'
        else:
            text = f'{head} priority="{first_priority + i}"{tail}'
        groups.setdefault(rule.sqref, []).append(text)
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
