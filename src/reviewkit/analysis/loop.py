"""Closed loop: every red KPI needs a cause with evidence and an action; green ones a lesson."""
from __future__ import annotations

import re
from collections import defaultdict

import pandas as pd

from ._common import arrays_of, frame_of, require_frame, text, text_array

COLUMNS = ["unit", "kpi", "name", "status", "missing", "severity", "detail"]
PROBLEM_KINDS = {"problem", "问题", "原因", "cause", "issue", ""}
SUCCESS_KINDS = {"success", "成功", "经验", "亮点", "lesson"}
_DIGIT = re.compile(r"\d")


def _records(df: pd.DataFrame | None, table: str, required: list[str],
             optional: list[str]) -> dict[str, list[dict]]:
    """Rows of ``df`` as dicts of stripped texts (blank = ''), grouped by KPI key."""
    out: dict[str, list[dict]] = defaultdict(list)
    if df is None:
        return out
    require_frame(df, table, required)
    names = required + optional
    arrays = arrays_of(df)
    cols = [[text(v) for v in arrays[c].tolist()] if c in arrays else [""] * len(df) for c in names]
    for vals in zip(*cols):
        r = dict(zip(names, vals))
        out[r["kpi"]].append(r)
    return out


def closed_loop(compared: pd.DataFrame, causes: pd.DataFrame | None,
                actions: pd.DataFrame | None = None, *, check_amber: bool = False) -> pd.DataFrame:
    """List what the review is missing, one row per gap.

    * red KPI (and amber with ``check_amber``): a problem cause ("cause"), evidence holding a
      number ("evidence" — "maybe" is not evidence), an action in ``causes.action`` or in the
      ``actions`` table ("action"), and for that action an owner ("owner") and a due date
      ("due"). severity "error".
    * green KPI: a success note, i.e. a cause of kind "success" ("success_note"). severity
      "warning".

    Causes or actions with a blank unit apply to every unit of their KPI. Kinds accept
    problem/问题/原因 and success/成功/经验/亮点 (blank = problem).
    """
    require_frame(compared, "compared", ["unit", "kpi", "status"])
    causes_by_kpi = _records(causes, "causes", ["kpi"], ["unit", "kind", "cause", "evidence", "action",
                                                         "owner", "due"])
    actions_by_kpi = _records(actions, "actions", ["kpi"], ["unit", "item", "measure", "owner", "due",
                                                            "status"])
    rows = []
    cc = arrays_of(compared)
    names = cc["name"] if "name" in cc else cc["kpi"]
    for unit, kpi, status, name in zip(cc["unit"].tolist(), cc["kpi"].tolist(),
                                       cc["status"].tolist(), names.tolist()):
        mine_c = [r for r in causes_by_kpi.get(kpi, ()) if r["unit"] == "" or r["unit"] == unit]
        mine_a = [r for r in actions_by_kpi.get(kpi, ()) if r["unit"] == "" or r["unit"] == unit]

        def gap(missing, detail, severity="error"):
            rows.append(dict(unit=unit, kpi=kpi, name=name, status=status, missing=missing,
                             severity=severity, detail=detail))

        if status == "red" or (check_amber and status == "amber"):
            problems = [r for r in mine_c if r["kind"].lower() in PROBLEM_KINDS and r["cause"] != ""]
            if not problems:
                gap("cause", f"{status} KPI without a cause: say why it missed the target")
            elif not any(_DIGIT.search(r["evidence"]) for r in problems):
                gap("evidence", "the cause has no evidence with a number (e.g. '40% of lost "
                                "customers moved to a cheaper product')")
            acts = [(r["owner"], r["due"]) for r in problems if r["action"]]
            acts += [(r["owner"], r["due"]) for r in mine_a if r["item"] or r["measure"]]
            if not acts:
                gap("action", f"{status} KPI without an action (what will be done, by whom, when)")
            else:
                if not any(o for o, _ in acts):
                    gap("owner", "the action has no owner")
                if not any(d for _, d in acts):
                    gap("due", "the action has no due date")
        elif status == "green":
            wins = [r for r in mine_c if r["kind"].lower() in SUCCESS_KINDS and r["cause"] != ""]
            if not wins:
                gap("success_note", "met KPI without a note of what worked, so it can be "
                                    "repeated", severity="warning")
    if rows and all(isinstance(v, str) for r in rows for v in r.values()):
        # all text: the str columns pandas would infer from the records, built directly
        return frame_of({c: text_array([r[c] for r in rows]) for c in COLUMNS}, len(rows))
    return pd.DataFrame(rows, columns=COLUMNS)
