"""Closed loop: every red KPI needs a cause with evidence and an action; green ones a lesson."""
from __future__ import annotations

import re

import pandas as pd

from ._common import require_frame, text

COLUMNS = ["unit", "kpi", "name", "status", "missing", "severity", "detail"]
PROBLEM_KINDS = {"problem", "问题", "原因", "cause", "issue", ""}
SUCCESS_KINDS = {"success", "成功", "经验", "亮点", "lesson"}
_DIGIT = re.compile(r"\d")


def _norm(df: pd.DataFrame | None, table: str, required: list[str], optional: list[str]):
    if df is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in required + optional})
    require_frame(df, table, required)
    out = df.copy()
    for c in required + optional:
        out[c] = out[c].map(text).astype(object) if c in out.columns else ""
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
    c = _norm(causes, "causes", ["kpi"], ["unit", "kind", "cause", "evidence", "action", "owner",
                                          "due"])
    a = _norm(actions, "actions", ["kpi"], ["unit", "item", "measure", "owner", "due", "status"])
    c["kind"] = c["kind"].str.lower()
    rows = []
    names = compared["name"] if "name" in compared.columns else compared["kpi"]
    for (unit, kpi, status), name in zip(compared[["unit", "kpi", "status"]].itertuples(
            index=False, name=None), names):
        mine_c = c[(c["kpi"] == kpi) & ((c["unit"] == "") | (c["unit"] == unit))]
        mine_a = a[(a["kpi"] == kpi) & ((a["unit"] == "") | (a["unit"] == unit))]

        def gap(missing, detail, severity="error"):
            rows.append(dict(unit=unit, kpi=kpi, name=name, status=status, missing=missing,
                             severity=severity, detail=detail))

        if status == "red" or (check_amber and status == "amber"):
            problems = mine_c[mine_c["kind"].isin(PROBLEM_KINDS) & (mine_c["cause"] != "")]
            if problems.empty:
                gap("cause", f"{status} KPI without a cause: say why it missed the target")
            elif not problems["evidence"].map(lambda e: bool(_DIGIT.search(e))).any():
                gap("evidence", "the cause has no evidence with a number (e.g. '40% of lost "
                                "customers moved to a cheaper product')")
            acts = [(o, d) for act, o, d in zip(problems["action"], problems["owner"],
                                               problems["due"]) if act]
            acts += [(o, d) for item, meas, o, d in zip(mine_a["item"], mine_a["measure"],
                                                        mine_a["owner"], mine_a["due"])
                     if item or meas]
            if not acts:
                gap("action", f"{status} KPI without an action (what will be done, by whom, when)")
            else:
                if not any(o for o, _ in acts):
                    gap("owner", "the action has no owner")
                if not any(d for _, d in acts):
                    gap("due", "the action has no due date")
        elif status == "green":
            wins = mine_c[mine_c["kind"].isin(SUCCESS_KINDS) & (mine_c["cause"] != "")]
            if wins.empty:
                gap("success_note", "met KPI without a note of what worked, so it can be "
                                    "repeated", severity="warning")
    return pd.DataFrame(rows, columns=COLUMNS)
