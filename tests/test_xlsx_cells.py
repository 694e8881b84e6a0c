"""Formula injection: text from a form or a user is text in every xlsx the product writes.

A form is imported whose project, 实施单位, indicators, target, 负责人 and 联系电话 are spreadsheet
payloads, a 偏差说明, a 自评 note and the 自评表's texts (实际完成情况, 评价结论 …) are typed on
the pages, and each export is downloaded through its web route: the monitoring and evaluation
xlsx, the bulk-entry sheet and a unit's export. Each payload must read back exactly as written (as Excel decodes the file's text), as a string cell, and
no sheet of any of them may hold a formula (<f>) or an error cell; numbers stay numbers.
"""
from __future__ import annotations

import html
import io
import re
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape
from sqlmodel import Session, select

from conftest import NOW, csrf_token, form_like, join_import_threads, store_forms

PROJECT = '=HYPERLINK("http://evil.example/p","点我")'
UNIT = '=HYPERLINK("http://evil.example/u","单位")'
NAMES = ("=cmd|' /C calc'!A0", "\t=2+2", "\r=3+3", "#N/A", "=1+1\x0b", "_x0041_ 不是 A")
TARGET = "-12"                       # a qualitative target that looks like a number: text, as written
OWNER, PHONE = "+cmd|' /C calc'!A0", "@SUM(1+1)"
NOTE, SELF_NOTE = "=2*3\r\n原因见附件", "-1+1 改进措施"
FORM_TEXTS = {"goal_achieved": "=HYPERLINK(\"http://evil.example/g\",\"完成\")", "conclusion": "#REF!",
              "problems": "+1\t存在问题", "improvements": "@A1 改进"}      # the 自评表's texts a 填报人 writes
QUOTED_UNIT = 'x",HYPERLINK("http://evil.example/v"),"'     # would break out of a drop-down's list
BUDGET = 37_000_000                  # the form's 年度资金总额, a number the product writes
BUDGET_WAN = 3700                    # the same in 万元, as the 监控表 writes it


@pytest.fixture
def attacked(seeded, client):
    """The payload form stored as `flask forms import` stores it; a July actual with a 偏差说明 and a
    自评 note entered through the pages. Returns (project id, unit id)."""
    seeded.config["CLOCK"] = lambda: NOW
    form = form_like(0, name=PROJECT, unit=UNIT)
    indicators = form["indicators"]
    for item, name in zip(indicators, NAMES):
        for side in ("annual", "period"):
            item[side]["level3"] = name
    indicators[len(NAMES)]["annual"]["target"] = {"raw": TARGET, "kind": "qualitative", "op": None, "value": None,
                                                  "unit": None}
    indicators[len(NAMES) + 1]["annual"]["target"] = {"raw": f"≥5{QUOTED_UNIT}", "kind": "quantitative", "op": ">=",
                                                      "value": 5, "unit": QUOTED_UNIT}
    form["owner"], form["phone"] = OWNER, PHONE
    store_forms(seeded, [form], file_name="攻击.pdf", sha="e" * 64)
    project_id, unit_id, indicator_id = _ids(seeded)
    token = csrf_token(client, "/account")
    entered = client.post(f"/indicators/{indicator_id}/actual", data={
        "csrf_token": token, "period": "2023-07", "value": "1000", "deviation_note": NOTE})
    assert entered.status_code == 303, entered.get_data(as_text=True)
    noted = client.post(f"/projects/{project_id}/evaluation", data={
        "csrf_token": token, "year": "2023", f"note_{indicator_id}": SELF_NOTE, **FORM_TEXTS})
    assert noted.status_code == 303, noted.get_data(as_text=True)
    return project_id, unit_id


def _ids(app) -> tuple[int, int, int]:
    from models.indicator import Indicator
    from models.project import Project, ProjectYear
    with Session(app.extensions["engine"]) as session:
        project = session.exec(select(Project).where(Project.name == PROJECT)).one()
        indicator_id = session.exec(select(Indicator.id).join(ProjectYear).where(
            ProjectYear.project_id == project.id, Indicator.annual_level3 == NAMES[0])).one()
        return project.id, project.unit_id, indicator_id


def opened(data: bytes) -> dict[str, object]:
    """Every cell's value as Excel reads it (its text decoded), after checking the file's XML:
    no formula and no error anywhere, and every payload cell a string cell."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [archive.read(name).decode() for name in archive.namelist()
                  if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name)]
    assert sheets
    for xml in sheets:
        assert not re.search(r"<f[ >]", xml), re.search(r"<c [^>]*>\s*<f[ >].{0,120}", xml, re.S).group()
        assert 't="e"' not in xml
    values: dict[str, object] = {}
    for ws in load_workbook(io.BytesIO(data)).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
                    values.setdefault(unescape(cell.value), cell.data_type)
                elif cell.value is not None:
                    values.setdefault(cell.value, cell.data_type)
    return values


SHOWN = (PROJECT, UNIT, *NAMES, TARGET, OWNER, PHONE)       # what each 监控表 and 自评表 shows of the form
EXPORTS = {    # the route, the payloads it shows, a number of its own it must keep a number
    "monitoring": ("/projects/{project}/monitoring.xlsx?period=2023-07", (*SHOWN, NOTE), BUDGET_WAN),
    "evaluation": ("/projects/{project}/evaluation.xlsx?year=2023", (*SHOWN, SELF_NOTE, *FORM_TEXTS.values()), 100),
    "bulk": ("/bulk.xlsx?period=2023-07&unit={unit}", (PROJECT, *NAMES, TARGET), BUDGET),
}


def assert_written_as_text(data: bytes, payloads, number) -> None:
    values = opened(data)
    missing = [p for p in payloads if p not in values]
    assert not missing, f"not found as written: {missing!r}"
    assert values[number] == "n"                 # the product's own numbers stay numbers


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_each_download_writes_form_and_user_text_as_text(client, attacked, export):
    project_id, unit_id = attacked
    url, payloads, number = EXPORTS[export]
    response = client.get(url.format(project=project_id, unit=unit_id))
    assert response.status_code == 200
    assert_written_as_text(response.data, payloads, number)


def test_the_bulk_sheet_lists_only_units_a_drop_down_can_hold(client, attacked):
    response = client.get(f"/bulk.xlsx?period=2023-07&unit={attacked[1]}")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    # The XML as Excel reads it: openpyxl writes 家 itself, or as &#23478; when lxml is installed.
    lists = [html.unescape(f) for f in re.findall(r"<formula1>(.*?)</formula1>", xml)]
    assert '"家"' in lists and all(re.fullmatch(r'"[^",]+(,[^",]+)*"|\d+', f) for f in lists), lists


def test_a_unit_export_writes_form_and_user_text_as_text(client, attacked):
    started = client.post("/exports", data={"csrf_token": csrf_token(client, "/exports"), "unit": attacked[1],
                                            "year": "2023", "month": "7"})
    assert started.status_code == 303
    join_import_threads()
    response = client.get(started.headers["Location"] + "/download")
    assert response.status_code == 200
    assert_written_as_text(response.data, (*SHOWN, NOTE), BUDGET_WAN)


def test_a_workbook_with_a_formula_written_around_put_is_refused():
    from openpyxl import Workbook

    from models.xlsx_cells import put, workbook_bytes
    book = Workbook()
    put(book.active["A1"], PROJECT)
    assert load_workbook(io.BytesIO(workbook_bytes(book))).active["A1"].value == PROJECT
    book.active["A2"] = "=1+1"
    with pytest.raises(ValueError, match="A2"):
        workbook_bytes(book)
