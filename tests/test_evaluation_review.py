"""The 绩效自评 page (DOMAIN.md §5) and its review: the score table from stored actuals, weights
within the rules, qualitative scores within their band, configurable grades, and the steps
提交 → 通过 / 退回 (with a comment) → 撤回, each kept, the refused ones refused."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlmodel import Session, select

from conftest import csrf_token, signed_in, text_of
from test_api import year_of

SERVICE = "招商引资业务经费"   # 产出 has four indicators (12.5 points each), two of them qualitative
YEAR_END = datetime(2024, 1, 10, 2, 0, tzinfo=timezone.utc)


def record(app, indicator_id: int, month: int, who: str = "tianbao", **values):
    from models.actual import ActualInput
    from services.entry import Context, record_actual
    from models.db import get_session, transaction
    from models.indicator import Indicator
    from models.project import ProjectYear
    with app.app_context():
        session = get_session()
        ind = session.get(Indicator, indicator_id)
        with transaction(session):
            record_actual(session, ind, session.get(ProjectYear, ind.project_year_id), 2023, month,
                          ActualInput(**values), Context(who, YEAR_END))


def spend(app, py_id: int, month: int, amount):
    from services.entry import Context, record_spending
    from models.db import get_session, transaction
    from models.project import ProjectYear
    with app.app_context():
        session = get_session()
        with transaction(session):
            record_spending(session, session.get(ProjectYear, py_id), 2023, month, amount, Context("tianbao", YEAR_END))


@pytest.fixture
def service(seeded, personas):
    """The project at the year's end: a 达成, a 部分达成, 100 meetings and all of its spending."""
    seeded.config["CLOCK"] = lambda: YEAR_END
    py, ids = year_of(seeded, SERVICE)
    record(seeded, ids["保障招商活动开展"], 12, assessment="达成")
    record(seeded, ids["项目按时完成"], 12, assessment="部分达成", deviation_reasons=["人员保障"])
    record(seeded, ids["会议服务次数"], 12, value=100)
    spend(seeded, py, 12, 771100)
    from models.project import Project
    with Session(seeded.extensions["engine"]) as session:
        project = session.exec(select(Project.id).where(Project.name == SERVICE)).one()
    return py, ids, project


def make_ready(app, py_id: int) -> None:
    """What a complete 自评 has: every qualitative score set by the evaluator, a 偏差原因分析 for
    each indicator below full marks, and a reason for each period not entered."""
    from datetime import date

    from models.db import get_session, transaction
    from models.project import ProjectYear
    from reads.self_evaluation import score_table
    from services.self_evaluation import save_self_evaluation, set_evaluator_score
    with app.app_context():
        session = get_session()
        py = session.get(ProjectYear, py_id)
        as_of = date(2023, 12, 31)
        with transaction(session):
            for row in score_table(session, py, as_of).rows:
                if row.suggested:
                    set_evaluator_score(session, py, row.indicator, row.band.shown[0], as_of)
        with transaction(session):
            table = score_table(session, py, as_of)
            notes = {r.indicator.id: "原因分析：年中调整工作重点；改进措施：次年提前部署" for r in table.rows if not r.full_marks}
            gaps = {gap.month: "该期未组织填报，数据以12月为准" for gap in table.completeness.gaps}
            save_self_evaluation(session, py, {}, notes, "tianbao", YEAR_END, as_of, None, gaps)


def url(project: int, action: str = "") -> str:
    return f"/projects/{project}/evaluation{'/' + action if action else ''}"


def post(client, project: int, action: str = "", **data):
    data = {"csrf_token": csrf_token(client, url(project)), "year": "2023", **data}
    return client.post(url(project, action), data=data)


def steps(app, py: int):
    from models.evaluation import EvaluationStep
    with Session(app.extensions["engine"]) as session:
        return [(s.who, s.role, s.action, s.from_state, s.to_state, s.comment) for s in
                session.exec(select(EvaluationStep).where(EvaluationStep.project_year_id == py)
                             .order_by(EvaluationStep.id))]


def state(app, py: int) -> str:
    from reads.self_evaluation import review_state
    from models.project import ProjectYear
    with Session(app.extensions["engine"]) as session:
        return review_state(session, session.get(ProjectYear, py))


def test_the_score_table_shows_the_points_of_the_stored_actuals(seeded, personas, service):
    py, ids, project = service
    page = signed_in(seeded, personas.manager_a).get(url(project))
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    # 10 (budget, 100 %) + 12.5 (100 meetings) + 11.25 (达成) + 8.75 (部分达成): the middles; the rest no actual
    assert "总分 42.50 分 · 评价等级 差" in text
    assert "预算执行率 771,100.00 元 771,100.00 元（100.00%） 10.00 10.00" in text
    assert "产出指标小计 50.00 32.50" in text and "效益指标小计 30.00 0.00" in text
    assert "满意度指标小计 10.00 0.00" in text
    assert "会议服务次数" in text and "100次" in text
    assert "审核状态： 草稿" in text


def test_grade_bands_come_from_the_settings(seeded, personas, service):
    _py, _ids, project = service
    seeded.config["GRADE_BANDS"] = {"优": 60, "良": 50, "中": 40}
    text = text_of(signed_in(seeded, personas.manager_a).get(url(project)).get_data(as_text=True))
    assert "评价等级 中" in text and "优 ≥ 60，良 ≥ 50，中 ≥ 40" in text


def test_weights_must_add_up_per_level_and_notes_are_kept(seeded, personas, service):
    py, ids, project = service
    clerk = signed_in(seeded, personas.manager_a)
    meetings, events = ids["会议服务次数"], ids["保障招商活动开展"]
    refused = post(clerk, project, **{f"weight_{meetings}": "20"})
    assert refused.status_code == 422
    assert "产出指标各指标的权重合计57.50分，应为50.00分" in text_of(refused.get_data(as_text=True))
    assert post(clerk, project, **{f"weight_{meetings}": "很多"}).status_code == 422
    # 20 + 10 + 10 + 10 = 50: accepted; meetings now carries 20 points, the note is kept
    others = [i for n, i in ids.items() if n in ("保障招商活动开展", "项目按时完成")]
    level = [meetings] + others
    from models.indicator import Indicator
    with Session(seeded.extensions["engine"]) as session:
        output = [i.id for i in session.exec(select(Indicator).where(Indicator.project_year_id == py))
                  if (i.level1_std or i.level1) == "产出指标"]
    assert set(level) <= set(output) and len(output) == 4
    data = {f"weight_{i}": ("20" if i == meetings else "10") for i in output}
    data[f"note_{events}"] = "加强与会展中心的协调，提前锁定档期"
    saved = post(clerk, project, **data)
    assert saved.status_code == 303
    text = text_of(clerk.get(url(project)).get_data(as_text=True))
    assert "产出指标小计 50.00 36.00" in text and "总分 100.00 46.00" in text   # 20 + 9 (达成) + 7 (部分达成)
    assert "加强与会展中心的协调，提前锁定档期" in text


def test_a_qualitative_score_only_within_its_band(seeded, personas, service):
    _py, ids, project = service
    reviewer = signed_in(seeded, personas.supervisor_a)
    events = ids["保障招商活动开展"]
    refused = post(reviewer, project, "scores", **{f"score_{events}": "9"})
    assert refused.status_code == 422
    assert "评定为达成，得分应在10.00–12.50分之间" in text_of(refused.get_data(as_text=True))
    assert post(reviewer, project, "scores", **{f"score_{events}": "11"}).status_code == 303
    assert "总分 42.25 分" in text_of(reviewer.get(url(project)).get_data(as_text=True))
    # a 填报人 sets no scores; another 主管部门's 审核人 does not see the project
    assert post(signed_in(seeded, personas.manager_a), project, "scores", **{f"score_{events}": "12"}).status_code == 403
    assert signed_in(seeded, personas.manager_b).get(url(project)).status_code == 404


def test_submit_return_with_a_comment_resubmit_approve_and_every_step_is_kept(seeded, personas, service):
    py, _ids, project = service
    make_ready(seeded, py)
    clerk, reviewer = signed_in(seeded, personas.manager_a), signed_in(seeded, personas.supervisor_a)
    assert post(clerk, project, "submit").status_code == 303 and state(seeded, py) == "submitted"
    # locked while submitted
    assert post(clerk, project).status_code == 303
    assert "权重和偏差原因分析已锁定" in clerk.get(url(project)).get_data(as_text=True)
    # a return needs a comment
    missing = post(reviewer, project, "return", comment="  ")
    assert missing.status_code == 422 and "退回时请填写退回意见" in missing.get_data(as_text=True)
    assert state(seeded, py) == "submitted"
    assert post(reviewer, project, "return", comment="满意度指标缺少调查结果").status_code == 303
    assert state(seeded, py) == "returned"
    # the 审核人 cannot approve what is not submitted; the 填报人 cannot approve at all
    assert post(reviewer, project, "approve").status_code == 303 and state(seeded, py) == "returned"
    assert post(clerk, project, "approve").status_code == 403
    assert post(clerk, project, "submit").status_code == 303
    assert post(reviewer, project, "approve").status_code == 303 and state(seeded, py) == "approved"
    # approved: the 填报人 may not withdraw it, an admin reopens it
    assert post(clerk, project, "withdraw").status_code == 303 and state(seeded, py) == "approved"
    admin = signed_in(seeded, personas.admin)
    assert post(admin, project, "withdraw").status_code == 303 and state(seeded, py) == "draft"
    assert steps(seeded, py) == [
        ("tianbao", "manager", "提交", "draft", "submitted", None),
        ("shenhe", "supervisor", "退回", "submitted", "returned", "满意度指标缺少调查结果"),
        ("tianbao", "manager", "提交", "returned", "submitted", None),
        ("shenhe", "supervisor", "通过", "submitted", "approved", None),
        ("admin", "admin", "撤回", "approved", "draft", None),
    ]
    text = text_of(clerk.get(url(project)).get_data(as_text=True))
    assert "满意度指标缺少调查结果" in text and "填报人甲（tianbao）" in text and text.count("提交") >= 2


def test_a_refused_step_answers_409_to_htmx(seeded, personas, service):
    py, _ids, project = service
    reviewer = signed_in(seeded, personas.supervisor_a)
    token = csrf_token(reviewer, url(project))
    answer = reviewer.post(url(project, "approve"), data={"csrf_token": token, "year": "2023"},
                           headers={"HX-Request": "true"})
    assert answer.status_code == 409 and "只有已提交待审核的自评可以通过" in answer.get_data(as_text=True)
    assert steps(seeded, py) == []


def test_two_approvals_at_once_only_one_succeeds(seeded, personas, service):
    """Two reviewers in two threads: the conditional update lets exactly one move the state."""
    from models.db import transaction
    from domain.review import APPROVE, SUBMIT
    from models.project import ProjectYear
    from services.self_evaluation import ReviewConflict, move_review
    py, _ids, _project = service
    engine = seeded.extensions["engine"]
    with Session(engine) as session:
        with transaction(session):
            move_review(session, session.get(ProjectYear, py), SUBMIT, "tianbao", "manager", YEAR_END)
    outcomes, barrier = [], threading.Barrier(2)

    def approve(who):
        with Session(engine) as session:
            year = session.get(ProjectYear, py)
            session.commit()
            barrier.wait()
            try:
                with transaction(session):
                    move_review(session, year, APPROVE, who, "supervisor", YEAR_END)
                outcomes.append("ok")
            except ReviewConflict as exc:
                outcomes.append(str(exc))

    threads = [threading.Thread(target=approve, args=(who,)) for who in ("shenhe", "shenhe_all")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes)[0] == "ok" and "只有已提交待审核的自评可以通过" in sorted(outcomes)[1]
    assert [s[2] for s in steps(seeded, py)] == ["提交", "通过"]


# --------------------------------------------------------------------------- issue 13.5 and 13.8 on the page

SERVICE_NAMES = ["会议服务次数", "保障招商活动开展", "项目按时完成", "成本指标", "对我省招商引资的作用", "服务投诉率",
                 "服务对象满意度"]


def page_text(client, project: int) -> str:
    return text_of(client.get(url(project)).get_data(as_text=True))


def test_suggested_scores_are_marked_and_submission_waits_until_nothing_is_missing(seeded, personas, service):
    py, ids, project = service
    clerk, reviewer = signed_in(seeded, personas.manager_a), signed_in(seeded, personas.supervisor_a)
    text = page_text(clerk, project)
    assert "含2项建议分" in text and "数据截至2023年12月（其中4项的数据早于该期，见各行）" in text
    assert "11.25 建议 达成 10.00–12.50分" in text and "8.75 建议 部分达成 7.50–10.00分（不含10.00分）" in text
    assert "提交前尚需完成" in text and "1月未填报且未说明原因：全部7项指标及预算支出" in text

    refused = post(clerk, project, "submit")
    assert refused.status_code == 422 and state(seeded, py) == "draft"
    text = text_of(refused.get_data(as_text=True))
    assert "自评尚不能提交，请先补齐以下内容：" in text
    for line in ("1月未填报且未说明原因：全部7项指标及预算支出",
                 "12月未填报且未说明原因：成本指标、对我省招商引资的作用、服务投诉率、服务对象满意度",
                 "以下指标未得满分，请填写偏差原因分析及改进措施：保障招商活动开展、项目按时完成、成本指标",
                 "以下定性指标的得分仍为建议分，请评价人（审核人）在区间内确定得分：保障招商活动开展、项目按时完成"):
        assert line in text, line

    # the 填报人 explains the periods and writes the analysis where marks are missing
    below = ["保障招商活动开展", "项目按时完成", "成本指标", "对我省招商引资的作用", "服务投诉率", "服务对象满意度"]
    data = {f"gap_{m}": "本年度1-11月未开展月度填报，以12月数据为准" for m in range(1, 13)}
    data |= {f"note_{ids[n]}": "偏差原因：会展档期调整；改进措施：提前锁定档期" for n in below}
    assert post(clerk, project, **data).status_code == 303
    text = page_text(clerk, project)
    assert "未填报且未说明原因" not in text and "请填写偏差原因分析及改进措施" not in text
    assert "以下定性指标的得分仍为建议分" in text

    # the evaluator sets the two scores inside their bands; then it may be submitted
    assert post(reviewer, project, "scores", **{f"score_{ids['保障招商活动开展']}": "11",
                                                f"score_{ids['项目按时完成']}": "9.5"}).status_code == 303
    text = page_text(clerk, project)
    assert "建议" not in text and "可以提交审核" in text and "总分 43.00 分" in text     # 10 + 12.5 + 11 + 9.5
    assert post(clerk, project, "submit").status_code == 303 and state(seeded, py) == "submitted"


def test_one_period_not_entered_nor_explained_is_named(seeded, personas, service):
    py, ids, project = service
    make_ready(seeded, py)
    clerk = signed_in(seeded, personas.manager_a)
    assert post(clerk, project, gap_10="").status_code == 303          # the explanation of October taken back
    refused = post(clerk, project, "submit")
    assert refused.status_code == 422
    text = text_of(refused.get_data(as_text=True))
    assert "10月未填报且未说明原因：全部7项指标及预算支出" in text and "9月未填报" not in text
    assert "2023年10月" in text and "（未说明）" not in text           # the 填报人 sees the field to explain it
    assert post(clerk, project, gap_10="系统维护，10月未开放填报").status_code == 303
    assert post(clerk, project, "submit").status_code == 303


def test_an_execution_rate_below_90_percent_needs_its_reason_on_the_form(seeded, personas, service):
    py, ids, project = service
    spend(seeded, py, 12, 385550)
    make_ready(seeded, py)
    clerk = signed_in(seeded, personas.manager_a)
    text = page_text(clerk, project)
    assert "执行率低于90%的原因（必填）" in text
    assert "预算执行率为50.00%，低于90%，请填写执行率偏低的原因" in text
    assert post(clerk, project, "submit").status_code == 422
    assert post(clerk, project, execution_reason="部分合同款项跨年支付").status_code == 303
    assert "请填写执行率偏低的原因" not in page_text(clerk, project)
    printed = text_of(clerk.get(f"/projects/{project}/evaluation/print").get_data(as_text=True))
    assert "执行率偏低原因 部分合同款项跨年支付" in printed
    assert post(clerk, project, "submit").status_code == 303


def test_a_reviewer_changes_the_level_weights_on_the_page_with_a_reason(seeded, personas, service):
    py, ids, project = service
    reviewer = signed_in(seeded, personas.supervisor_a)
    weights = {"budget_points": "20", "output_points": "40", "benefit_points": "30", "satisfaction_points": "10"}
    too_many = post(reviewer, project, "weights", **{**weights, "output_points": "50"}, weights_reason="资金保障为主")
    assert too_many.status_code == 422 and "一级指标分值合计应为100分，现为110.00分" in text_of(too_many.get_data(as_text=True))
    no_reason = post(reviewer, project, "weights", **weights)
    assert no_reason.status_code == 422 and "调整一级指标分值须说明理由" in text_of(no_reason.get_data(as_text=True))
    assert post(signed_in(seeded, personas.manager_a), project, "weights", **weights,
                weights_reason="x").status_code == 403
    assert post(reviewer, project, "weights", **weights, weights_reason="资金保障为主（特殊情况）").status_code == 303
    text = page_text(reviewer, project)
    assert "一级指标分值：预算执行率 20 · 产出指标 40 · 效益指标 30 · 满意度指标 10 （审核人已调整：资金保障为主（特殊情况））" in text
    assert "预算执行率 771,100.00 元 771,100.00 元（100.00%） 20.00 20.00" in text
    assert "shenhe 预算执行率 20、产出指标 40、效益指标 30、满意度指标 10 资金保障为主（特殊情况）" in text


def test_an_evaluator_deducts_for_a_target_set_too_low_on_the_page(seeded, personas):
    seeded.config["CLOCK"] = lambda: YEAR_END
    py, ids = year_of(seeded, "招商引资专项经费")
    record(seeded, ids["参展企业数量"], 12, value=100, over_reason="目标按上年规模设定")
    spend(seeded, py, 12, 37_000_000)
    project = personas.project_a
    reviewer = signed_in(seeded, personas.supervisor_a)
    html = reviewer.get(url(project)).get_data(as_text=True)
    firms = html[html.index(f'id="ev-{ids["参展企业数量"]}"'):]
    firms = firms[:firms.index("</tr>")]
    assert 'class="over-mark"' in firms and f'name="deduct_{ids["参展企业数量"]}"' in firms
    assert f'name="deduct_{ids["参展面积"]}"' not in html                       # not 超额: nothing to deduct
    refused = post(reviewer, project, "scores", **{f"deduct_{ids['参展企业数量']}": "1"})
    assert refused.status_code == 422 and "请填写“参展企业数量”的扣分理由" in text_of(refused.get_data(as_text=True))
    assert post(reviewer, project, "scores", **{f"deduct_{ids['参展企业数量']}": "1",
                                                f"deduct_reason_{ids['参展企业数量']}": "目标低于上年实际"}).status_code == 303
    text = page_text(signed_in(seeded, personas.manager_a), project)
    assert "扣 1.00 分 扣分理由：目标低于上年实际" in text
    xlsx_note = "因目标设定偏低扣1.00分：目标低于上年实际"
    assert xlsx_note in text_of(reviewer.get(f"/projects/{project}/evaluation/print").get_data(as_text=True))
