"""The home page. A 填报人 gets their 工作台: for their unit's projects of the current year, what
is due (the latest period whose deadline is still ahead, with entries missing), what is
overdue (past the deadline without the actual), the red lights, and every open alert with a
link to its row. A 审核人 gets theirs (reads/review_workbench.py): what waits for their review,
the units overdue and the reds of their scope. An admin keeps the project list as their home.

A GET never writes: the overdue alerts it lists are raised by the reminder cycle for every
unit (services/alerts.py), whoever signs in.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, url_for

from models.db import get_session
from reads.review_workbench import review_workbench
from reads.workbench import workbench
from reminders.settings import load as reminder_settings
from views.clock import deadline_day, today
from views.context import bands

bp = Blueprint("workbench", __name__)


@bp.get("/")
def home():
    session = get_session()
    if g.user.role == "supervisor":
        return render_template("review_workbench.html", w=review_workbench(
            session, g.user, today(), deadline_day(), current_app.config, reminder_settings(session).due_soon_days))
    if g.user.role != "manager":
        return redirect(url_for("projects.index"))
    return render_template("workbench.html", w=workbench(session, g.user, today(), deadline_day(), current_app.config,
                                                         reminder_settings(session).due_soon_days), bands=bands())
