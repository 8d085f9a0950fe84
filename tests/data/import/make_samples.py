"""Write the sample exports in this folder, in the shapes the tools produce (run it to regenerate).

* ``feishu_bitable_tasks.json`` — a 飞书 多维表格 (Bitable) list-records API response saved to a file:
  ``data.items[].fields`` with person fields as lists of objects with ``name``, dates as millisecond
  timestamps (midnight in China), single and multi select, progress as a fraction, rich text.
* ``feishu_bitable_tasks.xlsx`` — the same table exported from 飞书 as .xlsx (dates as date cells,
  people and options as text, progress as a % cell).
* ``dingtalk_tasks.xlsx`` — a 钉钉 / Teambition project task export: a title row above the header,
  datetimes as text, 任务状态 in the tool's words (未完成 / 已完成 / 已延期).
* ``erp_sales_gbk.csv`` — a sales detail export from a Chinese ERP: GBK encoded, comma separated,
  amounts with thousands separators, dates in several spellings, a 万 and an accounting negative.
* ``scorecard_utf8bom.csv`` — departmental targets and actuals: UTF-8 with BOM, ``;`` separated.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
CST = dt.timezone(dt.timedelta(hours=8))

TASKS = [  # id, name, owner, start, due, done, progress, state, tags
    ("T-001", "优化线上渠道投放", "张伟", "2025-07-01", "2025-07-31", "2025-08-03", 1.0, "已完成", ["华东", "渠道"]),
    ("T-002", "制造业大客户回访", "李娜", "2025-07-01", "2025-08-15", None, 0.6, "进行中", ["华东"]),
    ("T-003", "续约价格方案", "王芳", "2025-07-15", "2025-09-30", None, 0.25, "已延期", ["华南", "续约"]),
    ("T-004", "交付排期优化", "刘洋", "2025-08-01", "2025-08-31", None, 0.0, "未开始", []),
    ("T-005", "双11备货计划", "陈静", "2025-09-01", "2025-10-20", None, 0.4, "进行中", ["大促"]),
    ("T-006", "新品上市培训", "张伟", "2025-06-01", "2025-06-30", "2025-06-28", 1.0, "已完成", ["培训"]),
]
PEOPLE = {"张伟": "ou_3f1c", "李娜": "ou_8a2d", "王芳": "ou_52e7", "刘洋": "ou_a91b", "陈静": "ou_c4d0"}


def ms(day: str | None) -> int | None:
    if day is None:
        return None
    d = dt.date.fromisoformat(day)
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=CST).timestamp() * 1000)


def bitable_json() -> dict:
    items = []
    for i, (tid, name, owner, start, due, done, progress, state, tags) in enumerate(TASKS):
        fields = {
            "任务编号": tid,
            "任务名称": [{"text": name, "type": "text"}] if i % 2 else name,  # rich text or plain, both occur
            "负责人": [{"id": PEOPLE[owner], "name": owner, "en_name": "", "email": ""}],
            "开始日期": ms(start),
            "截止日期": ms(due),
            "进度": progress,
            "状态": state,
            "标签": tags,
        }
        if done is not None:
            fields["实际完成日期"] = ms(done)
        items.append({"record_id": f"recv{1000 + i}", "fields": fields})
    return {"code": 0, "msg": "success",
            "data": {"has_more": False, "page_token": "", "total": len(items), "items": items}}


def bitable_xlsx(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    wb.set_properties({"created": dt.datetime(2025, 9, 1)})
    ws = wb.add_worksheet("数据表")
    date = wb.add_format({"num_format": "yyyy/mm/dd"})
    pct = wb.add_format({"num_format": "0%"})
    headers = ["任务编号", "任务名称", "负责人", "开始日期", "截止日期", "进度", "状态", "标签", "实际完成日期"]
    ws.write_row(0, 0, headers)
    for r, (tid, name, owner, start, due, done, progress, state, tags) in enumerate(TASKS, start=1):
        ws.write_string(r, 0, tid)
        ws.write_string(r, 1, name)
        ws.write_string(r, 2, owner)
        ws.write_datetime(r, 3, dt.datetime.fromisoformat(start), date)
        ws.write_datetime(r, 4, dt.datetime.fromisoformat(due), date)
        ws.write_number(r, 5, progress, pct)
        ws.write_string(r, 6, state)
        ws.write_string(r, 7, ",".join(tags))
        if done:
            ws.write_datetime(r, 8, dt.datetime.fromisoformat(done), date)
    wb.close()


def dingtalk_xlsx(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    wb.set_properties({"created": dt.datetime(2025, 9, 1)})
    ws = wb.add_worksheet("任务列表")
    ws.write_string(0, 0, "项目：华东区域改进行动 导出时间：2025-09-01 10:00")
    headers = ["任务ID", "标题", "执行者", "开始时间", "截止时间", "完成时间", "任务状态", "优先级", "备注"]
    ws.write_row(1, 0, headers)
    rows = [
        ("61a0f1", "制造业客户流失回访", "李娜", "2025-07-01 09:00", "2025-08-15 18:00", "", "未完成", "紧急", "首批20家"),
        ("61a0f2", "小型互联网客户价格方案", "王芳", "2025-07-15 09:00", "2025-09-30 18:00", "", "已延期", "普通", ""),
        ("61a0f3", "交付资源扩充", "刘洋", "2025-07-01 09:00", "2025-07-31 18:00", "2025-07-30 17:20", "已完成", "普通", ""),
        ("61a0f4", "续约提醒自动化", "陈静", "2025-08-01 09:00", "2025-10-31 18:00", "", "未完成", "较低", "需IT支持"),
    ]
    for r, row in enumerate(rows, start=2):
        ws.write_row(r, 0, row)
    wb.close()


def erp_csv(path: Path) -> None:
    lines = ["单据日期,销售部门,客户名称,行业,客户规模,产品线,价税合计,数量"]
    rows = [
        ("2025-01-15", "华东", "苏州精工", "制造业", "大型", "标准版", '"1,280,000.00"', "32"),
        ("2025/1/20", "华东", "杭州云帆", "互联网", "小型", "专业版", '"86,500.00"', "5"),
        ("2025.2.3", "华南", "深圳智造", "制造业", "中型", "标准版", '"452,000.00"', "12"),
        ("2025年2月18日", "华南", "广州优选", "零售", "小型", "专业版", "12.5万", "3"),
        ("2025-03-05", "华北", "北京数科", "互联网", "大型", "旗舰版", '"2,150,000.00"', "40"),
        ("2025-03-21", "华北", "天津重工", "制造业", "大型", "标准版", "\"(35,000.00)\"", "-1"),
        ("20250402", "西南", "成都美食汇", "零售", "中型", "专业版", "318000", "8"),
        ("45772", "西南", "重庆物联", "互联网", "小型", "标准版", "64000.5", "2"),
    ]
    for row in rows:
        lines.append(",".join(row))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))


def scorecard_csv(path: Path) -> None:
    lines = ["部门;指标代码;目标;实际;去年", "华东;revenue;1200万;1080万;960万", "华南;revenue;900万;945万;850万",
             "华东;new_customers;500;420;380", "华南;new_customers;300;315;290"]
    path.write_bytes(("\ufeff" + "\n".join(lines) + "\n").encode("utf-8"))


def main() -> None:
    (HERE / "feishu_bitable_tasks.json").write_text(json.dumps(bitable_json(), ensure_ascii=False, indent=1) + "\n",
                                                   encoding="utf-8")
    bitable_xlsx(HERE / "feishu_bitable_tasks.xlsx")
    dingtalk_xlsx(HERE / "dingtalk_tasks.xlsx")
    erp_csv(HERE / "erp_sales_gbk.csv")
    scorecard_csv(HERE / "scorecard_utf8bom.csv")


if __name__ == "__main__":
    main()
