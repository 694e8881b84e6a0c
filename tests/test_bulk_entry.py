"""Bulk entry with Excel: the sheet of a unit's indicators for one period, filled in and uploaded,
checked as a whole and stored all-or-nothing, with Chinese messages that name the row."""
from __future__ import annotations

import http.client
import io
import os
import re
import subprocess
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from sqlmodel import Session, select

from bulkgen import BILLION_LAUGHS, EXTERNAL_ENTITY, HEAD, MAIN, number_rows, text_row, unpacked_size, xlsx
from conftest import PASSWORD, PROJECT_B, SECRET_KEY, UNIT_A, add_user, csrf_token, signed_in, text_of
from importers.bulk import read_sheets
from importers.sandbox import run_untrusted
from models.actual import Actual, Spending
from test_mailer import free_port
from test_views_actuals import indicator_id, record, stored, today_is  # noqa: F401 (fixture)
from views.bulk import ACTUAL_COLUMNS, SPENDING_COLUMNS


@pytest.fixture
def manager(seeded, personas, today_is):  # noqa: F811
    return signed_in(seeded, personas.manager_a)


def sheet(client, **args):
    response = client.get("/bulk.xlsx", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return load_workbook(io.BytesIO(response.data))


def header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def fill(book, level3: str, **values):
    """Type into the row of that indicator, as a person does in Excel."""
    ws = book["实际值"]
    columns = header(ws)
    for row in ws.iter_rows(min_row=2):
        if row[columns.index("三级指标")].value == level3:
            for name, value in values.items():
                row[columns.index(name)].value = value
            return row[0].row
    raise AssertionError(level3)


def fill_spending(book, project: str, amount, unit="元", note=None):
    ws = book["预算支出"]
    columns = header(ws)
    for row in ws.iter_rows(min_row=2):
        if row[columns.index("项目")].value == project:
            row[columns.index("累计支出")].value = amount
            row[columns.index("单位")].value = unit
            if note is not None:
                row[columns.index("说明")].value = note
            return row[0].row
    raise AssertionError(project)


def send(client, book):
    out = io.BytesIO()
    book.save(out)
    return post_file(client, out.getvalue())


def post_file(client, content: bytes, name: str = "填好的表.xlsx"):
    """The upload form of the bulk page, as a browser sends it."""
    return client.post("/bulk", data={"csrf_token": csrf_token(client, "/bulk"), "period": "2023-07",
                                      "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def refusal(response) -> str:
    assert response.status_code == 422, response.status_code
    return text_of(response.get_data(as_text=True))


def count(app, model) -> int:
    with Session(app.extensions["engine"]) as session:
        return len(session.exec(select(model)).all())


def test_the_sheet_lists_the_units_annual_indicators_and_budgets_for_the_period(seeded, manager):
    record(manager, seeded, "参展企业数量", value="35")
    response = manager.get("/bulk.xlsx", query_string={"year": 2023, "period": "2023-07"})
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["实际值", "预算支出", "说明"]
    ws = book["实际值"]
    assert header(ws) == ["指标ID", "期间", "版本", "项目", "一级指标", "二级指标", "三级指标", "指标值", "计量方式",
                          "目标单位", "当前值", "实际值", "单位", "完成情况", "全年预计", "偏差原因", "偏差说明", "完成可能性",
                          "备注", "超额原因"]
    assert ws.max_row - 1 == 14 + 7 + 6
    assert ws.column_dimensions["A"].hidden and ws.column_dimensions["C"].hidden
    first = [c.value for c in ws[2]]
    assert first[1:11] == ["2023-07", 1, "招商引资专项经费", "产出指标", "数量指标", "参展企业数量", "≥70家", "累计", "家", "35家"]
    assert first[11:] == [None] * 9
    validations = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert '"达成,部分达成,未达成"' in validations.values() and '"确定能,有可能,完全不可能"' in validations.values()
    assert '"万元,元,亿元"' in validations.values()                 # 业务成本's units
    assert [r[3] for r in book["预算支出"].iter_rows(min_row=2, values_only=True)] == [
        "招商引资专项经费", "招商引资业务经费", "网络运行维护费"]
    assert PROJECT_B not in str([c.value for row in ws.iter_rows() for c in row])


def test_a_filled_sheet_is_stored_and_empty_rows_are_skipped(seeded, manager):
    book = sheet(manager, year=2023, period="2023-07")
    fill(book, "参展企业数量", 实际值=35)
    fill(book, "参展面积", 实际值=200, 偏差原因="经费保障，其他", 偏差说明="档期推迟", 全年预计=480, 完成可能性="有可能")
    fill(book, "业务成本", 实际值="2,500", 单位="万元", 偏差原因="经费保障")
    fill(book, "保障招商活动开展", 完成情况="达成", 备注="按计划开展")
    fill_spending(book, "招商引资专项经费", 1500, "万元")
    response = send(manager, book)
    assert response.status_code == 303, text_of(response.get_data(as_text=True))
    assert "已保存2023年7月的4项实际值和1项支出。" in text_of(manager.get(response.headers["Location"]).get_data(as_text=True))
    assert stored(seeded, "参展企业数量").light == "green"
    area = stored(seeded, "参展面积")
    assert (area.light, area.deviation_reasons, area.forecast, area.likelihood) == (
        "yellow", ["经费保障", "其他"], Decimal(480), "有可能")
    assert stored(seeded, "业务成本").value == Decimal(2500) and stored(seeded, "业务成本").unit == "万元"
    assert stored(seeded, "保障招商活动开展", project="招商引资业务经费").assessment == "达成"
    assert count(seeded, Actual) == 4
    with Session(seeded.extensions["engine"]) as session:
        assert session.exec(select(Spending)).one().amount_yuan == Decimal(15_000_000)


def validation_of(ws, coordinate: str):
    """The data validation Excel applies to that cell (None: none)."""
    return next((dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref), None)


def test_a_qualitative_forecast_is_chosen_from_a_list_and_stored_from_the_sheet(seeded, manager):
    book = sheet(manager, year=2023, period="2023-07")
    column = get_column_letter(ACTUAL_COLUMNS.index("全年预计") + 1)
    qualitative = fill(book, "保障招商活动开展", 完成情况="部分达成", 全年预计="达成", 偏差原因="人员保障")
    cost = fill(book, "业务成本", 实际值=2500, 单位="万元", 全年预计=3600, 偏差原因="经费保障")
    ws = book["实际值"]
    listed = validation_of(ws, f"{column}{qualitative}")
    assert (listed.type, listed.formula1) == ("list", '"达成,部分达成,未达成"')
    number = validation_of(ws, f"{column}{cost}")
    assert (number.type, number.operator, number.formula1) == ("decimal", "greaterThanOrEqual", "0")
    assert "单位同“单位”列" in number.prompt
    readme = " ".join(str(c.value) for row in book["说明"].iter_rows() for c in row if c.value)
    assert "定性指标选择达成、部分达成、未达成" in readme
    response = send(manager, book)
    assert response.status_code == 303, text_of(response.get_data(as_text=True))
    actual = stored(seeded, "保障招商活动开展", project="招商引资业务经费")
    assert (actual.assessment, actual.forecast_assessment, actual.forecast) == ("部分达成", "达成", None)
    cost_actual = stored(seeded, "业务成本")
    assert (cost_actual.forecast, cost_actual.unit, cost_actual.forecast_assessment) == (Decimal(3600), "万元", None)


def test_a_forecast_of_the_wrong_kind_is_a_row_error(seeded, manager):
    book = sheet(manager, year=2023, period="2023-07")
    qualitative = fill(book, "保障招商活动开展", 完成情况="达成", 全年预计=90)
    numeric = fill(book, "参展企业数量", 实际值=35, 全年预计="达成")
    response = send(manager, book)
    text = refusal(response)
    for message in (f"第 {qualitative} 行（招商引资业务经费 / 保障招商活动开展）：全年预计：定性指标的全年预计应为：达成、部分达成、未达成",
                    f"第 {numeric} 行（招商引资专项经费 / 参展企业数量）：全年预计：“达成”只用于定性指标，本指标的全年预计应为数字"):
        assert message in text, message
    assert count(seeded, Actual) == 0


def test_any_error_stores_nothing_and_every_error_names_its_row(seeded, manager):
    book = sheet(manager, year=2023, period="2023-07")
    fill(book, "参展企业数量", 实际值=35)                                       # fine on its own
    area = fill(book, "参展面积", 实际值=200)
    letters = fill(book, "参加活动场次", 实际值="abc")
    unit = fill(book, "国内开展活动场次", 实际值=2, 单位="人次")
    negative = fill(book, "公众号发布消息数量", 实际值=-3)
    assessment = fill(book, "保障招商活动开展", 完成情况="还行")
    spending = fill_spending(book, "招商引资专项经费", "很多")
    response = send(manager, book)
    assert response.status_code == 422
    text = text_of(response.get_data(as_text=True))
    assert "没有保存任何内容：共 6 处错误" in text
    for message in (f"第 {area} 行（招商引资专项经费 / 参展面积）：当前为黄灯，请填写偏差原因",
                    f"第 {letters} 行（招商引资专项经费 / 参加活动场次）：实际值：“abc”不是有效的数字",
                    f"第 {unit} 行（招商引资专项经费 / 国内开展活动场次）：单位“人次”与目标单位“场”不是同一种单位",
                    f"第 {negative} 行（招商引资专项经费 / 公众号发布消息数量）：实际值不能为负数",
                    f"第 {assessment} 行（招商引资业务经费 / 保障招商活动开展）：完成情况应为：达成、部分达成、未达成",
                    f"“预算支出”表第 {spending} 行（招商引资专项经费）：支出金额不是有效的数字"):
        assert message in text, message
    assert count(seeded, Actual) == 0 and count(seeded, Spending) == 0


def test_a_lower_bulk_value_is_refused_without_a_note_and_stored_with_one(seeded, personas, manager):
    """A later lower value no longer draws a silent falling line: the row needs its 说明."""
    from test_views_actuals import spend_noted, spending_rows
    assert spend_noted(manager, personas, "1500", period="2023-06", unit="万元").status_code == 200
    book = sheet(manager, year=2023, period="2023-07")
    assert header(book["预算支出"])[-1] == "说明"
    row = fill_spending(book, "招商引资专项经费", 1200, "万元")
    text = refusal(send(manager, book))
    assert (f"“预算支出”表第 {row} 行（招商引资专项经费）：累计支出 12,000,000.00 元低于2023年6月的 15,000,000.00 元（冲减）"
            in text)
    assert set(spending_rows(seeded)) == {6}
    fill_spending(book, "招商引资专项经费", 1200, "万元", note="冲销6月误记的300万元")
    assert send(manager, book).status_code == 303
    assert spending_rows(seeded)[7].note == "冲销6月误记的300万元"
    again = sheet(manager, year=2023, period="2023-07")
    assert [r[-1] for r in again["预算支出"].iter_rows(min_row=2, values_only=True)][0] == "冲销6月误记的300万元"


def test_a_sheet_downloaded_before_the_note_column_still_uploads(seeded, manager):
    book = sheet(manager, year=2023, period="2023-07")
    book["预算支出"].delete_cols(len(SPENDING_COLUMNS))
    fill_spending(book, "招商引资专项经费", 1500, "万元")
    assert send(manager, book).status_code == 303
    assert count(seeded, Spending) == 1


def test_a_row_outside_the_users_scope_is_an_error_not_skipped(seeded, personas, manager):
    book = sheet(manager, year=2023, period="2023-07")
    row = fill(book, "参展企业数量", 实际值=35)
    book["实际值"].cell(row=row, column=1).value = indicator_id(seeded, "会议服务次数", PROJECT_B)
    response = send(manager, book)
    assert response.status_code == 422
    assert (f"第 {row} 行（招商引资专项经费 / 参展企业数量）：该指标不存在或不在您的填报范围内"
            in text_of(response.get_data(as_text=True)))
    assert count(seeded, Actual) == 0


def test_a_value_changed_since_the_download_is_reported_not_overwritten(seeded, manager):
    book = sheet(manager, year=2023, period="2023-07")
    record(manager, seeded, "参展企业数量", value="40")
    row = fill(book, "参展企业数量", 实际值=35)
    response = send(manager, book)
    assert response.status_code == 422
    assert (f"第 {row} 行（招商引资专项经费 / 参展企业数量）：该数值在您下载填报表之后已被填报人甲（tianbao）修改"
            in text_of(response.get_data(as_text=True)))
    assert stored(seeded, "参展企业数量").value == Decimal(40)


def test_the_same_sheet_uploaded_again_is_no_conflict_with_oneself(seeded, personas, manager):
    book = sheet(manager, year=2023, period="2023-07")
    fill(book, "参展企业数量", 实际值=35, 全年预计=70)
    fill(book, "参展面积", 实际值=200, 偏差原因="经费保障，其他", 偏差说明="档期推迟")
    fill(book, "保障招商活动开展", 完成情况="达成")
    fill_spending(book, "招商引资专项经费", 1500, "万元")
    assert send(manager, book).status_code == 303
    again = send(manager, book)                         # nothing changed in between
    assert again.status_code == 303, text_of(again.get_data(as_text=True))
    assert ("表中的4项与已存数据相同，未改动，没有需要保存的内容。"
            in text_of(manager.get(again.headers["Location"]).get_data(as_text=True)))
    assert stored(seeded, "参展企业数量").version == 1
    # someone else's change since: a conflict, even though it is the same sheet
    other = signed_in(seeded, add_user(seeded, "tianbao2", "manager", unit=UNIT_A, display_name="填报人乙"))
    assert record(other, seeded, "参展企业数量", value="40", version=1).status_code == 200
    refused = send(manager, book)
    assert refused.status_code == 422
    assert "该数值在您下载填报表之后已被填报人乙（tianbao2）修改" in text_of(refused.get_data(as_text=True))
    # one's own change on the page since the upload is a conflict too
    assert record(manager, seeded, "参展面积", value="210", deviation_reasons=["其他"], version=1).status_code == 200
    book["实际值"].cell(row=fill(book, "参展企业数量"), column=3).value = stored(seeded, "参展企业数量").version
    refused = text_of(send(manager, book).get_data(as_text=True))
    assert "参展面积）：该数值在您下载填报表之后已被填报人甲（tianbao）修改" in refused
    assert "参展企业数量）" not in refused and "保障招商活动开展）" not in refused


def zipped(name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("content, message", [
    (b"not a workbook", "不是 Excel（xlsx）文件"),
    ((Path(__file__).parent / "fixtures" / "seed_forms.pdf").read_bytes(), "不是 Excel（xlsx）文件"),
    (b"PK\x03\x04broken", "无法读取该 Excel 文件"),
    (zipped("word/document.xml", b"<document/>"), "无法读取该 Excel 文件"),    # a zip, not a workbook
    (xlsx({"Sheet1": text_row(["甲"])}), "不是本系统的填报表：缺少“实际值”和“预算支出”工作表"),
], ids=["text", "pdf", "broken-zip", "other-zip", "other-workbook"])
def test_a_file_that_is_not_the_sheet_is_refused(seeded, manager, content, message):
    text = refusal(post_file(manager, content, "表.xlsx"))
    assert message in text
    assert "Traceback" not in text and "Error" not in text


def test_an_empty_sheet_stores_nothing_and_says_so(seeded, manager):
    response = send(manager, sheet(manager, year=2023, period="2023-07"))
    assert response.status_code == 422
    assert "表中没有填写任何实际值或支出" in text_of(response.get_data(as_text=True))


def test_an_admin_chooses_the_unit_and_a_supervisor_may_not_use_it(seeded, personas, today_is):  # noqa: F811
    admin = signed_in(seeded, personas.admin)
    page = text_of(admin.get("/bulk").get_data(as_text=True))
    assert "实施单位 全部实施单位" in page
    everyone = sheet(admin, year=2023, period="2023-07")["实际值"]
    assert everyone.max_row - 1 == 27 + 7                     # unit B's project as well
    reader = signed_in(seeded, personas.supervisor_a)
    assert reader.get("/bulk").status_code == 403 and reader.get("/bulk.xlsx").status_code == 403


@pytest.mark.parametrize("args, message", [({"period": "2023-13"}, "月份“13”无效"),
                                           ({"year": "23"}, "年度（year）应为四位数"),
                                           ({"year": "2023", "period": "2024-01"}, "期间 2024-01 不在 2023 年度内")])
def test_a_bad_period_is_a_chinese_400(seeded, manager, args, message):
    response = manager.get("/bulk.xlsx", query_string=args)
    assert response.status_code == 400 and message in text_of(response.get_data(as_text=True))


# --------------------------------------------------------------------------- hostile workbooks

HEADER = text_row(ACTUAL_COLUMNS)
SPENDING_HEADER = text_row(SPENDING_COLUMNS)
MSG_UNREADABLE = "无法读取该 Excel 文件：文件已损坏或含有不安全内容"
# What the attack on the production server sent: 1,000 rows × 2,400 cells, about 300 KB on disk.
ATTACK = {"实际值": HEADER + number_rows(1000, 2400)}


@pytest.mark.parametrize("sheets, message", [
    (ATTACK, "工作簿过大：解压后 34.3 MB，超过上限 30 MB，不是正常的填报表"),
    ({"实际值": HEADER + number_rows(5001, 19)},
     "工作簿过大：“实际值”表已读到 5002 行 × 20 列，超过上限（每张表最多 5000 行数据）"),
    ({"实际值": HEADER + number_rows(10, 2400)},
     "工作簿过大：“实际值”表已读到 2 行 × 2400 列，超过上限（每行最多 40 列）"),
    # Each sheet within the row and column caps, the two together beyond the cell cap.
    ({"实际值": HEADER + number_rows(3000, 35), "预算支出": SPENDING_HEADER + number_rows(3000, 35)},
     "工作簿过大：“预算支出”表已读到 2714 行 × 35 列，超过上限（全部工作表最多 200000 个单元格）"),
    # A million cells piled into one cell reference: one row, one column, 26 MB of XML.
    ({"实际值": HEADER + "<row>" + '<c r="A2"><v>1</v></c>' * 1_200_000 + "</row>"},
     "工作簿过大：“实际值”表已读到 1 行 × 20 列，超过上限（全部工作表最多 200000 个单元格）"),
    # Rows without values are no data rows, but they are not free to read either.
    ({"实际值": HEADER + "<row/>" * 1_000_000},
     "工作簿过大：“实际值”表已读到 20000 行 × 20 列，超过上限（全部工作表最多 20000 行，空行也算）"),
    # A million empty runs of rich text in one cell.
    ({"实际值": HEADER + '<row><c t="inlineStr"><is>' + "<r/>" * 1_000_000 + "</is></c></row>"},
     "工作簿过大：“实际值”表已读到 1 行 × 20 列，超过上限（表中其他内容过多）"),
], ids=["attack", "rows", "columns", "cells", "piled-cells", "empty-rows", "other-elements"])
def test_a_workbook_larger_than_any_sheet_is_refused_by_what_it_holds(seeded, manager, sheets, message):
    workbook = xlsx(sheets, dimension="A1:S2")          # its declared size says it is small
    assert len(workbook) < 400_000
    started = time.process_time()
    assert message in refusal(post_file(manager, workbook))
    assert time.process_time() - started < 1          # this process never parsed it
    assert count(seeded, Actual) == 0 and count(seeded, Spending) == 0


def test_a_full_sheet_of_the_largest_size_is_still_read_and_stored(seeded, manager):
    book = sheet(manager, year=2023, period="2023-07")
    fill(book, "参展企业数量", 实际值=35)
    ws = book["实际值"]
    for _ in range(5001 - ws.max_row):                   # rows a person left without input
        ws.append([None, "2023-07", 0, "（空行）"] + [None] * (len(ACTUAL_COLUMNS) - 4))
    ws.cell(row=9000, column=30).number_format = "0.00"  # formatting far below and beside: no data
    response = send(manager, book)
    assert response.status_code == 303, text_of(response.get_data(as_text=True))
    assert "已保存2023年7月的1项实际值。" in text_of(manager.get(response.headers["Location"]).get_data(as_text=True))
    assert stored(seeded, "参展企业数量").value == Decimal(35)


def test_a_part_read_whole_is_refused_when_large(seeded, manager):
    styles = f'{HEAD}<styleSheet xmlns="{MAIN}"><numFmts>' + "<numFmt/>" * 500_000 + "</numFmts></styleSheet>"
    workbook = xlsx({"实际值": HEADER}, extra_parts={"xl/styles.xml": styles})
    assert ("工作簿过大：其中的“xl/styles.xml”解压后 4.3 MB，超过上限 4 MB，不是正常的填报表"
            in refusal(post_file(manager, workbook)))


def _as_openpyxl_reads(data: bytes, name: str) -> list[tuple]:
    """What load_workbook(read_only=True, data_only=True) gives, each row up to its last value."""
    rows = []
    for values in load_workbook(io.BytesIO(data), read_only=True, data_only=True)[name].iter_rows(values_only=True):
        values = list(values)
        while values and values[-1] is None:
            values.pop()
        rows.append(tuple(values))
    return rows


def test_the_child_hands_back_the_values_openpyxl_reads():
    """Plain values, the same openpyxl's own reader gives: inline and shared strings, numbers,
    booleans, dates by their number format, a formula's cached value, gaps."""
    book = Workbook()
    ws = book.active
    ws.title = "实际值"
    ws.append(["文字", 35, 35.5, True, datetime(2023, 7, 31, 9, 30), " 空格 ", None, "=1+1"])
    ws.cell(row=4, column=3, value=45138).number_format = "yyyy-mm-dd"     # row 3 left out
    ws.cell(row=4, column=5, value="2023-07").number_format = "@"
    out = io.BytesIO()
    book.save(out)
    shared = xlsx({"实际值": '<row><c t="s"><v>1</v></c><c t="b"><v>0</v></c><c><v>2.50</v></c>'
                           '<c t="s"><v>0</v></c></row>'},
                  shared_strings=f'{HEAD}<sst xmlns="{MAIN}"><si><t>甲</t></si><si><r><t>乙</t></r><r><t>丙</t></r></si></sst>')
    for data in (out.getvalue(), shared):
        rows = run_untrusted(read_sheets, (data, ("实际值", "预算支出")))
        assert rows == {"实际值": _as_openpyxl_reads(data, "实际值")}
    assert rows == {"实际值": [("乙丙", False, 2.5, "甲")]}


def _entity_workbook(entity: tuple[str, str], where: str) -> bytes:
    """The first data row's 实际值 refers to the entity, in the sheet or in its shared strings."""
    doctype, reference = entity
    before = ["1", "2023-07", "0", "招商引资专项经费", "产出指标", "数量指标", "参展企业数量", "≥70家", "累计", "家", ""]
    if where == "sheet":
        return xlsx({"实际值": HEADER + text_row(before + [reference], row=2)}, doctype=doctype, dimension="A1:S2")
    strings = (f'{HEAD}{doctype.replace("worksheet", "sst")}<sst xmlns="{MAIN}" count="1" uniqueCount="1">'
               f"<si><t>{reference}</t></si></sst>")
    row = text_row(before)[:-len("</row>")] + '<c t="s"><v>0</v></c></row>'
    return xlsx({"实际值": HEADER + row}, dimension="A1:S2", shared_strings=strings)


@pytest.mark.parametrize("where", ["sheet", "shared-strings"])
@pytest.mark.parametrize("entity", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_entity_bombs_and_external_entities_get_a_chinese_line(seeded, manager, entity, where):
    text = refusal(post_file(manager, _entity_workbook(entity, where)))
    assert MSG_UNREADABLE in text
    assert not re.search(r"entity|amplification|line \d+|column \d+", text)    # no parser English
    assert "root:" not in text                                   # /etc/passwd was not read
    assert count(seeded, Actual) == 0


def test_the_workbook_is_read_in_a_child_that_the_parse_limits_stop(seeded, manager):
    """190,000 shared strings: within every cap, and over a second of parsing; a wall clock of
    0.2 s ends it in the child, and the page says so in Chinese."""
    seeded.config["PARSE_WALL_SECONDS"] = 0.2
    strings = f'{HEAD}<sst xmlns="{MAIN}">' + "<si><t>甲</t></si>" * 190_000 + "</sst>"
    workbook = xlsx({"实际值": HEADER}, shared_strings=strings)
    assert "文件解析超时（超过 0.2 秒）" in refusal(post_file(manager, workbook))
    seeded.config["PARSE_WALL_SECONDS"] = 30
    response = send(manager, sheet(manager, year=2023, period="2023-07"))
    assert "表中没有填写任何实际值或支出" in refusal(response)          # the next upload is read as usual


# --------------------------------------------------------------------------- a real server

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HEAVY_UPLOADS = 4
HEALTHZ_WITHIN = 1.0        # seconds, throughout


class Browser:
    """Just enough of a browser for gunicorn on loopback: cookies (the __Host- session cookie
    is Secure, which http.client does not care about), forms, multipart uploads."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                timeout: float = 120) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def token(self, path: str) -> str:
        status, page = self.request("GET", path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def sign_in(self, username: str, password: str) -> None:
        form = urlencode({"csrf_token": self.token("/login"), "username": username, "password": password})
        status, page = self.request("POST", "/login", form.encode(), "application/x-www-form-urlencoded")
        assert status == 303, text_of(page)[:300]

    def upload(self, token: str, content: bytes) -> tuple[int, str]:
        boundary = "----bulk-upload-boundary"
        fields = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                         for k, v in (("csrf_token", token), ("period", "2023-07")))
        body = (fields.encode() + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="bulk.xlsx"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                + content + f"\r\n--{boundary}--\r\n".encode())
        return self.request("POST", "/bulk", body, f"multipart/form-data; boundary={boundary}")


def _flask(env: dict, *args: str) -> None:
    result = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, text=True,
                            capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


@dataclass
class Server:
    port: int
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _healthz_seconds(port: int) -> tuple[int, float]:
    started = time.monotonic()
    try:
        status, _ = Browser(port).request("GET", "/healthz", timeout=60)
    except OSError:
        status = 0
    return status, time.monotonic() - started


@pytest.fixture
def gunicorn(tmp_path):
    """`make serve` in small: production settings, 2 sync workers, a fresh SQLite database made
    with `flask init-db` and `flask demo seed` (the seed forms and the 填报人 tianbao)."""
    env = {k: v for k, v in os.environ.items() if k not in ("ENV", "FLASK_DEBUG")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'server.db'}", SECRET_KEY=SECRET_KEY, PYTHONPATH=str(ROOT),
               UPLOAD_DIR=str(tmp_path / "uploads"))
    _flask(env, "init-db")
    _flask(env, "demo", "seed")
    _flask(env, "users", "password", "tianbao", "--password", PASSWORD)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    server = subprocess.Popen([str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
                               "--no-control-socket", "app:create_app()"],
                              cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while _healthz_seconds(port)[0] != 200:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        yield Server(port, log)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


# Just under the unpacked-size cap: streamed in the child until the column cap stops it.
WIDE = {"实际值": HEADER + number_rows(1000, 1900)}


def test_four_heavy_workbooks_at_once_are_refused_while_healthz_stays_quick(gunicorn):
    """The attack on the production server, four uploads at once, twice: the attack's workbook,
    then one just small enough to be parsed. Each answers 422 with a Chinese line, and /healthz,
    polled throughout, always answers within a second."""
    rounds = [(xlsx(ATTACK), "工作簿过大：解压后 34.3 MB，超过上限 30 MB"),
              (xlsx(WIDE), "工作簿过大：“实际值”表已读到 2 行 × 1900 列，超过上限（每行最多 40 列）")]
    assert all(len(workbook) < 300_000 for workbook, _message in rounds)
    assert unpacked_size(rounds[1][0]) < 30 * 1024 * 1024
    browser = Browser(gunicorn.port)
    browser.sign_in("tianbao", PASSWORD)
    token = browser.token("/bulk")

    latencies: list[tuple[int, float]] = []
    uploading = threading.Event()
    uploading.set()

    def poll_healthz() -> None:
        while uploading.is_set():
            latencies.append(_healthz_seconds(gunicorn.port))
            time.sleep(0.05)

    poller = threading.Thread(target=poll_healthz, name="healthz-poller")
    poller.start()
    answers = []
    try:
        time.sleep(0.3)
        for workbook, message in rounds:
            with ThreadPoolExecutor(HEAVY_UPLOADS) as pool:
                answers += [(message, *answer) for answer in
                            pool.map(lambda _: browser.upload(token, workbook), range(HEAVY_UPLOADS))]
        time.sleep(0.3)
    finally:
        uploading.clear()
        poller.join(120)
    slowest = max(seconds for _status, seconds in latencies)
    print(f"/healthz: {len(latencies)} polls during {len(answers)} uploads, slowest {slowest:.3f} s")
    for message, status, page in answers:
        assert status == 422, (status, text_of(page)[:300], gunicorn.log_tail())
        assert message in text_of(page)
    assert all(status == 200 for status, _seconds in latencies), (latencies, gunicorn.log_tail())
    assert slowest < HEALTHZ_WITHIN, (latencies, gunicorn.log_tail())


def test_a_december_row_at_130_percent_needs_its_over_reason_and_an_older_sheet_is_still_read(
        seeded, personas, today_is):
    today_is(datetime(2024, 1, 3, 1, 0, tzinfo=timezone.utc))
    manager = signed_in(seeded, personas.manager_a)
    book = sheet(manager, year=2023, period="2023-12")
    readme = " ".join(str(c.value) for row in book["说明"].iter_rows() for c in row if c.value)
    assert "完成率达到130%及以上的指标须填写超额原因" in readme
    row = fill(book, "参展企业数量", 实际值=100)
    text = refusal(send(manager, book))
    assert f"第 {row} 行（招商引资专项经费 / 参展企业数量）：年度最后一期完成率为142.86%，达到130%以上（超额），请填写超额原因" in text
    fill(book, "参展企业数量", 超额原因="目标设定偏低")
    assert send(manager, book).status_code == 303
    assert stored(seeded, "参展企业数量", month=12).over_reason == "目标设定偏低"
    # a sheet downloaded before the column existed: read as before
    older = sheet(manager, year=2023, period="2023-12")
    older["实际值"].delete_cols(ACTUAL_COLUMNS.index("超额原因") + 1)
    fill(older, "参展面积", 实际值=520)
    assert send(manager, older).status_code == 303
    assert stored(seeded, "参展面积", month=12).value == Decimal(520)
