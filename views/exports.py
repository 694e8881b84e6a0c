"""Exports: the 绩效运行监控表 and the 绩效自评表 as xlsx and as printable pages (A4), and the
unit-level 监控表 (a sheet per project and a 汇总 sheet) as a background job with progress.

Everything is read through the user's scope (reads/export_scope.py → reads/scope.py): another
unit's project answers 404, a 审核人 exports their 主管部门's projects, a unit's export lists only
the projects in scope. The period follows the project page: `?period=2023-07` (default: the
latest that has ended). A unit export's file is served only to the user who asked for it.
"""
from __future__ import annotations

import threading
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

from flask import (Blueprint, abort, current_app, g, make_response, redirect, render_template, request, send_file,
                   url_for)

from domain.calendar import YearCalendar, period_label
from domain.review import STATE_LABELS
from models.actual import EntryError, check_period, parse_period
from models.bounds import parse_year, whole_number
from models.db import get_session
from models.export_job import DONE, FAILED, JOB_LABELS
from models.org import Department, Unit
from reads.evaluation_xlsx import evaluation_workbook
from reads.export_scope import job_of, period_month, unit_project_years, units_in_scope, visible_project_year
from reads.monitoring import WAN, YUAN, monitoring_sheet
from reads.monitoring_xlsx import monitoring_workbook
from reads.project_list import visible_year_numbers
from reads.self_evaluation import review_state, score_table
from services.export_job import create_export_job, export_file, run_export_job
from settings import export_dir
from views.clock import now, today
from views.context import bands
from views.evaluation import evaluation_date

bp = Blueprint("exports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year_and_month():
    """`?period=YYYY-MM` (else `?year=`): the year and month asked for (month None: the default)."""
    period, year = request.args.get("period"), parse_year(request.args.get("year"))
    if not period:
        return year, None
    try:
        period_year, month = parse_period(period)
    except EntryError as exc:
        abort(400, description=str(exc))
    if year and year != period_year:
        abort(400, description=f"期间 {period} 不在所选的 {year} 年度内")
    return period_year, month


def _project(project_id: int, year: int | None):
    found = visible_project_year(get_session(), g.user, project_id, year)
    if found is None:
        abort(404)
    return found


def _sheet(project_id: int):
    year, month = _year_and_month()
    project, py = _project(project_id, year)
    month = period_month(py, month, today())
    try:
        check_period(py, py.year, month)
    except EntryError as exc:
        abort(400, description=str(exc))
    return monitoring_sheet(get_session(), project, py, month, today(), current_app.config, g.user)


def _amount_unit() -> str:
    """`?unit=yuan`: amounts in 元; else in 万元, as the official forms write them."""
    return YUAN if request.args.get("unit") == "yuan" else WAN


def _download(data: bytes, name: str):
    response = send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/projects/<int:project_id>/monitoring.xlsx")
def monitoring_xlsx(project_id: int):
    sheet = _sheet(project_id)
    return _download(monitoring_workbook([sheet], unit=_amount_unit()),
                     f"项目支出绩效运行监控表_{sheet.project.name}_{sheet.py.year}年{sheet.month}月.xlsx")


@bp.get("/projects/<int:project_id>/monitoring/print")
def monitoring_print(project_id: int):
    return render_template("print_monitoring.html", sheet=_sheet(project_id), unit=_amount_unit())


def _score_table(project_id: int):
    year, _month = _year_and_month()
    project, py = _project(project_id, year)
    session = get_session()
    table = score_table(session, py, evaluation_date(py.year), bands())
    return (project, py, table, session.get(Unit, project.unit_id), session.get(Department, py.department_id),
            review_state(session, py))


@bp.get("/projects/<int:project_id>/evaluation.xlsx")
def evaluation_xlsx(project_id: int):
    project, py, table, unit, department, state = _score_table(project_id)
    return _download(evaluation_workbook(table, project, unit, department, state),
                     f"项目支出绩效自评表_{project.name}_{py.year}年度.xlsx")


@bp.get("/projects/<int:project_id>/evaluation/print")
def evaluation_print(project_id: int):
    project, py, table, unit, department, state = _score_table(project_id)
    return render_template("print_evaluation.html", project=project, py=py, table=table, unit=unit,
                           department=department, state_label=STATE_LABELS[state])


# --------------------------------------------------------------------------- a unit's export

def _export_dir() -> Path:
    return export_dir(current_app.config)


@bp.get("/exports")
def index():
    """Choose a 实施单位 (those in scope), the year and the month; `?unit=` preselects one. The
    year: `?year=`, else the latest year with projects in the user's scope that has begun (a
    year still ahead only when there is no other) — not the calendar year, which may have none."""
    session, as_of = get_session(), today()
    years = visible_year_numbers(session, g.user)
    begun = [y for y in years if y <= as_of.year]
    year = parse_year(request.args.get("year")) or (begun or years or [as_of.year])[0]
    units = units_in_scope(session, g.user, year)
    months = [(m, period_label(year, m)) for m in YearCalendar(year).months]
    default = min(12, max(1, as_of.month - 1)) if as_of.year == year else 12
    return render_template("export_new.html", units=units, year=year, years=sorted(set(years) | {year}, reverse=True),
                           chosen=whole_number(request.args.get("unit")), months=months, default_month=default)


@bp.post("/exports")
def create():
    session = get_session()
    year, month, unit_id = (parse_year(request.form.get("year")), whole_number(request.form.get("month")),
                            whole_number(request.form.get("unit")))
    if year is None or month is None or unit_id is None:
        abort(400, description="请选择实施单位、年度和月份")
    if not 1 <= month <= 12:
        abort(400, description=f"月份“{month}”无效，应为 1 到 12")
    unit = session.get(Unit, unit_id)
    projects = unit_project_years(session, g.user, unit_id, year) if unit else []
    if not projects:
        abort(404)        # a unit outside the scope reads as missing
    job = create_export_job(session, g.user, unit, year, month, len(projects), now())
    app = current_app._get_current_object()
    threading.Thread(target=run_export_job, name=f"export-job-{job.id}", daemon=True,
                     args=(app.extensions["engine"], job.id, _export_dir(), today(), app.config)).start()
    return redirect(url_for("exports.show", export_id=job.id), 303)


def _job(export_id: str):
    job = job_of(get_session(), g.user, export_id)
    if job is None:
        abort(404)
    return job


@bp.get("/exports/<export_id>")
def show(export_id: str):
    job = _job(export_id)
    return render_template("export_job.html", job=job, unit=get_session().get(Unit, job.unit_id), labels=JOB_LABELS)


@bp.get("/exports/<export_id>/progress")
def progress(export_id: str):
    job = _job(export_id)
    return render_template("_export_progress.html", job=job, labels=JOB_LABELS)


@bp.get("/exports/<export_id>/download")
def download(export_id: str):
    job = _job(export_id)
    path = export_file(_export_dir(), job.id)
    if job.state != DONE or not path.exists():
        if job.state == FAILED:
            abort(409, description=job.error or "导出失败")
        return redirect(url_for("exports.show", export_id=job.id), 303)
    response = make_response(path.read_bytes())
    response.headers["Content-Type"] = XLSX
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(job.file_name)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response
