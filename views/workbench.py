"""The home page. A 填报人 gets their 工作台: for their unit's projects of the current year, what
is due (the latest period whose deadline is still ahead, with entries missing), what is
overdue (past the deadline without the actual), the red lights, and every open alert with a
link to its row. Others (审核人, admin) keep the project list as their home.

Opening the 工作台 first raises the overdue alerts of the user's project years (idempotent,
models.actual.raise_overdue_alerts) in one short write transaction, so the alerts it lists
exist even before the reminder cycle has run.
"""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for

from models.actual import raise_overdue_alerts
from models.db import get_session, transaction
from models.queries import workbench, workbench_years
from views.clock import deadline_day, now, today

bp = Blueprint("workbench", __name__)


@bp.get("/")
def home():
    if g.user.role != "manager":
        return redirect(url_for("projects.index"))
    session, as_of = get_session(), today()
    _year, years = workbench_years(session, g.user, as_of)
    if years:
        with transaction(session):
            for _project, py in years:
                raise_overdue_alerts(session, py, as_of, now(), deadline_day())
    return render_template("workbench.html", w=workbench(session, g.user, as_of, deadline_day()))
