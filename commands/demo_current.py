"""`flask demo seed`'s current year, beside the sample 2023 forms: so that whoever signs in first
finds this year's work under way rather than "逾期 1000 多天".

The scenario year is the year of last month: the machine's year, except in January, when the
work in hand is still last year's (its December is what is due), so the scenario is last year's.
Seven projects in three 实施单位 — 山西省投资促进局 (tianbao's, three projects) and 山西省商务厅信息中心
under the demo 主管部门 山西省商务厅 (shenhe's), and 山西省发展和改革委员会本级 outside it (the admin
sees it) — their forms made by `flask demo synth`'s generator (commands/demo.py) and stored
through the import use case; each month's entries and spending entered by the 填报人 on the 3rd of
the next month, up to last month (never later than now; 平台运行维护费's last month not yet): most indicators on pace, a few stories —
three reds, three yellows, a 超额, a project spending slowly. Then, once the year's monitoring round
(MONITORING_ROUNDS; 7月 by default) is past: 展会组织专项经费 submitted and waiting for the 审核人,
对外交流合作项目 reviewed 需要整改 with its item open for the 填报人 (due two weeks ahead at least),
平台运行维护费 通过;
and a 目标调整 of 对外交流合作项目's red indicator waiting for the 审核人. Before the round (February
to early August) the year has no round yet and those are left out, as they would be in life.
The 自评 waiting for the 审核人 cannot be of a year not over: it is of the year before, where
展会组织专项经费 has its form, twelve months on pace and its 自评 submitted on 1月20日.

Everything through the write use cases (services/), as the demo users, dated in the past; added
once: project years of the scenario that already have entries are left as they are.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Mapping
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from commands.demo_activity import MANAGER, SUPERVISOR, Seeded, _has_activity, on_pace, seeded_year
from commands.demo_activity import YEAR as SAMPLE_YEAR
from domain import rules
from domain.indicators import effective_measure
from models.actual import ActualInput
from models.indicator import Indicator
from models.org import Unit
from models.project import Project, ProjectYear

SEED = 7                                     # the synth generator's seed: the same forms every run
CLERK_UNIT = "山西省投资促进局"                  # tianbao's (commands/demo.py's DEMO_USERS)
DEPARTMENTS = {"山西省商务厅": "216", "山西省发展和改革委员会": "217"}
# (实施单位, 主管部门, projects)
UNITS = (
    (CLERK_UNIT, "山西省商务厅", ("展会组织专项经费", "对外交流合作项目", "平台运行维护费")),
    ("山西省商务厅信息中心", "山西省商务厅", ("信息化建设项目", "数据共享工作经费")),
    ("山西省发展和改革委员会本级", "山西省发展和改革委员会", ("规划编制专项经费", "课题研究项目")),
)
# Which indicators go off pace: project → stories, told to its cumulative "≥" indicators in order.
# The share is of the year's pace (1 = on pace); 超额 ends at 140 % of the annual target.
RED, YELLOW, OVER = 0.42, 0.72, None
STORIES = {"展会组织专项经费": (YELLOW, OVER), "对外交流合作项目": (RED,), "信息化建设项目": (RED,),
           "数据共享工作经费": (YELLOW,), "规划编制专项经费": (RED, YELLOW)}
LATE = "平台运行维护费"                            # last month's entries not in yet: due, or a few days overdue
SLOW_SPENDING = {"对外交流合作项目": Decimal("0.55"), "规划编制专项经费": Decimal("0.7")}
DEVIATION = {RED: dict(deviation_reasons=["人员保障"], likelihood="有可能",
                       deviation_note="上半年业务骨干借调，工作推进明显滞后；已调整人员安排，下半年集中推进。"),
             YELLOW: dict(deviation_reasons=["其他"], likelihood="确定能",
                          deviation_note="部分活动受场地安排影响推迟，预计四季度可追上进度。")}
OVER_NOTE = "年初目标按上年规模设定，本年服务需求明显增加。"

EVALUATED = "展会组织专项经费"                    # last year's, with its 自评 waiting for the 审核人
EVALUATION_TEXTS = dict(goal_achieved="全年组织参加重点展会，各项年度绩效目标均已完成，资金执行率96%。",
                        conclusion="项目按计划实施，年度绩效目标全部完成，自评结果为优。",
                        problems="部分展会筹备时间较紧，前期宣传不够充分。",
                        improvements="提前谋划下一年度展会计划，加强前期宣传和企业动员。")
ROUND_TEXTS = dict(goal_progress="各项工作按计划推进，资金执行基本符合序时进度。",
                   deviation="个别指标受人员借调影响进度滞后。", correction="调整人员安排，下半年集中推进滞后指标。")
RECTIFY = "指标进度明显滞后（红灯）。请制定补足计划，明确人员和时间安排，并报送整改结果及佐证材料。"
TARGET_CHANGE_REASON = "受人员借调影响，年度任务量难以按原目标完成，申请将目标下调至原目标的七成。"


@dataclass
class Scenario:
    year: int
    last_month: int            # the last period entered (0: none yet)


ENTERED_ON_DAY = 3                            # each month's entries on the 3rd of the next


def scenario_of(today: date) -> Scenario:
    """The year of last month, and the last month entered by today (last month from the 3rd on)."""
    last = today.replace(day=1) - timedelta(days=1)
    return Scenario(last.year, last.month if today.day >= ENTERED_ON_DAY else last.month - 1)


def add_current_year(session: Session, now: datetime, today: date, config: Mapping) -> str:
    """Store the scenario's forms and add its year of work (see the module); answers in Chinese."""
    scenario = scenario_of(today)
    if scenario.year <= SAMPLE_YEAR:      # a clock set back (tests): the sample forms are this year's work
        return f"{scenario.year}年度即示例项目的年度，未添加本年度演示项目。"
    if _stored_with_work(session, scenario.year):
        return f"{scenario.year}年度演示项目已有填报，未再添加。"
    _import_forms(session, scenario.year, now, config)
    projects = _projects(session, scenario.year)

    def on(month: int, day: int) -> datetime:
        return at(scenario.year, month, day, now)

    _entries(session, projects, scenario, on, config)
    done = [f"{scenario.year}年度演示项目{len(projects)}个（{len(UNITS)}个实施单位），1–{scenario.last_month}月实际值和支出"
            f"（{LATE}{scenario.last_month}月未填）" if scenario.last_month else
            f"{scenario.year}年度演示项目{len(projects)}个（{len(UNITS)}个实施单位）"]
    done += _round(session, projects, scenario, today, on, config)
    evaluated = _last_years_evaluation(session, scenario.year - 1, now, config)
    from services import alerts
    alerts.after_write(session, [p.year.id for p in projects.values()] + evaluated, now, config)     # as of today
    if evaluated:
        done.append(f"{scenario.year - 1}年度{EVALUATED}全年填报和一份待审核的自评")
    return "已添加" + "、".join(done) + "。"


def at(year: int, month: int, day: int, now: datetime) -> datetime:
    """That day of `year` (month 13: January of the next) at 10:00 where the users are, in UTC as
    stored; now at the latest."""
    year, month = (year + 1, 1) if month == 13 else (year, month)
    return min(datetime(year, month, day, 10, tzinfo=ZoneInfo("Asia/Shanghai")), now).astimezone(timezone.utc)


def _last_years_evaluation(session: Session, year: int, now: datetime, config: Mapping) -> list[int]:
    """The 自评 waiting for the 审核人 is of last year (the current one is not over): one project,
    its form, its twelve months on pace, its 自评 filled and submitted on 1月20日 of the year after.
    Nothing when that year is the sample's or older, or the project's year is already at work."""
    from services.entry import Context, record_actual, record_spending
    from services.importing import apply_import, form_sha256
    from services.inputs import thresholds
    from reads.self_evaluation import evaluate, evaluation_inputs
    from services.self_evaluation import SUBMIT, move_review, save_evaluator_part, save_self_evaluation

    if year <= SAMPLE_YEAR or _stored_with_work(session, year):
        return []
    [form] = [f for f in _forms(year) if f["project_name"] == EVALUATED]
    apply_import(session, [form], file_name=f"演示数据（{year}年度）", who="演示数据", now=at(year, 1, 10, now),
                 reorganise=True, file_sha256=form_sha256(form))
    seeded = _projects(session, year)[EVALUATED]
    for month in range(1, 13):
        clerk = Context(MANAGER, at(year, month + 1, ENTERED_ON_DAY, now), thresholds(config))
        for ind in seeded.indicators.values():
            record_actual(session, ind, seeded.year, year, month, on_pace(ind, month), clerk)
        amount = (Decimal(seeded.year.annual_total_yuan) * month / 12 * Decimal("0.96")).quantize(Decimal(1))
        record_spending(session, seeded.year, year, month, amount, clerk)
    submitted = at(year, 13, 20, now)
    evaluation = evaluate(seeded.year, evaluation_inputs(session, seeded.year, submitted.date()))
    # the 评价人's scores of the qualitative ones, all 达成: the top of their band
    save_evaluator_part(session, seeded.year, {scored.id: str(scored.band.high) for scored in evaluation.indicators
                                               if scored.band is not None and scored.band.high_included}, {},
                        submitted.date())
    save_self_evaluation(session, seeded.year, {}, {}, MANAGER, submitted, submitted.date(), texts=EVALUATION_TEXTS)
    move_review(session, seeded.year, SUBMIT, MANAGER, "manager", submitted, as_of=submitted.date())
    return [seeded.year.id]


def _stored_with_work(session: Session, year: int) -> bool:
    ids = [p.year.id for p in _projects(session, year).values()]
    return bool(ids) and _has_activity(session, ids)


def _forms(year: int) -> list[dict]:
    """The forms, from `flask demo synth`'s generator (the same ones for a given year)."""
    from commands.synth import SynthProject, SynthProjectYear
    from services.inputs import thresholds

    forms, index = [], 0
    for u, (unit, department, names) in enumerate(UNITS):
        for name in names:
            made = SynthProjectYear(SynthProject(index, unit, department, name, u), 0, 0, 0, year, SEED,
                                    datetime(year, 1, 1, tzinfo=timezone.utc), 5, 1, 0, thresholds({}))
            forms.append(made.form(department, DEPARTMENTS[department]))
            index += 1
    return forms


def _import_forms(session: Session, year: int, now: datetime, config: Mapping) -> None:
    from services.importing import apply_import, form_sha256

    forms = _forms(year)
    imported = min(datetime(year, 1, 10, 10, tzinfo=ZoneInfo("Asia/Shanghai")), now).astimezone(timezone.utc)
    apply_import(session, forms, file_name=f"演示数据（{year}年度）", who="演示数据", now=imported, reorganise=True,
                 file_sha256=form_sha256({"forms": [form_sha256(f) for f in forms]}))


def _projects(session: Session, year: int) -> dict[str, Seeded]:
    names = [name for _u, _d, names in UNITS for name in names]
    rows = session.exec(select(Project, ProjectYear).join(ProjectYear, ProjectYear.project_id == Project.id)
                        .join(Unit, Unit.id == Project.unit_id)
                        .where(Project.name.in_(names), Unit.name.in_([u for u, _d, _n in UNITS]),
                               ProjectYear.year == year))
    return {project.name: seeded_year(session, project, py) for project, py in rows}


def stories_of(seeded: Seeded) -> dict[int, float | None]:
    """Indicator id → its story (a share of the pace, or OVER), for the project's stories."""
    told = STORIES.get(seeded.project.name, ())
    counted = [ind for ind in seeded.indicators.values()
               if effective_measure(ind) == rules.CUMULATIVE and ind.annual_op in (">=", ">")]
    return {ind.id: story for ind, story in zip(counted, told)}


def _entries(session: Session, projects: dict[str, Seeded], scenario: Scenario, on, config: Mapping) -> None:
    from services.entry import Context, record_actual, record_spending
    from services.inputs import thresholds

    for month in range(1, scenario.last_month + 1):
        clerk = Context(MANAGER, on(month + 1, ENTERED_ON_DAY), thresholds(config))
        for name, seeded in projects.items():
            stories = stories_of(seeded)
            if name == LATE and month == scenario.last_month:
                continue
            for ind in seeded.indicators.values():
                story = stories.get(ind.id, 1)
                entry = on_pace(ind, month) if story == 1 else _story(ind, month, scenario.last_month, story)
                record_actual(session, ind, seeded.year, scenario.year, month, entry, clerk)
            pace = SLOW_SPENDING.get(name, Decimal("0.95"))
            amount = (Decimal(seeded.year.annual_total_yuan) * month / 12 * pace).quantize(Decimal(1))
            record_spending(session, seeded.year, scenario.year, month, amount, clerk)


def _story(ind: Indicator, month: int, last_month: int, story: float | None) -> ActualInput:
    """An off-pace entry: a share of the pace with its reasons, or (OVER) growing to 140 % of
    the annual target by the last month entered."""
    target = Decimal(ind.annual_value)
    whole = ind.annual_unit not in ("万人次", "亿元", "万元", "%")
    if story is OVER:
        value = target * Decimal("1.4") * month / last_month
        return ActualInput(value=math.ceil(value) if whole else value.quantize(Decimal("0.01")), note=OVER_NOTE,
                           over_reason=OVER_NOTE if month == 12 else None)
    value = target * month / 12 * Decimal(str(story))
    return ActualInput(value=math.floor(value) if whole else value.quantize(Decimal("0.01")), **DEVIATION[story])


def _round(session: Session, projects: dict[str, Seeded], scenario: Scenario, today: date, on,
           config: Mapping) -> list[str]:
    """The year's latest round whose submissions were made by now: one submitted and waiting,
    one 需要整改 with its item open; and a 目标调整 waiting. Nothing before the first round."""
    from domain.monitoring import APPROVE, REQUIRE_RECTIFICATION, rounds_of
    from reads.monitoring import monitoring_sheet, sheet_month
    from reads.rounds import is_off_track, round_rules
    from services.rectifications import RectificationInput
    from services.rounds import RoundInput, review_round, save_round
    from services.target_adjustment import ChangeInput, ProposalInput, propose

    submitted_on, reviewed_on = (8, 9), (8, 11)          # days after the round's month ends
    held = [r for r in rounds_of(scenario.year, round_rules(config))
            if r.month < 12 and r.month <= scenario.last_month and date(scenario.year, r.month + 1, 20) < today]
    if not held:
        return []
    rnd = held[-1]
    submitted = on(rnd.month + 1, submitted_on[1])
    reviewed = on(rnd.month + 1, reviewed_on[1])
    waiting, rectify, approved = projects["展会组织专项经费"], projects["对外交流合作项目"], projects[LATE]
    off = None
    for seeded in (waiting, rectify, approved):
        py, project = seeded.year, seeded.project
        sheet = monitoring_sheet(session, project, py, sheet_month(py, rnd.month), submitted.date(), config)
        row = save_round(session, py, rnd, RoundInput(**ROUND_TEXTS), MANAGER, "manager", submitted,
                         submitted.date(), submit=True, off_track=is_off_track(sheet))
        if seeded is approved:
            review_round(session, row, py, project, APPROVE, "执行情况说明清楚，同意。", [], SUPERVISOR, "supervisor",
                         reviewed, reviewed.date())
        if seeded is rectify:
            off = next(ind for ind in seeded.indicators.values() if stories_of(seeded).get(ind.id) == RED)
            due = max(reviewed.date() + timedelta(days=45), today + timedelta(days=14))   # still ahead
            review_round(session, row, py, project, REQUIRE_RECTIFICATION, None,
                         [RectificationInput(indicator_id=off.id, requirement=RECTIFY, due=due)],
                         SUPERVISOR, "supervisor", reviewed, reviewed.date())
    target = Decimal(off.annual_value) * Decimal("0.7")
    new_target = f"{off.annual_op.replace('>=', '≥').replace('>', '＞')}{math.floor(target)}{off.annual_unit or ''}"
    propose(session, rectify.year, ProposalInput(reason=TARGET_CHANGE_REASON, changes=[ChangeInput(
        indicator_id=off.id, target=new_target)]), MANAGER, on(rnd.month + 1, 20), config)
    return [f"{rnd.month}月监控（展会组织专项经费待审核；对外交流合作项目需要整改，整改事项待填报人答复；{LATE}已通过）",
            "一项待审核的目标调整"]
