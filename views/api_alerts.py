"""`GET /api/v1/alerts?year=YYYY&state=open|closed|all` (INTERFACES.md): the alerts over the
caller's scope, as the reminder cycle and the entries keep them (services/alerts.py)."""
from __future__ import annotations

from flask import Blueprint, abort, g, request

from models.bounds import parse_year
from models.db import get_session
from reads import api_answers as answers
from reads.alerts import STATES
from views.api import bearer_token, send

bp = Blueprint("api_alerts", __name__, url_prefix="/api/v1")
bp.before_request(bearer_token)


@bp.get("/alerts")
def alerts():
    state = request.args.get("state") or "open"
    if state not in STATES:
        abort(400, description=f"state 应为 {'、'.join(STATES)} 之一")
    return send(answers.alerts(get_session(), g.user, parse_year(request.args.get("year")), state))
