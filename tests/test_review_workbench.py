"""The 审核人's 工作台 (reads/review_workbench.py): what waits for them within their scope — a 自评
submitted, a 目标调整 pending, a round submitted, a 整改 item answered, a 监控报告 submitted —
the units overdue by the 填报人's own rule, and the reds by project; another 主管部门's 审核人
sees none of it. And the 填报人 told, on their 工作台 and by mail, when a 自评 or a round of
theirs is returned or approved."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import Session, select

from conftest import DEPARTMENT_B, NOW, PROJECT_A, UNIT_A, add_user, signed_in, text_of
from test_api import year_of
from test_reminders_cycle import set_emails
from test_workbench import section


@pytest.fixture
def waiting(seeded, personas):
    """One of each thing that waits for unit A's 审核人, on 招商引资专项经费 (2023), as of NOW."""
    from domain import monitoring, review
    from models.evaluation import EvaluationReview, EvaluationStep
    from models.monitoring import MonitoringStep, MonitoringSubmission, Rectification
    from models.monitoring_report import MonitoringReport
    from models.org import Unit
    from models.target_adjustment import TargetAdjustment
    seeded.config["CLOCK"] = lambda: NOW
    py, _ids = year_of(seeded, PROJECT_A)
    with Session(seeded.extensions["engine"]) as session:
        unit = session.exec(select(Unit).where(Unit.name == UNIT_A)).one()
        session.add(EvaluationReview(project_year_id=py, state=review.SUBMITTED, updated_at=NOW))
        session.add(EvaluationStep(project_year_id=py, who="tianbao", role="manager", action=review.SUBMIT,
                                   from_state=review.DRAFT, to_state=review.SUBMITTED, at=NOW))
        session.add(TargetAdjustment(project_year_id=py, reason="场馆档期推迟", proposed_by="tianbao", proposed_at=NOW))
        submission = MonitoringSubmission(project_year_id=py, month=7, state=monitoring.SUBMITTED, goal_progress="过半",
                                          updated_by="tianbao", updated_at=NOW, submitted_at=NOW)
        session.add(submission)
        session.flush()
        session.add(MonitoringStep(submission_id=submission.id, who="tianbao", role="manager", action=monitoring.SUBMIT,
                                   from_state=monitoring.DRAFT, to_state=monitoring.SUBMITTED, at=NOW))
        session.add(Rectification(project_year_id=py, unit_id=unit.id, requirement="补充参展合同", due=date(2023, 8, 31),
                                  state=monitoring.ANSWERED, measures="已补充", result="已完成", created_by="shenhe",
                                  created_at=NOW, answered_by="tianbao", answered_at=NOW, updated_at=NOW))
        session.add(MonitoringReport(unit_id=unit.id, year=2023, month=7, state="submitted", updated_by="tianbao",
                                     updated_at=NOW, submitted_by="tianbao", submitted_at=NOW))
        session.commit()
    personas.supervisor_b = add_user(seeded, "shenhe_b", "supervisor", department=DEPARTMENT_B)
    return seeded, personas


def reviewer_workbench(app, person):
    from models.db import get_session
    from models.user import User
    from reads.review_workbench import review_workbench
    with app.app_context():
        session = get_session()
        return review_workbench(session, session.get(User, person.id), NOW.date(), 5, app.config, 3)


def test_the_reviewer_sees_what_waits_with_a_link_to_where_they_act(waiting):
    app, p = waiting
    html = signed_in(app, p.supervisor_a).get("/").get_data(as_text=True)
    counts = text_of(re.search(r'<ul class="review-counts".*?</ul>', html, flags=re.S).group(0))
    assert counts.startswith("1 自评待审核 1 目标调整待审核 1 监控待审核 1 整改已答复 1 监控报告已提交 1 单位逾期未填报")
    assert f"{PROJECT_A} · 2023年度自评 {UNIT_A} · 填报人甲（tianbao） 于 2023-08-06 09:00 提交" in section(html, "绩效自评待审核")
    assert f"/projects/{p.project_a}/evaluation?year=2023" in html
    assert f"{PROJECT_A} · 目标调整第1号" in section(html, "目标调整待审核")
    assert f"{PROJECT_A} · 2023年1-7月绩效运行监控" in section(html, "绩效运行监控待审核")
    assert f"/projects/{p.project_a}/monitoring/2023-07" in html
    assert f"{PROJECT_A} · 项目整体 {UNIT_A} · 期限 8月31日 补充参展合同" in section(html, "整改已答复待审核")
    assert f"{UNIT_A} · 2023年1-7月监控报告" in section(html, "监控报告已提交")
    assert "暂无" not in " ".join(section(html, t) for t in ("绩效自评待审核", "目标调整待审核", "绩效运行监控待审核",
                                                          "整改已答复待审核", "监控报告已提交"))


def test_another_departments_reviewer_sees_nothing_of_it(waiting):
    app, p = waiting
    other = reviewer_workbench(app, p.supervisor_b)
    assert (other.evaluations, other.targets, other.rounds, other.rectifications, other.reports) == ([], [], [], [], [])
    assert UNIT_A not in [u.unit for u in other.overdue]
    assert all(g.project.id != p.project_a for g in other.reds)
    html = signed_in(app, p.supervisor_b).get("/").get_data(as_text=True)
    for title, empty in (("绩效自评待审核", "暂无待审核的自评。"), ("目标调整待审核", "暂无待审核的目标调整。"),
                         ("绩效运行监控待审核", "暂无待审核的监控。"), ("整改已答复待审核", "暂无待审核的整改答复。"),
                         ("监控报告已提交", "暂无已提交的监控报告。")):
        assert empty in section(html, title)
    assert PROJECT_A not in html
    everything = reviewer_workbench(app, p.supervisor_all)          # a 审核人 without a 主管部门 reads all
    assert len(everything.evaluations) == len(everything.rounds) == len(everything.reports) == 1


def test_overdue_units_carry_the_days_of_the_managers_own_rule(waiting):
    """Nothing entered: January's entries were due on 2023-02-05, 182 days before NOW; the 审核人
    reads the same days the 填报人's 工作台 shows."""
    app, p = waiting
    mine = reviewer_workbench(app, p.supervisor_a)
    unit = next(u for u in mine.overdue if u.unit == UNIT_A)
    assert unit.days == (NOW.date() - date(2023, 2, 5)).days == 182 and unit.projects == 3
    html = signed_in(app, p.supervisor_a).get("/").get_data(as_text=True)
    overdue = section(html, "逾期未填报的单位")
    assert f"{UNIT_A} 最长逾期 182 天 3 个项目" in overdue
    clerk = section(signed_in(app, p.manager_a).get("/").get_data(as_text=True), "已逾期")
    assert "逾期 182 天" in clerk and "逾期 182 天" in overdue


# --------------------------------------------------------------------------- the 填报人 told

def outbox(app, kind: str):
    from models.outbox import OutboxMessage
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def test_a_returned_then_approved_self_evaluation_reaches_the_manager(waiting):
    from test_evaluation_review import post
    app, p = waiting
    set_emails(app, p)
    reviewer, clerk = signed_in(app, p.supervisor_a), signed_in(app, p.manager_a)
    assert post(reviewer, p.project_a, "return", comment="请补充满意度调查结果").status_code == 303
    [mail] = outbox(app, "self-evaluation")
    assert mail.subject == f"【绩效目标跟踪】{PROJECT_A}（2023年度）绩效自评已被退回"
    assert mail.to_address.endswith("<tianbao@unit-a.example>")
    assert "请补充满意度调查结果" in mail.text_body and "请按审核意见修改后重新提交。" in mail.text_body
    assert f"/projects/{p.project_a}/evaluation?year=2023" in mail.text_body
    told = section(clerk.get("/").get_data(as_text=True), "审核结果")
    assert f"已退回 {PROJECT_A} · 2023年度绩效自评 shenhe 于 2023-08-06 09:00 退回，请修改后重新提交 审核意见：请补充满意度调查结果" in told
    assert "审核结果" not in text_of(signed_in(app, p.manager_b).get("/").get_data(as_text=True))
    assert "暂无待审核的自评。" in section(reviewer.get("/").get_data(as_text=True), "绩效自评待审核")


def test_a_returned_round_reaches_the_manager(waiting):
    from test_rounds import decide
    app, p = waiting
    set_emails(app, p)
    reviewer, clerk = signed_in(app, p.supervisor_a), signed_in(app, p.manager_a)
    assert decide(reviewer, p.project_a, "return", comment="纠偏措施请写明时间安排").status_code == 303
    [mail] = outbox(app, "monitoring-review")
    assert mail.subject == f"【绩效目标跟踪】{PROJECT_A}2023年1-7月绩效运行监控已被退回"
    assert "纠偏措施请写明时间安排" in mail.text_body and f"/projects/{p.project_a}/monitoring/2023-07" in mail.text_body
    told = section(clerk.get("/").get_data(as_text=True), "审核结果")
    assert f"已退回 {PROJECT_A} · 2023年1-7月绩效运行监控" in told and "纠偏措施请写明时间安排" in told


def test_a_round_sent_to_rectification_tells_the_manager_how_many_items(waiting):
    from test_rounds import decide
    app, p = waiting
    set_emails(app, p)
    reviewer, clerk = signed_in(app, p.supervisor_a), signed_in(app, p.manager_a)
    assert decide(reviewer, p.project_a, "rectify", requirement_1="制定追赶计划", due_1="2023-08-31",
                  requirement_2="说明预算执行偏慢的原因", due_2="2023-08-25").status_code == 303
    [mail] = outbox(app, "monitoring-review")
    assert mail.subject == f"【绩效目标跟踪】{PROJECT_A}2023年1-7月绩效运行监控审核结论为需要整改"
    assert "审核人提出了2项整改事项" in mail.text_body
    told = section(clerk.get("/").get_data(as_text=True), "审核结果")
    assert f"需要整改 {PROJECT_A} · 2023年1-7月绩效运行监控 shenhe 于 2023-08-06 09:00 要求整改" in told
    assert "暂无待审核的监控。" in section(reviewer.get("/").get_data(as_text=True), "绩效运行监控待审核")
