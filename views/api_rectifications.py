"""整改 items in the JSON API (INTERFACES.md, DOMAIN.md §8), with the bearer-token check of
views/api.py (cookies ignored; errors `{"error": …}`):

- `POST /api/v1/projects/ID/rectifications` (审核人, admin) → 201 `{"id", "state": "open"}`
- `PUT /api/v1/rectifications/ID` (the unit's 填报人, admin) → `{"id", "state": "answered"}`
- `POST /api/v1/rectifications/ID/close` · `/return` (审核人, admin) → `{"id", "state": "closed" | "open"}`
- `GET /api/v1/rectifications?state=open|answered|closed|all` (default open) over the caller's scope

A role that may not act gets 403 before the object is looked up; an item or project outside the
caller's scope is a 404; a body its model refuses, or a value the rules refuse (a deadline in
the past, an indicator of another project), a 422 with the Chinese reason; a step that does not
fit the item's state now (closed already, not answered yet) a 409.
"""
from __future__ import annotations

from flask import Blueprint, abort, g, request

from models.actual import EntryError
from models.db import get_session, transaction
from reads import api_answers as answers
from reads.api_schemas import (RectificationAnswerBody, RectificationBody, RectificationCloseBody, RectificationList,
                               RectificationReturnBody, RectificationState, fit)
from reads.rectifications import API_STATES, api_rectifications
from reads.scope import may_edit_actuals, may_review_monitoring, project_year_visible, rectification_in_scope
from services.rectifications import (AnswerInput, RectificationConflict, answer_rectification, close_rectification,
                                     raise_rectification, send_back_rectification)
from views.api import _body, _refused, _validated, bearer_token, send, today
from views.clock import now
from views.context import who

bp = Blueprint("api_rectifications", __name__, url_prefix="/api/v1")
bp.before_request(bearer_token)


@bp.get("/rectifications")
def index():
    state = request.args.get("state") or "open"
    if state not in API_STATES:
        abort(400, description=f"state 应为 {'、'.join(API_STATES)} 之一")
    return send(fit(RectificationList, {"rectifications": api_rectifications(get_session(), g.user, state)}))


@bp.post("/projects/<int:project_year_id>/rectifications")
def create(project_year_id: int):
    _require(may_review_monitoring(g.user))
    db = get_session()
    if project_year_visible(db, g.user, project_year_id) is None:
        abort(404)
    data, invalid = _validated(RectificationBody, _body())
    if data is None:
        return _refused(invalid)
    try:
        with transaction(db):
            project, py = project_year_visible(db, g.user, project_year_id, fresh=True)
            item = raise_rectification(db, py, project, data, who(), g.user.role, now(), today())
    except EntryError as exc:
        return _refused(str(exc), exc.field)
    return _state(item, 201)


@bp.put("/rectifications/<int:rectification_id>")
def answer(rectification_id: int):
    _require(g.user.role in ("admin", "manager"))
    db = get_session()
    _require(may_edit_actuals(g.user, _item(rectification_id)[2]))
    data, invalid = _validated(RectificationAnswerBody, _body())
    if data is None:
        return _refused(invalid)
    return _step(rectification_id, lambda item: answer_rectification(
        db, item, AnswerInput(measures=data.measures, result=data.result), [], [], who(), g.user.role, now()))


@bp.post("/rectifications/<int:rectification_id>/close")
def close(rectification_id: int):
    return _review(rectification_id, RectificationCloseBody, lambda item, data: close_rectification(
        get_session(), item, data, who(), g.user.role, now()))


@bp.post("/rectifications/<int:rectification_id>/return")
def send_back(rectification_id: int):
    return _review(rectification_id, RectificationReturnBody, lambda item, data: send_back_rectification(
        get_session(), item, data, who(), g.user.role, now(), today()))


def _review(rectification_id: int, model, act):
    """A 审核人's step: 403 for another role, 404 outside the scope, 422 for the body, then `act`."""
    _require(may_review_monitoring(g.user))
    _item(rectification_id)
    data, invalid = _validated(model, _body())
    if data is None:
        return _refused(invalid)
    return _step(rectification_id, lambda item: act(item, data))


def _item(rectification_id: int, fresh: bool = False):
    found = rectification_in_scope(get_session(), g.user, rectification_id, fresh)
    if found is None:
        abort(404)
    return found


def _step(rectification_id: int, act):
    db = get_session()
    try:
        with transaction(db):
            item = _item(rectification_id, fresh=True)[0]
            act(item)
    except EntryError as exc:
        return _refused(str(exc), exc.field)
    except RectificationConflict as exc:
        return send(answers.error(str(exc)), 409)
    return _state(item)


def _state(item, status: int = 200):
    return send(fit(RectificationState, {"id": item.id, "state": item.state}), status)


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)
