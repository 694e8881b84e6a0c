"""`flask demo seed`'s year of work on the sample forms, so that every role finds each feature in
use: the 填报人's entries for 1–7月 (one indicator red, two 超额), the spending, a 调减 of
招商引资专项经费 (37,000,000 − 7,000,000 from 2023-06-30, DOMAIN.md §7), a 目标调整 waiting for the
审核人 (参展面积 ≥500 → ≥300平方米), and the 7月 monitoring round (§8): 招商引资专项经费 通过,
招商引资业务经费 需要整改 with its 整改 item answered by the 填报人 and waiting for the 审核人,
网络运行维护费 not yet submitted.

Everything goes through the write use cases (services/), as the demo users, inside one
transaction, each step on the day it would have happened in 2023 (each month's entries on the
3rd of the next, the round in August; never later than now), so that histories read as the real
ones would; the alerts are then brought in line as of today, as the morning's reminder cycle
would. It is added once: a database where the sample projects already have entries, a round or
an adjustment is left as it is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Mapping
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from domain import rules
from domain.indicators import effective_measure
from domain.monitoring import APPROVE, REQUIRE_RECTIFICATION
from models.actual import Actual, ActualInput
from models.adjustment import BudgetAdjustment
from models.indicator import Indicator
from models.monitoring import MonitoringSubmission
from models.project import Project, ProjectYear
from models.target_adjustment import TargetAdjustment

YEAR, ROUND_MONTH = 2023, 7
MANAGER, SUPERVISOR = "tianbao", "shenhe"            # commands/demo.py's DEMO_USERS
SPECIAL, BUSINESS, NETWORK = "招商引资专项经费", "招商引资业务经费", "网络运行维护费"
COUNTS = ("家", "场", "个", "次", "条")                 # units entered as whole numbers

# July's entries that tell a story; every other entry is on pace (green).
JULY = {
    (SPECIAL, "参展企业数量"): ActualInput(value=100, note="上半年参加中国国际投资贸易洽谈会等展会，组织企业参展较多",
                                      forecast=120),
    (SPECIAL, "参展面积"): ActualInput(value=200, deviation_reasons=["其他"], likelihood="有可能",
                                   deviation_note="受展馆改造影响，省外展会展位面积压缩；已申请将目标调整为≥300平方米"),
    (BUSINESS, "会议服务次数"): ActualInput(value=25, deviation_reasons=["人员保障"], likelihood="有可能",
                                      deviation_note="上半年会务人员借调，会议服务次数明显滞后"),
    (NETWORK, "官方网站更新消息数量"): ActualInput(value=180, note="专题栏目集中更新"),
}
MONTHLY_SPENT_YUAN = {SPECIAL: (2_800_000, 5_600_000, 8_300_000, 11_100_000, 13_800_000, 14_200_000, 15_000_000)}

CUT = dict(amount_yuan=-7_000_000, date=date(2023, 6, 30), doc_no="晋财预〔2023〕56号",
           reason="按省财政厅压减一般性支出的通知，调减招商引资专项经费700万元（展会规模缩减）")
TARGET_CHANGE = ("参展面积", "≥300平方米", "受省外展会场馆改造影响，展位面积普遍压缩，申请将参展面积由≥500平方米调整为≥300平方米")

ROUND_TEXTS = {
    SPECIAL: dict(goal_progress="1–7月组织参加省外重点展会3场，参展企业100家，签约项目到位资金约470亿元，"
                                "资金执行率50%，总体目标执行顺利。",
                  deviation="参展面积因展馆改造压缩，进度滞后（已提出目标调整）。",
                  correction="优化展位布局，争取下半年展会扩大展位；目标调整获批后按新目标执行。"),
    BUSINESS: dict(goal_progress="1–7月保障招商活动正常开展，会议服务25次，资金执行率约58%。",
                   deviation="会务人员借调，会议服务次数明显滞后于序时进度。",
                   correction="8月起补充会务人员，集中安排下半年会议服务。"),
}
APPROVED_COMMENT = "执行情况说明清楚，同意。"
RECTIFY = dict(requirement="会议服务次数严重滞后（红灯）。请制定会议服务补足计划，明确人员和时间安排，并报送整改结果及佐证材料。",
               due=date(2023, 9, 15))
# when each step happened (month, day), at 10:00 where the users are
ENTERED_ON_DAY, CUT_ON, PROPOSED_ON, SUBMITTED_ON, REVIEWED_ON, ANSWERED_ON = 3, (7, 3), (8, 4), (8, 9), (8, 11), (8, 21)
ANSWER = dict(measures="已从综合处调回会务人员2名，制定8–12月会议服务计划，每周不少于3次。",
              result="8月已完成会议服务14次，累计39次，预计年底可完成100次目标。")


@dataclass
class Seeded:
    year: ProjectYear
    project: Project
    indicators: dict[str, Indicator]


def add_activity(session: Session, now: datetime, today: date, config: Mapping) -> str:
    """Add the demo's work to the sample projects (see the module); answers what it did, in Chinese."""
    projects = _sample(session)
    if set(projects) != {SPECIAL, BUSINESS, NETWORK}:
        return "未找到示例项目（2023年度），未添加演示填报。"
    if _has_activity(session, [p.year.id for p in projects.values()]):
        return "示例项目已有填报、调整或监控记录，演示填报未再添加。"
    if today <= date(YEAR, ROUND_MONTH, 31):
        return f"今天（{today.isoformat()}）还在{YEAR}年7月底之前，未添加演示填报。"
    from services import alerts
    from services.adjustment import AdjustmentInput, record_adjustment
    from services.entry import Context
    from services.inputs import thresholds
    from services.target_adjustment import ChangeInput, ProposalInput, propose

    def on(month: int, day: int) -> datetime:
        """That day of the year at 10:00 where the users are, in UTC as stored; now at the latest."""
        return min(datetime(YEAR, month, day, 10, tzinfo=ZoneInfo("Asia/Shanghai")), now).astimezone(timezone.utc)

    special = projects[SPECIAL]
    for month in range(1, ROUND_MONTH + 1):
        if month == ROUND_MONTH:
            record_adjustment(session, special.year, AdjustmentInput(**CUT), MANAGER, on(*CUT_ON), config)
        clerk = Context(MANAGER, on(month + 1, ENTERED_ON_DAY), thresholds(config))
        for seeded in projects.values():
            _enter(session, seeded, month, clerk)
    name, target, reason = TARGET_CHANGE
    propose(session, special.year, ProposalInput(reason=reason, changes=[ChangeInput(
        indicator_id=special.indicators[name].id, target=target)]), MANAGER, on(*PROPOSED_ON), config)
    rounds = _monitoring_round(session, projects, on, config)
    alerts.after_write(session, [p.year.id for p in projects.values()], now, config)     # as of today
    return ("已添加演示填报：1–7月实际值和支出、招商引资专项经费调减700万元、一项待审核的目标调整"
            + (f"、7月监控（{rounds}）。" if rounds else "。"))


def _sample(session: Session) -> dict[str, Seeded]:
    found = {}
    rows = session.exec(select(Project, ProjectYear).join(ProjectYear, ProjectYear.project_id == Project.id)
                        .where(Project.name.in_([SPECIAL, BUSINESS, NETWORK]), ProjectYear.year == YEAR))
    for project, py in rows:
        indicators = session.exec(select(Indicator).where(Indicator.project_year_id == py.id,
                                                          Indicator.retired_at.is_(None),
                                                          Indicator.annual_raw.is_not(None))
                                  .order_by(Indicator.position)).all()
        found[project.name] = Seeded(py, project, {ind.name: ind for ind in indicators})
    return found


def _has_activity(session: Session, ids: list[int]) -> bool:
    return any(session.exec(query).first() is not None for query in (
        select(Actual.id).join(Indicator, Indicator.id == Actual.indicator_id).where(Indicator.project_year_id.in_(ids)),
        select(BudgetAdjustment.id).where(BudgetAdjustment.project_year_id.in_(ids)),
        select(TargetAdjustment.id).where(TargetAdjustment.project_year_id.in_(ids)),
        select(MonitoringSubmission.id).where(MonitoringSubmission.project_year_id.in_(ids))))


def _enter(session: Session, seeded: Seeded, month: int, clerk) -> None:
    """A month's entries: each indicator on pace, or its July story (on the way to it before
    July), and the cumulative spending."""
    from services.entry import record_actual, record_spending
    py, name = seeded.year, seeded.project.name
    for ind in seeded.indicators.values():
        story = JULY.get((name, ind.name)) if month == ROUND_MONTH else None
        if story is None and (name, ind.name) in JULY:
            story = _on_the_way(JULY[(name, ind.name)], month)
        record_actual(session, ind, py, YEAR, month, story or on_pace(ind, month), clerk)
    spent = MONTHLY_SPENT_YUAN.get(name)
    amount = Decimal(spent[month - 1]) if spent else \
        (Decimal(py.annual_total_yuan) * month / 12 * Decimal("0.95")).quantize(Decimal(1))
    record_spending(session, py, YEAR, month, amount, clerk)


def _on_the_way(july: ActualInput, month: int) -> ActualInput:
    """Before July, a story's indicator grows steadily towards July's value."""
    return ActualInput(value=math.ceil(july.value * month / ROUND_MONTH), **(
        {"deviation_reasons": july.deviation_reasons, "deviation_note": july.deviation_note,
         "likelihood": july.likelihood} if july.deviation_reasons else {}))


def on_pace(ind: Indicator, month: int) -> ActualInput:
    """An entry on the year's pace (a green light), whatever the indicator's kind: a cumulative
    target reached by the share of the year gone (whole numbers for counts), a ceiling kept, a
    level met, a qualitative one 达成."""
    measure = effective_measure(ind)
    if measure == rules.QUALITATIVE:
        return ActualInput(assessment=rules.ACHIEVED)
    target, op = Decimal(ind.annual_value), ind.annual_op
    if measure == rules.LEVEL:
        return ActualInput(value=target if op in (">=", "=") else target + 1 if op == ">" else target / 2)
    share = target * month / 12
    if op in ("<=", "<"):
        return ActualInput(value=(share * Decimal("0.9")).quantize(Decimal("0.01")))
    if ind.annual_unit in COUNTS:
        return ActualInput(value=math.ceil(share))
    return ActualInput(value=share.quantize(Decimal("0.01")))


def _monitoring_round(session: Session, projects: dict[str, Seeded], on, config: Mapping) -> str:
    """The July round: one 通过, one 需要整改 with its item answered; the third owed."""
    from reads.monitoring import monitoring_sheet, sheet_month
    from reads.rounds import is_off_track, round_of_month
    from services.rectifications import AnswerInput, RectificationInput, answer_rectification
    from services.rounds import RoundInput, review_round, save_round

    done = []
    for name, decision in ((SPECIAL, APPROVE), (BUSINESS, REQUIRE_RECTIFICATION)):
        seeded = projects[name]
        py, project = seeded.year, seeded.project
        rnd = round_of_month(session, py, ROUND_MONTH, config)
        if rnd is None:                      # the settings have no round as of 7-31
            return ""
        submitted, reviewed = on(*SUBMITTED_ON), on(*REVIEWED_ON)
        sheet = monitoring_sheet(session, project, py, sheet_month(py, rnd.month), submitted.date(), config)
        row = save_round(session, py, rnd, RoundInput(**ROUND_TEXTS[name]), MANAGER, "manager", submitted,
                         submitted.date(), submit=True, off_track=is_off_track(sheet))
        if decision == APPROVE:
            review_round(session, row, py, project, APPROVE, APPROVED_COMMENT, [], SUPERVISOR, "supervisor", reviewed,
                         reviewed.date())
            done.append(f"{name}已通过")
            continue
        item = RectificationInput(indicator_id=seeded.indicators["会议服务次数"].id, requirement=RECTIFY["requirement"],
                                  due=RECTIFY["due"])
        [raised] = review_round(session, row, py, project, REQUIRE_RECTIFICATION, None, [item], SUPERVISOR,
                                "supervisor", reviewed, reviewed.date())
        answer_rectification(session, raised, AnswerInput(**ANSWER), [], [], MANAGER, "manager", on(*ANSWERED_ON))
        done.append(f"{name}需要整改，整改情况已填报、待审核")
    return "；".join(done)
