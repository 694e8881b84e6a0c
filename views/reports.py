"""Reports (/reports): the overview by 主管部门 → 实施单位 → project, the open-alert list and a
project's drill-down, each as of a date and within the user's scope.

Who: every signed-in user, each within the scope the queries give them (reads/overview.py
and its neighbours use `visible_years`): an admin and a 审核人 without a 主管部门 the whole province, a 审核人 their
主管部门, a 填报人 their own 实施单位 — for a 填报人 the overview of their unit and its alert list are
their to-do list, and nothing in them is outside what their project pages already show.

The charts are inline SVG computed here (the CSP admits no script library and no inline
style): the distribution of lights (a donut and a stacked bar per row), budget execution
against 序时进度 per unit (bars with a marker at the 序时进度), and each indicator's trend (the
project page's own chart, views/charts.py). Every chart has a Chinese <title>/<desc> and its
numbers in a table next to it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g, render_template, request

from models.db import get_session
from reads.project_list import visible_year_numbers
from reads.tracking import ChartPoint
from models.summary import LIGHTS
from reads.alert_list import ALERT_KINDS, AlertFilters, open_alerts
from reads.overview import Group, overview, unit_groups
from reads.project_report import project_report
from reads.report_filters import LEVEL1S, ReportFilters, filter_choices, resolve_moment
from reads.report_sums import LIGHT_LABELS, Counts
from reads.scope import may_edit_actuals, records_actuals
from views.auth import clock
from views.projects import wants_fragment

bp = Blueprint("reports", __name__, url_prefix="/reports")


def today() -> date:
    moment = clock()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _answer(page: str, fragment: str, **context):
    template = fragment if wants_fragment() else page
    response = current_app.make_response(render_template(template, **context))
    response.vary.add("HX-Request")   # one URL, two bodies: caches must keep them apart
    return response


# --------------------------------------------------------------------------- the overview

INLINE_UNITS = 60      # more 实施单位 than this: a 主管部门's are fetched when it is opened


@bp.get("/overview")
def overview_page():
    """The overview. `?part=units&department=ID` answers one 主管部门's 实施单位 rows alone (what
    opening that department fetches when the page left them out)."""
    session = get_session()
    filters = ReportFilters.from_args(request.args)
    years = visible_year_numbers(session, g.user)
    moment = resolve_moment(filters, years, today(), current_app.config)
    if request.args.get("part") == "units" and filters.department:
        groups = unit_groups(session, g.user, filters, moment)
        if not groups:
            abort(404)
        return render_template("_overview_units.html", d=groups[0], filters=filters, moment=moment)
    departments, units = filter_choices(session, g.user, moment.year, filters.department)
    if filters.unit and filters.department and filters.unit not in {u.id for u in units}:
        filters.unit = None           # a unit of another 主管部门: the department decides
    report = overview(session, g.user, filters, moment, today=today())
    groups = report.departments if not filters.department else [u for d in report.departments for u in d.units]
    inline = bool(filters.department or filters.unit) or sum(len(d.units) for d in report.departments) <= INLINE_UNITS
    return _answer("reports_overview.html", "_overview.html", report=report, filters=filters, moment=moment,
                   years=years or [moment.year], departments=departments, units=units, inline_units=inline,
                   as_of_choices=as_of_choices(moment.year, filters.as_of, today()),
                   donut=donut(report.totals.counts), exec_chart=budget_bars(groups),
                   LIGHT_LABELS=LIGHT_LABELS, LIGHTS=LIGHTS, LEVEL1S=LEVEL1S)


def as_of_choices(year: int, chosen: date | None, now: date) -> list[tuple[str, str]]:
    """The 截至 select: today, and each month end of the year that has come (plus one given)."""
    choices = [("", f"今天（{now.isoformat()}）")]
    for month in range(1, 13):
        end = date(year, month, 1).replace(day=_days(year, month))
        if end <= now:
            choices.append((end.isoformat(), f"{month}月末（{end.month}月{end.day}日）"))
    if chosen and chosen.isoformat() not in {value for value, _ in choices}:
        choices.append((chosen.isoformat(), chosen.isoformat()))
    return choices


def _days(year: int, month: int) -> int:
    import calendar
    return calendar.monthrange(year, month)[1]


# --------------------------------------------------------------------------- the alert list

@bp.get("/alerts")
def alerts_page():
    session = get_session()
    filters = AlertFilters.from_args(request.args)
    listing = open_alerts(session, g.user, filters)
    departments, units = filter_choices(session, g.user, filters.year, filters.department)
    return _answer("reports_alerts.html", "_alerts_table.html", listing=listing, filters=filters,
                   years=visible_year_numbers(session, g.user), departments=departments, units=units,
                   ALERT_KINDS=ALERT_KINDS, may_enter=records_actuals(g.user))


# --------------------------------------------------------------------------- one project

@bp.get("/projects/<int:project_id>")
def project_page(project_id: int):
    session = get_session()
    filters = ReportFilters.from_args(request.args)
    report = project_report(session, g.user, project_id, filters.year, filters.as_of or today(), current_app.config)
    if report is None:
        abort(404)
    return render_template("reports_project.html", report=report, filters=filters,
                           may_enter=may_edit_actuals(g.user, report.project),
                           as_of_choices=as_of_choices(report.year.year, filters.as_of, today()),
                           budget_trend=budget_trend(report), lights_donut=donut(report.counts),
                           trend=lambda ir: trend(ir, report.moment.month))


def trend(indicator_report, month: int | None):
    """An indicator's small chart (the project page's, views/charts.py); None for qualitative."""
    from views.charts import indicator_chart
    ind = indicator_report.indicator
    points = [ChartPoint(p.month, p.value, p.light) for p in indicator_report.points if p.value is not None]
    return indicator_chart(ind.name, indicator_report.measure, indicator_report.target.value,
                           indicator_report.target.unit, points, indicator_report.period or month or 0)


def budget_trend(report):
    """Cumulative spending in 万元 against the straight line to the year's budget (in force); a
    month that is 超预算 or 冲减 says so beside its dot."""
    from views.charts import indicator_chart
    annual = report.budget.annual_yuan
    if not annual:
        return None
    flags = report.spending_flags
    points = [ChartPoint(m, amount / 10_000, light or "none", flags[m].label if m in flags else "")
              for m, amount, light in report.spending]
    return indicator_chart("预算执行", "cumulative", annual / 10_000, "万元", points, report.moment.month or 0,
                           "large")


# --------------------------------------------------------------------------- chart geometry

@dataclass
class Slice:
    light: str
    label: str
    count: int
    share: float             # of 100
    dasharray: str
    dashoffset: float


@dataclass
class Donut:
    slices: list[Slice]
    total: int
    pending: int
    desc: str


def donut(counts: Counts) -> Donut:
    """The distribution of lights as a ring: circles of circumference 100 (r = 100 / 2π) whose
    dashes are the shares, starting at twelve o'clock."""
    lit = sum(counts.of(light) for light in LIGHTS)
    slices, start = [], 0.0
    for light in LIGHTS:
        n = counts.of(light)
        share = 100 * n / lit if lit else 0.0
        slices.append(Slice(light, LIGHT_LABELS[light], n, share, f"{share:.3f} {100 - share:.3f}",
                            round(25 - start, 3)))
        start += share
    parts = "，".join(f"{s.label}{s.count}个（{s.share:.1f}%）" for s in slices)
    desc = f"共{counts.indicators}个年度指标：{parts}" + (f"，未到填报期{counts.pending}个" if counts.pending else "") + "。"
    return Donut(slices, lit, counts.pending, desc)


def stack(counts: Counts) -> list[tuple[str, float, float]]:
    """A row's stacked bar: (light, x, width) in a 100-wide box."""
    lit = sum(counts.of(light) for light in LIGHTS)
    out, x = [], 0.0
    for light in LIGHTS:
        width = 100 * counts.of(light) / lit if lit else 0.0
        if width:
            out.append((light, round(x, 3), round(width, 3)))
        x += width
    return out


@dataclass
class BudgetBar:
    label: str
    full: str
    y: float
    width: float
    marker: float
    rate: Decimal | None
    progress: Decimal | None
    light: str | None
    text_x: float


@dataclass
class BudgetChart:
    bars: list[BudgetBar]
    width: int
    height: int
    left: int
    plot: int
    scale_top: float          # the rate at the plot's right edge (1.0 = 100 %)
    ticks: list[tuple[float, str]]
    desc: str


BAR_ROW, BAR_LEFT, BAR_PLOT = 18, 210, 440


def budget_bars(groups: list[Group]) -> BudgetChart | None:
    """Execution rate per group against its 序时进度, worst pace first (the ones to look at)."""
    rows = [grp for grp in groups if grp.budget.execution_rate is not None]
    if not rows:
        return None
    rows.sort(key=lambda grp: (grp.budget.pace is None, grp.budget.pace or 0, grp.name))
    top = max(1.0, max(float(grp.budget.execution_rate) for grp in rows))
    top = math.ceil(top * 10) / 10

    def x(rate) -> float:
        return round(BAR_LEFT + float(rate) / top * BAR_PLOT, 1)

    bars = []
    for n, grp in enumerate(rows):
        b = grp.budget
        label = grp.name if len(grp.name) <= 15 else grp.name[:14] + "…"
        width = x(b.execution_rate) - BAR_LEFT
        bars.append(BudgetBar(label, grp.label, 22 + n * BAR_ROW, width, x(b.progress or 0), b.execution_rate,
                              b.progress, b.light, BAR_LEFT + width + 4))
    ticks = [(x(t / 10), f"{t * 10}%") for t in range(0, int(top * 10) + 1, 2)]
    worst = "；".join(f"{bar.full}执行率{_percent(bar.rate)}，序时进度{_percent(bar.progress)}" for bar in bars[:5])
    desc = (f"{len(bars)}个单位的预算执行率与序时进度，按执行快慢排列，最慢的在上：{worst}"
            + ("……" if len(bars) > 5 else "") + "。完整数字见图下的表格。")
    return BudgetChart(bars, BAR_LEFT + BAR_PLOT + 70, 30 + len(bars) * BAR_ROW, BAR_LEFT, BAR_PLOT, top, ticks, desc)


def _percent(value) -> str:
    if value is None:
        return "—"
    from domain.rules import for_display
    return f"{for_display(Decimal(value) * 100, 1)}%"


@bp.app_template_global("light_stack")
def light_stack(counts: Counts):
    return stack(counts)
