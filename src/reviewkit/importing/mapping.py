"""Which source column goes into which column of a table: ``--map`` first, then the mapping
saved in the Settings table, the model's headers and synonyms, and the words the tools' exports
use (``TOOL_WORDS``); for Facts, any other column is a dimension or a measure of its own.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .. import model
from ..errors import InputError


#: the words 飞书 / 钉钉 / Teambition / ERP exports use for the tables' columns (beyond model synonyms)
TOOL_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "Plan": {
        "task_id": ("任务编号", "任务ID", "编号", "序号", "任务id"),
        "task": ("任务名称", "任务标题", "标题", "任务", "事项", "名称"),
        "owner": ("负责人", "执行人", "执行者", "处理人", "经办人", "任务负责人"),
        "start": ("开始日期", "开始时间", "计划开始时间", "计划开始日期"),
        "end": ("截止日期", "截止时间", "到期时间", "到期日", "计划完成时间", "结束时间"),
        "goal": ("所属目标", "目标", "项目", "所属项目"),
        "acceptance": ("验收标准", "交付物", "完成标准"),
    },
    "Progress": {
        "task_id": ("任务编号", "任务ID", "编号", "序号", "任务id"),
        "milestone": ("任务名称", "任务标题", "标题", "任务", "节点名称"),
        "planned_start": ("开始日期", "开始时间", "计划开始时间"),
        "planned_date": ("截止日期", "截止时间", "到期时间", "到期日", "计划完成时间", "计划结束日期"),
        "actual_date": ("完成时间", "完成日期", "实际完成时间", "实际结束日期"),
        "pct_complete": ("进度", "完成进度", "完成百分比", "进度百分比"),
        "owner": ("负责人", "执行人", "执行者", "处理人", "经办人"),
        "problem": ("风险与问题", "问题描述", "阻塞原因"),
    },
    "Actions": {
        "item": ("任务名称", "任务标题", "标题", "事项", "改进项"),
        "measure": ("任务描述", "描述", "具体内容"),
        "owner": ("负责人", "执行人", "执行者", "处理人"),
        "due": ("截止日期", "截止时间", "到期时间", "到期日"),
        "status": ("状态", "任务状态", "完成状态"),
    },
    "Scorecard": {
        "unit": ("部门名称", "销售部门", "大区", "区域名称", "组织"),
        "kpi": ("指标编码", "KPI编码"),
        "target": ("目标额", "任务额", "指标值", "考核目标"),
        "actual": ("完成额", "实际完成", "实际额", "达成值"),
        "last_year": ("去年实际", "上年实际", "同期"),
    },
    "Facts": {
        "period": ("单据日期", "订单日期", "业务日期", "开票日期", "会计期间", "下单时间", "签约日期"),
        "unit": ("部门名称", "销售部门", "大区", "区域名称", "组织", "销售组织"),
    },
}


#: the Settings entry holding a table's saved header mapping: "导入映射:Facts" = "来源列=key; …"
MAP_SETTING = {"zh": "导入映射:{table}", "en": "Import map:{table}"}
MAP_SETTING_RE = re.compile(r"^\s*(?:导入映射|import\s*map)\s*[:：]\s*(\w+)\s*$", re.IGNORECASE)


@dataclass
class Mapping:
    columns: dict[int, str]  # source column → canonical key, or a Facts column name
    how: dict[int, str]  # source column → 'map' / 'saved' / 'header' / 'tool' / 'new' / 'existing'
    unmapped: list[tuple[str, str | None]]  # (source header, suggested key)
    ignored: list[str]


def parse_map(text: str | None) -> dict[str, str]:
    """``"来源列=key, 来源列2=key2"`` (``,``, ``;`` or ``，`` between pairs) → {source header: target}."""
    out: dict[str, str] = {}
    for pair in re.split(r"[;,，；\n]", text or ""):
        if not pair.strip():
            continue
        src, sep, dst = pair.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise InputError("a mapping pair is not 'source column=key'", value=pair.strip(),
                             expected="--map \"来源列=key,来源列2=key2\" (key '-' ignores a column)")
        out[src.strip()] = dst.strip()
    return out


def _spec_key(spec: model.TableSpec, name: str) -> str | None:
    """A canonical key of ``spec`` named by its key, header or synonym."""
    found, _ = model.match_headers(spec, [name])
    key = next(iter(found), None)
    if key is not None and not spec.column(key).computed:
        return key
    return None


def map_headers(spec: model.TableSpec, headers: list[str], user: dict[str, str], saved: dict[str, str],
                existing: list[str]) -> Mapping:
    """Each source column's target: ``user`` (--map), then the saved mapping, the model's headers and
    synonyms, the tools' words; for Facts any other column is a dimension or measure of its own."""
    norm = model.normalize_header
    user_n = {norm(k): v for k, v in user.items()}
    saved_n = {norm(k): v for k, v in saved.items()}
    unknown = [k for k in user if norm(k) not in {norm(h) for h in headers}]
    if unknown:
        raise InputError("--map names a column the source does not have", value=unknown[0],
                         expected="one of " + ", ".join(repr(h) for h in headers if h))
    columns: dict[int, str] = {}
    how: dict[int, str] = {}
    ignored: list[str] = []
    taken: set[str] = set()
    existing_n = {norm(e): e for e in existing}
    # explicit choices first, so they win over anything guessed
    for stage, table in (("map", user_n), ("saved", saved_n)):
        for j, h in enumerate(headers):
            if j in columns or h in ignored or norm(h) not in table:
                continue
            target = table[norm(h)]
            if target == "-":
                ignored.append(h)
                continue
            key = _spec_key(spec, target)
            if key is None and not spec.open_columns:
                raise InputError(f"--map names no column of table '{spec.name}'", value=f"{h}={target}",
                                 expected="one of " + ", ".join(c.key for c in spec.input_columns))
            target = key or existing_n.get(norm(target), target)
            if target in taken:
                raise InputError("two source columns are mapped to one column", value=target,
                                 expected="each column mapped once")
            columns[j], how[j] = target, stage
            taken.add(target)
    tools = {norm(w): k for k, words in TOOL_WORDS.get(spec.name, {}).items() for w in words}
    for j, h in enumerate(headers):
        if j in columns or h in ignored or not str(h).strip():
            continue
        key = _spec_key(spec, h)
        if key is None:
            bare = re.sub(r"[（(\[【].*?[）)\]】]", "", h)
            key = _spec_key(spec, bare) if bare.strip() and bare != h else None
        stage = "header"
        if key is None and norm(h) in tools:
            key, stage = tools[norm(h)], "tool"
        if key is not None and key not in taken:
            columns[j], how[j] = key, stage
            taken.add(key)
    unmapped: list[tuple[str, str | None]] = []
    for j, h in enumerate(headers):
        if j in columns or h in ignored or not str(h).strip():
            continue
        if spec.open_columns:
            name = existing_n.get(norm(h), h.strip())
            if name in taken or _spec_key(spec, h) is not None:
                unmapped.append((h, None))  # a second column for a key already filled
                continue
            columns[j], how[j] = name, "existing" if norm(h) in existing_n else "new"
            taken.add(name)
        else:
            unmapped.append((h, _suggest(spec, h, taken)))
    return Mapping(columns, how, unmapped, ignored)


def _suggest(spec: model.TableSpec, header: str, taken: set[str]) -> str | None:
    norm = model.normalize_header
    words: dict[str, str] = {}
    for c in spec.input_columns:
        if c.key in taken:
            continue
        for w in (c.key, c.zh, c.en, *c.synonyms, *TOOL_WORDS.get(spec.name, {}).get(c.key, ())):
            words.setdefault(norm(w), c.key)
    h = norm(header)
    for w, k in words.items():  # '计划完成日期(新)' contains '计划完成日期'
        if len(w) >= 2 and (w in h or (len(h) >= 2 and h in w)):
            return k
    close = difflib.get_close_matches(h, list(words), n=1, cutoff=0.6)
    return words[close[0]] if close else None
