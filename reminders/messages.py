"""A user's notices as one email: a Chinese subject, a plain-text and an HTML body (Jinja,
templates/email/, the HTML autoescaped), each item with its project, indicator, period and
light, and links to the project pages under BASE_URL.

No Flask: the scheduler renders mail without an app or a request. Email clients ignore style
sheets, so the HTML carries its few styles inline (the web pages' CSP does not apply to mail).
A message lists at most MAX_ITEMS items (each section still gives its full count) and then
says how many more there are: a unit that has entered nothing for half a year should get a
readable email, not a thousand lines; the links lead to the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from itertools import groupby
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from domain import rules
from models.user import User
from reminders.notices import (DIGEST, DUE_SOON, ESCALATION, MISSING, OVER_MARK, OVERDUE, RECTIFY, RECTIFY_DUE_SOON,
                               RECTIFY_LATE, RECTIFY_OVERDUE, ROUND_DUE_SOON, ROUND_OVERDUE, UNSUBMITTED, Item, Notice)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
PREFIX = "【绩效目标跟踪】"
MAX_ITEMS = 150

LIGHT_WORDS = {MISSING: "未填报", rules.GREY: "灰灯（逾期未填报）", rules.RED: "红灯", rules.YELLOW: "黄灯",
               rules.GREEN: "绿灯", UNSUBMITTED: "未提交", RECTIFY: "待整改", RECTIFY_LATE: "整改逾期",
               OVER_MARK: "超额（灯为绿）"}
LIGHT_COLOURS = {MISSING: "#57606a", rules.GREY: "#6e7781", rules.RED: "#b42318", rules.YELLOW: "#b7791f",
                 rules.GREEN: "#17673a", UNSUBMITTED: "#57606a", RECTIFY: "#8a5a00", RECTIFY_LATE: "#b42318",
                 OVER_MARK: "#0b5cad"}
DIGEST_OVER = "supervisor-digest-over"     # the digest's 超额 items: a section of its mail, not a notice of its own
ORDER = {OVERDUE: 0, DUE_SOON: 1, ESCALATION: 0, DIGEST: 1, ROUND_OVERDUE: 2, ROUND_DUE_SOON: 3, RECTIFY_OVERDUE: 4,
         RECTIFY_DUE_SOON: 5, DIGEST_OVER: 6}

_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


@dataclass
class Line:
    what: str
    period: str
    light: str
    word: str
    colour: str


@dataclass
class Group:
    heading: str
    link: str
    lines: list[Line]


@dataclass
class Section:
    title: str
    lead: str
    groups: list[Group]
    hidden: int
    column: str = "指标"       # what the first column lists


def day_label(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _periods(labels: list[str]) -> str:
    return "、".join(labels) if len(labels) <= 3 else f"{labels[0]}至{labels[-1]}共{len(labels)}期"


def subject(notices: list[Notice], today: date) -> str:
    parts = []
    overdue = [n for n in notices if n.kind == OVERDUE]
    if overdue:
        missing = sum(len(n.items) for n in overdue)
        if len(overdue) == 1:
            parts.append(f"{overdue[0].label}实际值已逾期（{day_label(overdue[0].deadline)}截止），尚有{missing}项未填报")
        else:
            parts.append(f"{_periods([n.label for n in overdue])}实际值已逾期，尚有{missing}项未填报")
    for n in (n for n in notices if n.kind == DUE_SOON):
        when = f"今天（{day_label(n.deadline)}）截止" if n.deadline == today else f"将于{day_label(n.deadline)}截止"
        parts.append(f"{n.label}实际值{when}，尚有{len(n.items)}项未填报")
    escalations = [n for n in notices if n.kind == ESCALATION]
    if escalations:
        units = len({i.unit for n in escalations for i in n.items})
        parts.append(f"督办：{units}个单位{_periods([n.label for n in escalations])}实际值逾期超过"
                     f"{escalations[0].threshold}天")
    for n in (n for n in notices if n.kind == DIGEST):
        grey = sum(1 for i in n.items if i.light == rules.GREY)
        red = sum(1 for i in n.items if i.light == rules.RED)
        over = sum(1 for i in n.items if i.light == OVER_MARK)
        counts = "，".join(text for count, text in ((grey, f"逾期未填报{grey}项"), (red, f"红灯{red}项"),
                                                   (over, f"超额{over}项")) if count)
        parts.append(f"每周汇总：{counts}")
    parts += _monitoring_subject(notices, today)
    return PREFIX + "；".join(parts)


def _monitoring_subject(notices: list[Notice], today: date) -> list[str]:
    """The subject's parts about monitoring rounds and 整改 items (reminders/monitoring.py)."""
    parts = []
    for n in (n for n in notices if n.kind == ROUND_OVERDUE):
        parts.append(f"{n.label}已逾期（{day_label(n.deadline)}截止），尚有{len(n.items)}个项目未提交")
    for n in (n for n in notices if n.kind == ROUND_DUE_SOON):
        when = f"今天（{day_label(n.deadline)}）截止" if n.deadline == today else f"将于{day_label(n.deadline)}截止"
        parts.append(f"{n.label}{when}，尚有{len(n.items)}个项目未提交")
    late = [n for n in notices if n.kind == RECTIFY_OVERDUE]
    if len(late) == 1:
        parts.append(f"{late[0].label}已逾期（{day_label(late[0].deadline)}到期）")
    elif late:
        parts.append(f"{len(late)}项整改事项已逾期")
    soon = [n for n in notices if n.kind == RECTIFY_DUE_SOON]
    if len(soon) == 1:
        when = "今天到期" if soon[0].deadline == today else f"将于{day_label(soon[0].deadline)}到期"
        parts.append(f"{soon[0].label}{when}")
    elif soon:
        parts.append(f"{len(soon)}项整改事项即将到期")
    return parts


def _lead(n: Notice, today: date) -> tuple[str, str]:
    count = len(n.items)
    if n.kind == DUE_SOON:
        left = "今天截止" if n.days == 0 else f"还有{n.days}天"
        return (f"{n.label}实际值将于{day_label(n.deadline)}截止",
                f"填报截止日为{n.deadline.year}年{day_label(n.deadline)}（{left}）。以下{count}项尚未填报，请按时填报：")
    if n.kind == OVERDUE:
        return (f"{n.label}实际值已逾期",
                f"填报截止日为{n.deadline.year}年{day_label(n.deadline)}，已逾期{n.days}天。以下{count}项仍未填报，请尽快补填：")
    if n.kind == ESCALATION:
        units = len({i.unit for i in n.items})
        return (f"督办：{n.label}实际值逾期超过{n.threshold}天",
                f"填报截止日为{n.deadline.year}年{day_label(n.deadline)}，已逾期{n.days}天。"
                f"以下{units}个单位的{count}个项目仍有未填报的实际值，请督促填报：")
    if n.kind in MONITORING_LEADS:
        return MONITORING_LEADS[n.kind](n, count)
    if n.kind == DIGEST_OVER:
        return ("超额完成（仅供参考）",
                f"以下{count}项指标的完成率或序时进度比达到120%以上（超额），灯仍为绿，无需处理；"
                "请关注目标是否设定偏低，年度自评时可据此酌情扣分：")
    return (f"每周汇总（{n.label}）",
            f"截至{today.year}年{day_label(today)}，您负责范围内有{count}项为红灯或逾期未填报：")


def _deadline(n: Notice) -> str:
    return f"{n.deadline.year}年{day_label(n.deadline)}"


MONITORING_LEADS = {
    ROUND_DUE_SOON: lambda n, count: (
        f"{n.label}将于{day_label(n.deadline)}截止",
        f"提交截止日为{_deadline(n)}（{'今天截止' if n.days == 0 else f'还有{n.days}天'}）。以下{count}个项目尚未提交"
        f"（或已退回待重新提交），请填写总体目标执行情况、偏差原因和改进（纠偏）措施后提交："),
    ROUND_OVERDUE: lambda n, count: (
        f"{n.label}已逾期",
        f"提交截止日为{_deadline(n)}，已逾期{n.days}天。以下{count}个项目仍未提交，请尽快提交："),
    RECTIFY_DUE_SOON: lambda n, count: (
        f"{n.label}将于{day_label(n.deadline)}到期",
        f"整改期限为{_deadline(n)}（{'今天到期' if n.days == 0 else f'还有{n.days}天'}）。"
        "请按整改要求完成整改，并填报整改措施、整改结果和佐证材料："),
    RECTIFY_OVERDUE: lambda n, count: (
        f"{n.label}已逾期",
        f"整改期限为{_deadline(n)}，已逾期{n.days}天，整改情况仍未填报。请尽快完成整改并填报（或督促整改）："),
}


def _groups(items: list[Item], base_url: str, with_unit: bool) -> list[Group]:
    ordered = sorted(items, key=lambda i: (i.unit, i.project, i.year, i.period, i.position))
    groups = []
    by_project = groupby(ordered, key=lambda i: (i.unit, i.project, i.project_id, i.year))
    for (unit, project, project_id, year), lines in by_project:
        heading = f"{unit} · {project}（{year}年度）" if with_unit else f"{project}（{year}年度）"
        lines = list(lines)
        link = lines[0].link or f"/projects/{project_id}?year={year}"
        groups.append(Group(heading, f"{base_url}{link}",
                            [Line(i.what, i.period, i.light, LIGHT_WORDS[i.light], LIGHT_COLOURS[i.light])
                             for i in lines]))
    return groups


def _section(n: Notice, today: date, base_url: str, room: int) -> Section:
    title, lead = _lead(n, today)
    shown = sorted(n.items, key=lambda i: (i.unit, i.project, i.year, i.period, i.position))[:max(room, 0)]
    column = {ESCALATION: "未填报", ROUND_DUE_SOON: "事项", ROUND_OVERDUE: "事项", RECTIFY_DUE_SOON: "整改事项",
              RECTIFY_OVERDUE: "整改事项"}.get(n.kind, "指标")
    return Section(title, lead, _groups(shown, base_url,
                                        with_unit=n.kind in (DIGEST, DIGEST_OVER, ESCALATION, RECTIFY_OVERDUE)),
                   len(n.items) - len(shown), column)


def _split_digest(notices: list[Notice]) -> list[Notice]:
    """A digest's 超额 items (OVER_MARK) make a section of their own, after everything that
    needs action."""
    parts = []
    for n in notices:
        if n.kind == DIGEST:
            over = [i for i in n.items if i.light == OVER_MARK]
            parts.append(replace(n, items=[i for i in n.items if i.light != OVER_MARK]))
            if over:
                parts.append(replace(n, kind=DIGEST_OVER, items=over))
        else:
            parts.append(n)
    return parts


def compose(user: User, notices: list[Notice], today: date, base_url: str) -> Mail:
    notices = sorted(notices, key=lambda n: (ORDER[n.kind], n.period))
    sections, room = [], MAX_ITEMS
    for n in sorted(_split_digest(notices), key=lambda n: (ORDER[n.kind], n.period)):
        sections.append(_section(n, today, base_url, room))
        room -= len(n.items)
    context = {"greeting": f"{user.label}您好：", "sections": sections,
               "home": f"{base_url}/projects", "subject": subject(notices, today)}
    return _render("reminder", context)


def _render(template: str, context: dict) -> Mail:
    """templates/email/<template>.txt and .html, with the context's subject."""
    return Mail(context["subject"], _env.get_template(f"{template}.txt").render(context),
                _env.get_template(f"{template}.html").render(context))


DECISION_WORDS = {"approved": "已批准", "returned": "已退回"}


def decision_mail(user: User, adjustment, project: str, year: int, lines: list[str], decider: str, link: str,
                  proposed: date, today: date) -> Mail:
    """The proposer told of the decision on their 目标调整 (services/target_adjustment.py):
    `adjustment` a decided TargetAdjustment, `lines` its items as people read them, `proposed`
    and `today` the days it was proposed and decided, where the users are."""
    word = DECISION_WORDS[adjustment.state]
    context = {"greeting": f"{user.label}您好：", "word": word, "approved": adjustment.state == "approved",
               "subject": f"{PREFIX}目标调整{word}：{project}（{year}年度）",
               "lead": (f"您于{proposed.year}年{day_label(proposed)}提出的{project}（{year}年度）目标调整（第{adjustment.id}号）"
                        f"已由{decider}于{today.year}年{day_label(today)}{word[1:]}。"),
               "lines": lines, "reason": adjustment.reason, "comment": adjustment.comment, "link": link}
    return _render("target_adjustment", context)
