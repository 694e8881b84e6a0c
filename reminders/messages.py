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

from dataclasses import dataclass
from datetime import date
from itertools import groupby
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from domain import rules
from models.user import User
from reminders.notices import DIGEST, DUE_SOON, ESCALATION, MISSING, OVERDUE, Item, Notice

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
PREFIX = "【绩效目标跟踪】"
MAX_ITEMS = 150

LIGHT_WORDS = {MISSING: "未填报", rules.GREY: "灰灯（逾期未填报）", rules.RED: "红灯", rules.YELLOW: "黄灯",
               rules.GREEN: "绿灯"}
LIGHT_COLOURS = {MISSING: "#57606a", rules.GREY: "#6e7781", rules.RED: "#b42318", rules.YELLOW: "#b7791f",
                 rules.GREEN: "#17673a"}
ORDER = {OVERDUE: 0, DUE_SOON: 1, ESCALATION: 0, DIGEST: 1}

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
        counts = "，".join(text for count, text in ((grey, f"逾期未填报{grey}项"), (red, f"红灯{red}项")) if count)
        parts.append(f"每周汇总：{counts}")
    return PREFIX + "；".join(parts)


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
    return (f"每周汇总（{n.label}）",
            f"截至{today.year}年{day_label(today)}，您负责范围内有{count}项为红灯或逾期未填报：")


def _groups(items: list[Item], base_url: str, with_unit: bool) -> list[Group]:
    ordered = sorted(items, key=lambda i: (i.unit, i.project, i.year, i.period, i.position))
    groups = []
    by_project = groupby(ordered, key=lambda i: (i.unit, i.project, i.project_id, i.year))
    for (unit, project, project_id, year), lines in by_project:
        heading = f"{unit} · {project}（{year}年度）" if with_unit else f"{project}（{year}年度）"
        groups.append(Group(heading, f"{base_url}/projects/{project_id}?year={year}",
                            [Line(i.what, i.period, i.light, LIGHT_WORDS[i.light], LIGHT_COLOURS[i.light])
                             for i in lines]))
    return groups


def _section(n: Notice, today: date, base_url: str, room: int) -> Section:
    title, lead = _lead(n, today)
    shown = sorted(n.items, key=lambda i: (i.unit, i.project, i.year, i.period, i.position))[:max(room, 0)]
    return Section(title, lead, _groups(shown, base_url, with_unit=n.kind in (DIGEST, ESCALATION)),
                   len(n.items) - len(shown), "未填报" if n.kind == ESCALATION else "指标")


def compose(user: User, notices: list[Notice], today: date, base_url: str) -> Mail:
    notices = sorted(notices, key=lambda n: (ORDER[n.kind], n.period))
    sections, room = [], MAX_ITEMS
    for n in notices:
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
