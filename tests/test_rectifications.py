"""整改 items (DOMAIN.md §8): raised by a 审核人, answered by the unit's 填报人 with 整改措施, 整改结果
and evidence, closed with a 整改结论 or sent back — through the API exactly as INTERFACES.md says,
and through the pages; scoped (another 主管部门's 审核人 sees nothing of them: 404 and absent from
the list; a 填报人 cannot raise or close one: 403); shown on both sides' lists, the project page
and the overview. "Today" is 2023-08-06 (conftest.NOW)."""
from __future__ import annotations

import io
import re

import pytest
from sqlmodel import Session, select

from conftest import DEPARTMENT_B, NOW, PROJECT_A, add_user, csrf_token, signed_in, text_of
from test_api import Api, year_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(seeded, personas):
    seeded.config["CLOCK"] = lambda: NOW
    personas.supervisor_b = add_user(seeded, "shenhe_b", "supervisor", department=DEPARTMENT_B)
    return seeded, personas


def api(app, person):
    return Api(app, person)


def post(client: Api, url: str, body):
    return client.client.post(f"/api/v1{url}", json=body, headers=client.headers)


def raise_one(app, personas, **body) -> int:
    py, ids = year_of(app, PROJECT_A)
    body = {"indicator_id": ids["参展面积"], "requirement": "参展面积进度滞后，请说明原因并制定追赶计划", "due": "2023-08-20"} | body
    response = post(api(app, personas.supervisor_a), f"/projects/{py}/rectifications", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


# --------------------------------------------------------------------------- the API, as INTERFACES.md says

def test_an_item_raised_by_the_supervisor_answered_by_the_manager_and_closed(world):
    app, p = world
    py, ids = year_of(app, PROJECT_A)
    reviewer, manager = api(app, p.supervisor_a), api(app, p.manager_a)

    raised = post(reviewer, f"/projects/{py}/rectifications",
                  {"indicator_id": ids["参展面积"], "requirement": "参展面积进度滞后，请制定追赶计划", "due": "2023-08-20"})
    assert raised.status_code == 201
    item = raised.get_json()
    assert item == {"id": item["id"], "state": "open"}

    listed = manager.get("/rectifications").get_json()["rectifications"]
    assert [(r["id"], r["project_id"], r["indicator_id"], r["requirement"], r["due"], r["state"]) for r in listed] == [
        (item["id"], py, ids["参展面积"], "参展面积进度滞后，请制定追赶计划", "2023-08-20", "open")]
    assert listed[0]["unit"] == "山西省投资促进局"

    answered = manager.put(f"/rectifications/{item['id']}", {"measures": "增订展位，调整布展方案", "result": "9月展会新增展位200平方米"})
    assert answered.status_code == 200 and answered.get_json() == {"id": item["id"], "state": "answered"}

    closed = post(reviewer, f"/rectifications/{item['id']}/close", {"conclusion": "整改到位"})
    assert closed.status_code == 200 and closed.get_json() == {"id": item["id"], "state": "closed"}

    assert reviewer.get("/rectifications").get_json() == {"rectifications": []}          # default: open
    done = reviewer.get("/rectifications", state="closed").get_json()["rectifications"]
    assert [(r["id"], r["state"], r["measures"], r["result"], r["conclusion"]) for r in done] == [
        (item["id"], "closed", "增订展位，调整布展方案", "9月展会新增展位200平方米", "整改到位")]
    assert done[0]["answered_at"] and done[0]["closed_at"]
    assert reviewer.get("/rectifications", state="all").get_json()["rectifications"][0]["id"] == item["id"]
    assert reviewer.get("/rectifications", state="later").status_code == 400


def test_another_departments_supervisor_sees_nothing_of_it(world):
    app, p = world
    item = raise_one(app, p)
    py, _ids = year_of(app, PROJECT_A)
    stranger = api(app, p.supervisor_b)
    assert stranger.get("/rectifications", state="all").get_json() == {"rectifications": []}
    assert post(stranger, f"/projects/{py}/rectifications",
                {"indicator_id": None, "requirement": "x", "due": "2023-08-20"}).status_code == 404
    assert post(stranger, f"/rectifications/{item}/close", {"conclusion": "x"}).status_code == 404
    assert post(stranger, f"/rectifications/{item}/return", {"comment": "x"}).status_code == 404
    assert api(app, p.manager_b).put(f"/rectifications/{item}", {"measures": "x", "result": "y"}).status_code == 404
    # the 审核人 of all 主管部门 sees it
    assert [r["id"] for r in api(app, p.supervisor_all).get("/rectifications").get_json()["rectifications"]] == [item]
    # the pages likewise
    browser = signed_in(app, p.supervisor_b)
    assert browser.get(f"/rectifications/{item}").status_code == 404
    assert f"第{item}号" not in browser.get("/rectifications?show=all").get_data(as_text=True)


def test_a_manager_cannot_raise_or_close_an_item(world):
    app, p = world
    py, _ids = year_of(app, PROJECT_A)
    manager = api(app, p.manager_a)
    refused = post(manager, f"/projects/{py}/rectifications", {"indicator_id": None, "requirement": "x", "due": "2023-08-20"})
    assert refused.status_code == 403 and refused.get_json()["error"]
    item = raise_one(app, p)
    assert manager.put(f"/rectifications/{item}", {"measures": "措施", "result": "结果"}).status_code == 200
    assert post(manager, f"/rectifications/{item}/close", {"conclusion": "自己关闭"}).status_code == 403
    assert post(manager, f"/rectifications/{item}/return", {"comment": "x"}).status_code == 403
    # and a 审核人 does not answer for the unit
    assert api(app, p.supervisor_a).put(f"/rectifications/{item}", {"measures": "x", "result": "y"}).status_code == 403
    # on the pages: the 填报人 gets 403 for raising and closing
    browser = signed_in(app, p.manager_a)
    token = csrf_token(browser, f"/rectifications/{item}")
    assert browser.post(f"/projects/{p.project_a}/rectifications",
                        data={"csrf_token": token, "year": "2023", "requirement": "x", "due": "2023-08-20"}).status_code == 403
    assert browser.post(f"/rectifications/{item}/close", data={"csrf_token": token, "conclusion": "x"}).status_code == 403


@pytest.mark.parametrize("body, message", [
    ({"requirement": "", "due": "2023-08-20"}, "整改要求和建议：必须填写"),
    ({"requirement": "   ", "due": "2023-08-20"}, "整改要求和建议：必须填写"),
    ({"requirement": "请整改", "due": "2023-08-01"}, "整改期限不能早于今天（2023-08-06）"),
    ({"requirement": "请整改", "due": "2023-02-30"}, "整改期限：应为有效的日期"),
    ({"requirement": "请整改", "due": "8月20日"}, "整改期限：应为 YYYY-MM-DD 格式的日期"),
    ({"requirement": "请整改"}, "整改期限：必须填写"),
    ({"requirement": "请整改", "due": "2023-08-20", "indicator_id": "7"}, "指标："),
])
def test_bad_input_is_refused_with_a_chinese_message_and_nothing_stored(world, body, message):
    app, p = world
    py, _ids = year_of(app, PROJECT_A)
    response = post(api(app, p.supervisor_a), f"/projects/{py}/rectifications", body)
    assert response.status_code == 422 and message in response.get_json()["error"], response.get_json()
    assert api(app, p.supervisor_a).get("/rectifications", state="all").get_json() == {"rectifications": []}


def test_an_indicator_of_another_project_is_refused(world):
    app, p = world
    py, _ids = year_of(app, PROJECT_A)
    _other, other_ids = year_of(app, "网络运行维护费")
    response = post(api(app, p.supervisor_a), f"/projects/{py}/rectifications",
                    {"indicator_id": next(iter(other_ids.values())), "requirement": "请整改", "due": "2023-08-20"})
    assert response.status_code == 422 and response.get_json() == {"error": "所选指标不属于该项目年度", "field": "indicator_id"}


def test_sent_back_with_a_new_deadline_answered_again_and_steps_that_do_not_fit_are_409(world):
    app, p = world
    item = raise_one(app, p)
    reviewer, manager = api(app, p.supervisor_a), api(app, p.manager_a)
    assert post(reviewer, f"/rectifications/{item}/close", {"conclusion": "x"}).status_code == 409     # not answered
    assert manager.put(f"/rectifications/{item}", {"measures": "增订展位", "result": "进行中"}).status_code == 200
    assert manager.put(f"/rectifications/{item}", {"measures": "增订展位", "result": "已完成"}).status_code == 200  # revised
    back = post(reviewer, f"/rectifications/{item}/return", {"comment": "请附展位合同", "due": "2023-09-10"})
    assert back.status_code == 200 and back.get_json() == {"id": item, "state": "open"}
    listed = reviewer.get("/rectifications").get_json()["rectifications"]
    assert [(r["id"], r["due"], r["result"]) for r in listed] == [(item, "2023-09-10", "已完成")]
    assert post(reviewer, f"/rectifications/{item}/return", {"comment": "x"}).status_code == 409      # open already
    assert manager.put(f"/rectifications/{item}", {"measures": "增订展位", "result": "已签合同"}).status_code == 200
    assert post(reviewer, f"/rectifications/{item}/close", {"conclusion": "已整改"}).status_code == 200
    late = manager.put(f"/rectifications/{item}", {"measures": "x", "result": "y"})
    assert late.status_code == 409 and "已关闭" in late.get_json()["error"]
    refused = post(reviewer, f"/rectifications/{item}/close", {"conclusion": ""})
    assert refused.status_code == 422 and "整改结论：必须填写" in refused.get_json()["error"]

    from models.monitoring import RectificationStep
    with Session(app.extensions["engine"]) as session:
        steps = session.exec(select(RectificationStep).where(RectificationStep.rectification_id == item)
                             .order_by(RectificationStep.id)).all()
    assert [(s.action, s.from_state, s.to_state, s.who) for s in steps] == [
        ("提出", "", "open", "shenhe"), ("答复", "open", "answered", "tianbao"), ("答复", "answered", "answered", "tianbao"),
        ("退回", "answered", "open", "shenhe"), ("答复", "open", "answered", "tianbao"), ("关闭", "answered", "closed", "shenhe")]
    assert steps[2].result == "已完成" and steps[3].comment == "请附展位合同" and steps[3].due.isoformat() == "2023-09-10"


# --------------------------------------------------------------------------- the pages

def test_raised_on_the_project_page_answered_with_evidence_and_closed_on_the_item_page(world):
    app, p = world
    _py, ids = year_of(app, PROJECT_A)
    reviewer = signed_in(app, p.supervisor_a)
    page = reviewer.get(f"/projects/{p.project_a}").get_data(as_text=True)
    assert "绩效运行监控与整改" in text_of(page) and "提出整改" in text_of(page)
    token = csrf_token(reviewer, f"/projects/{p.project_a}")
    refused = reviewer.post(f"/projects/{p.project_a}/rectifications", headers={"HX-Request": "true"},
                            data={"csrf_token": token, "year": "2023", "indicator_id": str(ids["参展面积"]),
                                  "requirement": "请制定追赶计划", "due": ""})
    assert refused.status_code == 422
    assert "整改期限：必须填写" in text_of(refused.get_data(as_text=True))
    assert "请制定追赶计划" in refused.get_data(as_text=True)                       # what was typed stays
    raised = reviewer.post(f"/projects/{p.project_a}/rectifications", headers={"HX-Request": "true"},
                           data={"csrf_token": token, "year": "2023", "indicator_id": str(ids["参展面积"]),
                                 "requirement": "请制定追赶计划", "due": "2023-08-20"})
    assert raised.status_code == 200
    section = text_of(raised.get_data(as_text=True))
    item = int(re.search(r"已提出整改事项（第(\d+)号）", section).group(1))
    assert "参展面积" in section and "待整改" in section and "未关闭的整改事项 1 项" in section

    manager = signed_in(app, p.manager_a)
    workbench = text_of(manager.get("/").get_data(as_text=True))
    assert "整改事项 未关闭 1 项" in workbench and "招商引资专项经费 · 参展面积" in workbench
    token = csrf_token(manager, f"/rectifications/{item}")
    answered = manager.post(f"/rectifications/{item}/answer", content_type="multipart/form-data",
                            data={"csrf_token": token, "version": "1", "measures": "增订展位", "result": "新增展位200平方米",
                                  "files": [(io.BytesIO(PDF), "展位合同.pdf")]})
    assert answered.status_code == 303
    shown = manager.get(f"/rectifications/{item}").get_data(as_text=True)
    assert "已答复，待审核" in text_of(shown) and "展位合同.pdf" in shown
    file_id = int(re.search(r'/evidence/(\d+)"', shown).group(1))

    # the 审核人 of the 主管部门 downloads the file; another 主管部门's cannot
    download = reviewer.get(f"/evidence/{file_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert signed_in(app, p.supervisor_b).get(f"/evidence/{file_id}").status_code == 404
    # an actual's evidence route does not delete a 整改 item's file
    assert manager.post(f"/evidence/{file_id}/delete", data={"csrf_token": token}).status_code == 404

    listing = text_of(reviewer.get("/monitoring").get_data(as_text=True))
    assert "未关闭的整改事项 1 项" in listing and "已答复，待审核" in listing
    token = csrf_token(reviewer, f"/rectifications/{item}")
    empty = reviewer.post(f"/rectifications/{item}/close", data={"csrf_token": token, "conclusion": " "})
    assert empty.status_code == 422 and "整改结论：必须填写" in text_of(empty.get_data(as_text=True))
    closed = reviewer.post(f"/rectifications/{item}/close", headers={"HX-Request": "true"},
                           data={"csrf_token": token, "conclusion": "整改到位，同意关闭"})
    assert closed.status_code == 200 and "已关闭该整改事项" in text_of(closed.get_data(as_text=True))
    shown = text_of(reviewer.get(f"/rectifications/{item}").get_data(as_text=True))
    assert "整改结论 整改到位，同意关闭" in shown
    assert "处理记录" in shown and "关闭" in shown
    # closed: the file stays, and can no longer be removed or replaced
    again = manager.post(f"/rectifications/{item}/answer", data={"csrf_token": csrf_token(manager, f"/rectifications/{item}"),
                                                                 "measures": "x", "result": "y", "remove": str(file_id)})
    assert again.status_code == 303
    assert "整改事项已关闭" in text_of(manager.get(f"/rectifications/{item}").get_data(as_text=True))
    assert reviewer.get(f"/evidence/{file_id}").status_code == 200


def test_a_file_that_is_not_allowed_is_refused_and_nothing_is_answered(world, tmp_path):
    app, p = world
    item = raise_one(app, p)
    manager = signed_in(app, p.manager_a)
    token = csrf_token(manager, f"/rectifications/{item}")
    refused = manager.post(f"/rectifications/{item}/answer", content_type="multipart/form-data",
                           headers={"HX-Request": "true"},
                           data={"csrf_token": token, "measures": "增订展位", "result": "完成",
                                 "files": [(io.BytesIO(b"MZ\x90\x00 not a document"), "证明.pdf")]})
    assert refused.status_code == 422
    assert "不是允许的文件类型" in text_of(refused.get_data(as_text=True))
    assert "增订展位" in refused.get_data(as_text=True)
    assert api(app, p.manager_a).get("/rectifications").get_json()["rectifications"][0]["state"] == "open"
    evidence = tmp_path / "evidence"
    assert not evidence.exists() or list(evidence.iterdir()) == []


def test_the_overview_and_the_project_page_count_the_open_items(world):
    app, p = world
    raise_one(app, p, due="2023-08-07")
    raise_one(app, p, due="2023-08-30")
    answered = raise_one(app, p)
    assert api(app, p.manager_a).put(f"/rectifications/{answered}", {"measures": "m", "result": "r"}).status_code == 200
    app.config["CLOCK"] = lambda: NOW.replace(day=9)            # the first is now two days late
    reviewer = signed_in(app, p.supervisor_a)
    overview = reviewer.get("/reports/overview").get_data(as_text=True)
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', overview))
    assert counts == {"open": "2", "late": "1", "answered": "1", "closed": "0"}
    assert "待整改 2 项（其中 逾期 1 项 ）" in text_of(overview)
    # another 主管部门's 审核人 counts none of them
    other = dict(re.findall(r'data-count="(\w+)">(\d+)<', signed_in(app, p.supervisor_b).get("/reports/overview")
                            .get_data(as_text=True)))
    assert other == {"open": "0", "answered": "0", "closed": "0"}
    project = text_of(reviewer.get(f"/projects/{p.project_a}").get_data(as_text=True))
    assert "未关闭的整改事项 3 项（逾期 1 项）" in project
    listing = text_of(reviewer.get("/rectifications?show=late").get_data(as_text=True))
    assert "已逾期 1 项" in listing and "逾期 2 天" in listing


def test_an_items_evidence_is_backed_up_with_the_actuals(world, tmp_path):
    import tarfile
    app, p = world
    item = raise_one(app, p)
    manager = signed_in(app, p.manager_a)
    assert manager.post(f"/rectifications/{item}/answer", content_type="multipart/form-data",
                        data={"csrf_token": csrf_token(manager, f"/rectifications/{item}"), "measures": "m", "result": "r",
                              "files": [(io.BytesIO(PDF), "整改报告.pdf")]}).status_code == 303
    from models.evidence import Evidence
    with Session(app.extensions["engine"]) as session:
        [row] = session.exec(select(Evidence)).all()
    assert row.rectification_id == item and row.actual_id is None
    out = tmp_path / "backup.tar.gz"
    result = app.test_cli_runner().invoke(args=["backup", "-o", str(out)])
    assert result.exit_code == 0 and "1 个佐证材料文件" in result.output, result.output
    with tarfile.open(out) as archive:
        assert archive.extractfile(f"evidence/{row.stored_name}").read() == PDF
