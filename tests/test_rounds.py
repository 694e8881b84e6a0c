"""Monitoring rounds (DOMAIN.md §8): the settings' rounds, and one round through the pages — the
unit's 填报人 submits a project's 总体目标执行情况, 偏差原因 and 改进（纠偏）措施 (prefilled from the
entries), the 主管部门's 审核人 returns it with a comment, the 填报人 edits and submits again, the
审核人 passes it; or requires 整改, raising items. Every step kept (who, when, comment); scoped
and refused as the access rules say. "Today" is 2023-08-06 (conftest.NOW): the default round, as
of 7-31, is open and due 8-15."""
from __future__ import annotations

import re
from datetime import date

import pytest

from conftest import DEPARTMENT_B, NOW, PROJECT_A, add_user, csrf_token, make_app, signed_in, text_of
from domain.monitoring import Round, due_status, parse_rounds, round_of, rounds_of
from test_api import year_of
from test_exports import record, spend

ROUND = "2023-07"


@pytest.fixture
def july(seeded, personas):
    """招商引资专项经费 in July: 参展企业数量 35 (on pace: green), 参展面积 10 (red, with a reason), spending."""
    seeded.config["CLOCK"] = lambda: NOW
    py, ids = year_of(seeded, PROJECT_A)
    record(seeded, ids["参展企业数量"], 7, value=35)
    record(seeded, ids["参展面积"], 7, value=10, deviation_reasons=["经费保障"], deviation_note="场馆档期推迟")
    spend(seeded, py, 7, 15_000_000)
    personas.supervisor_b = add_user(seeded, "shenhe_b", "supervisor", department=DEPARTMENT_B)
    return seeded, personas


def url(project: int, action: str = "") -> str:
    return f"/projects/{project}/monitoring/{ROUND}{'/' + action if action else ''}"


def texts(**changes) -> dict:
    return {"goal_progress": "截至7月末，参展企业数量已过半，参展面积滞后。", "deviation": "参展面积：场馆档期推迟",
            "correction": "9月追加展位", "version": ""} | changes


def submit(client, project: int, headers=None, **changes):
    token = csrf_token(client, url(project))
    return client.post(url(project), data={"csrf_token": token, "action": "submit", **texts(**changes)},
                       headers=headers or {})


def decide(client, project: int, decision: str, **fields):
    token = csrf_token(client, url(project))
    return client.post(url(project, "review"), data={"csrf_token": token, "decision": decision, **fields})


def state_of(client, project: int) -> str:
    return re.search(r"本轮状态：\s*(\S+)", text_of(client.get(url(project)).get_data(as_text=True))).group(1)


# --------------------------------------------------------------------------- the rules

def test_the_default_round_is_as_of_july_and_due_mid_august():
    rules = parse_rounds([{"as_of": "07-31", "due": "08-15"}])
    assert rounds_of(2023, rules) == [Round(2023, 7, date(2023, 8, 15))]
    rnd = rounds_of(2023, rules)[0]
    assert (rnd.as_of, rnd.key, rnd.title) == (date(2023, 7, 31), "2023-07", "2023年1-7月绩效运行监控")
    assert not rnd.is_open(date(2023, 7, 31)) and rnd.is_open(date(2023, 8, 1))
    december = round_of(2023, parse_rounds([{"as_of": "12-31", "due": "01-20"}])[0])
    assert december.due == date(2024, 1, 20)                     # due in the following year
    assert round_of(2024, parse_rounds([{"as_of": "02-28", "due": "03-10"}])[0]).as_of == date(2024, 2, 29)


@pytest.mark.parametrize("setting, message", [
    ([{"as_of": "07-30", "due": "08-15"}], "应为月末"),
    ([{"as_of": "07-31", "due": "08-32"}], "不是有效的日期"),
    ([{"as_of": "7月", "due": "08-15"}], "应为“月-日”"),
    ([{"as_of": "07-31", "due": "08-15"}, {"as_of": "07-31", "due": "09-15"}], "同一个月末只能有一个监控轮次"),
    ({"as_of": "07-31"}, "应为列表"),
])
def test_rounds_set_wrong_stop_the_start_with_the_reason(tmp_path, setting, message):
    with pytest.raises(ValueError, match=message):
        parse_rounds(setting)
    with pytest.raises(RuntimeError, match="监控轮次设置有误"):
        make_app(tmp_path, MONITORING_ROUNDS=setting)


def test_an_item_is_due_soon_from_the_reminder_days_and_late_after_its_deadline():
    due = date(2023, 8, 20)
    assert due_status("open", due, date(2023, 8, 16), 3) is None
    assert due_status("open", due, date(2023, 8, 17), 3) == "soon"
    assert due_status("open", due, date(2023, 8, 20), 3) == "soon"
    assert due_status("open", due, date(2023, 8, 21), 3) == "late"
    assert due_status("answered", due, date(2023, 8, 21), 3) is None      # waits on the 审核人, not the unit


# --------------------------------------------------------------------------- one round through the pages

def test_a_round_submitted_returned_resubmitted_and_passed(july):
    app, p = july
    manager, reviewer = signed_in(app, p.manager_a), signed_in(app, p.supervisor_a)

    page = manager.get(url(p.project_a)).get_data(as_text=True)
    shown = text_of(page)
    assert "本轮状态： 未提交" in shown and "提交截止 2023年8月15日 （还有 9 天）" in shown
    # prefilled from the entries: the lights and the budget, the red indicator with its reason
    assert re.search(r"截至2023年7月末，14个年度绩效指标中绿灯\d+个、.*红灯1个", page)
    assert "预算执行率40.54%（序时进度58.33%）" in page
    assert "参展面积（红）：经费保障：场馆档期推迟" in page

    refused = submit(manager, p.project_a, correction="")
    assert refused.status_code == 422
    assert "有指标或预算执行偏离目标（黄灯、红灯或逾期未填报），提交前请填写改进（纠偏）措施" in text_of(refused.get_data(as_text=True))
    assert "参展面积：场馆档期推迟" in refused.get_data(as_text=True)            # what was typed stays
    assert state_of(manager, p.project_a) == "未提交"

    assert submit(manager, p.project_a).status_code == 303
    assert state_of(reviewer, p.project_a) == "已提交，待审核"
    assert "已提交，待审核" in text_of(reviewer.get("/monitoring").get_data(as_text=True))

    no_comment = decide(reviewer, p.project_a, "return", comment="")
    assert no_comment.status_code == 422 and "退回时请填写退回意见" in text_of(no_comment.get_data(as_text=True))
    assert decide(reviewer, p.project_a, "return", comment="纠偏措施请写明时间安排").status_code == 303
    assert state_of(manager, p.project_a) == "已退回"
    # the 填报人 sees the comment, edits and submits again
    returned = text_of(manager.get(url(p.project_a)).get_data(as_text=True))
    assert "纠偏措施请写明时间安排" in returned and "9月追加展位" in returned
    version = re.search(r'name="version" value="(\d+)"', manager.get(url(p.project_a)).get_data(as_text=True)).group(1)
    assert submit(manager, p.project_a, correction="9月15日前追加展位200平方米", version=version).status_code == 303
    assert decide(reviewer, p.project_a, "approve", comment="").status_code == 303
    assert state_of(manager, p.project_a) == "已通过"

    final = text_of(reviewer.get(url(p.project_a)).get_data(as_text=True))
    assert "9月15日前追加展位200平方米" in final
    rows = re.split(r" ?2023-08-06 09:00 ", final.split("审核记录 时间 操作人 操作 意见", 1)[1])[1:]
    assert rows == ["填报人甲（tianbao） （填报人） 提交", "shenhe （审核人） 退回 纠偏措施请写明时间安排",
                    "填报人甲（tianbao） （填报人） 提交", "shenhe （审核人） 通过"]

    # approved: the texts are locked, a late save changes nothing
    token = csrf_token(manager, url(p.project_a))
    late = manager.post(url(p.project_a), data={"csrf_token": token, "action": "save", **texts(goal_progress="改过")},
                        follow_redirects=True)
    assert "本轮监控已通过，不能再修改" in text_of(late.get_data(as_text=True))
    assert "改过" not in text_of(reviewer.get(url(p.project_a)).get_data(as_text=True))


def test_requiring_rectification_raises_items_for_the_unit(july):
    app, p = july
    _py, ids = year_of(app, PROJECT_A)
    manager, reviewer = signed_in(app, p.manager_a), signed_in(app, p.supervisor_a)
    assert submit(manager, p.project_a).status_code == 303
    none = decide(reviewer, p.project_a, "rectify", comment="")
    assert none.status_code == 422 and "需要整改时请至少填写一项整改要求和建议及整改期限" in text_of(none.get_data(as_text=True))
    past = decide(reviewer, p.project_a, "rectify", requirement_1="补充参展合同", due_1="2023-08-01")
    assert past.status_code == 422 and "整改期限不能早于今天（2023-08-06）" in text_of(past.get_data(as_text=True))
    assert 'id="due-1" name="due_1" type="date" value="2023-08-01" aria-invalid="true"' in past.get_data(as_text=True)
    done = decide(reviewer, p.project_a, "rectify", comment="参展面积严重滞后", indicator_1=str(ids["参展面积"]),
                  requirement_1="制定追赶计划并补充参展合同", due_1="2023-08-31", requirement_2="说明预算执行偏慢的原因",
                  due_2="2023-08-25")
    assert done.status_code == 303
    page = text_of(manager.get(url(p.project_a)).get_data(as_text=True))
    assert "本轮状态： 需要整改" in page and "本轮提出的整改事项 2 项" in page
    assert "参展面积 制定追赶计划并补充参展合同" in page and "项目整体 说明预算执行偏慢的原因" in page
    item = int(re.search(r"第(\d+)号", page).group(1))
    shown = text_of(manager.get(f"/rectifications/{item}").get_data(as_text=True))
    assert "来源 2023年1-7月绩效运行监控的审核" in shown and "责任单位 山西省投资促进局" in shown
    workbench = text_of(manager.get("/").get_data(as_text=True))
    assert "整改事项 未关闭 2 项" in workbench


def test_before_the_round_opens_a_draft_is_kept_but_not_submitted(july):
    app, p = july
    app.config["CLOCK"] = lambda: NOW.replace(month=7, day=20)
    manager = signed_in(app, p.manager_a)
    refused = submit(manager, p.project_a)
    assert refused.status_code == 422 and "本轮监控截至7月31日，该日之后才能提交" in text_of(refused.get_data(as_text=True))
    token = csrf_token(manager, url(p.project_a))
    saved = manager.post(url(p.project_a), headers={"HX-Request": "true"},
                         data={"csrf_token": token, "action": "save", **texts()})
    assert saved.status_code == 200 and "已保存（尚未提交）" in text_of(saved.get_data(as_text=True))
    assert state_of(manager, p.project_a) == "草稿（未提交）"


def test_a_stale_page_is_told_and_keeps_what_was_typed(july):
    app, p = july
    manager = signed_in(app, p.manager_a)
    token = csrf_token(manager, url(p.project_a))
    first = manager.post(url(p.project_a), data={"csrf_token": token, "action": "save", **texts(version="0")})
    assert first.status_code == 303
    stale = manager.post(url(p.project_a), headers={"HX-Request": "true"},
                         data={"csrf_token": token, "action": "save", **texts(goal_progress="另一个人写的", version="0")})
    assert stale.status_code == 409
    body = stale.get_data(as_text=True)
    assert "本轮监控已被他人修改或提交，请刷新页面后在最新内容上修改" in text_of(body) and "另一个人写的" in body


def test_who_may_do_what_with_a_round(july):
    app, p = july
    for person in (p.supervisor_b, p.manager_b):
        assert signed_in(app, person).get(url(p.project_a)).status_code == 404
    manager, reviewer = signed_in(app, p.manager_a), signed_in(app, p.supervisor_a)
    assert decide(manager, p.project_a, "approve").status_code == 403
    assert submit(reviewer, p.project_a).status_code == 403
    assert submit(manager, p.project_a).status_code == 303
    stranger = signed_in(app, p.supervisor_b)
    token = csrf_token(stranger, "/monitoring")
    assert stranger.post(url(p.project_a, "review"), data={"csrf_token": token, "decision": "approve"}).status_code == 404
    assert "招商引资专项经费" not in text_of(stranger.get("/monitoring").get_data(as_text=True))
    assert manager.get(f"/projects/{p.project_a}/monitoring/2023-06").status_code == 404     # no such round
    assert manager.get(f"/projects/{p.project_a}/monitoring/2023-13").status_code == 400


def test_the_workbench_lists_what_the_unit_still_owes(july):
    app, p = july
    manager = signed_in(app, p.manager_a)
    owed = text_of(manager.get("/").get_data(as_text=True))
    assert "绩效运行监控 待提交 3 个项目" in owed and "1-7月 8月15日 （还有 9 天）" in owed
    assert submit(manager, p.project_a).status_code == 303
    assert "绩效运行监控 待提交 2 个项目" in text_of(manager.get("/").get_data(as_text=True))
    listing = text_of(signed_in(app, p.supervisor_a).get("/monitoring").get_data(as_text=True))
    assert "待审核 1" in listing and "未提交 2" in listing
    project = text_of(manager.get(f"/projects/{p.project_a}").get_data(as_text=True))
    assert "1-7月 （截至7月31日） 2023-08-15 已提交，待审核" in project
