"""What every write needs besides its input, from one place, for pages and the API alike:

- who: the signed-in user's username. It is the stable identity the history records (a display
  name can change, and two people can share one); pages and mail show it as the display name
  (reads.wording.user_labels).
- when: views/clock.py.
- the bands of settings (PACE_BANDS, LEVEL_YELLOW, GRADE_BANDS, OVER_BANDS, read by
  services.inputs.thresholds), so that an entry stores the light every reader and
  `flask check` derive from the same settings.
- which project year a page's form is about (its `year` field), within the user's scope.
"""
from __future__ import annotations

from flask import abort, current_app, g, request

from domain.rules import Thresholds
from models.bounds import parse_year
from reads.scope import project_year_in_scope
from services.inputs import thresholds
from services.entry import Context
from views.clock import now


def who() -> str:
    return g.user.username


def bands() -> Thresholds:
    return thresholds(current_app.config)


def entry_context() -> Context:
    """Who, when and the bands, for recording actuals and spending (services.entry.Context)."""
    return Context(who(), now(), bands())


def posted_project_year(session, project_id: int):
    """(project, project year) of the year a page's form names: 400 without a year, 404 when the
    project has no such year or lies outside the user's scope."""
    year = parse_year(request.form.get("year"))
    if year is None:
        abort(400, description="请选择年度")
    found = project_year_in_scope(session, g.user, project_id, year)
    if found is None:
        abort(404)
    return found
