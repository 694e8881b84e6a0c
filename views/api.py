"""The JSON API (/api/v1). Authenticated by `Authorization: Bearer TOKEN` alone.

Cookies are ignored entirely: a browser's session never authenticates a call here, so a
page on another site cannot make a signed-in browser call the API, and the blueprint needs
no CSRF token (it is exempt, see views/__init__.py). Errors are `{"error": "…"}` (views/errors.py);
another unit's object is a 404, like a missing one.

The answers are built in reads/api_answers.py (which documents the decisions about ids, the
实施期 entries and number precision) and sent through their models (reads/api_schemas.py), which
also make the OpenAPI document (`GET /api/v1/openapi.json`, views/api_docs.py). What the views
decide:

- Who: every read goes through the scope queries; actuals, spending and budget adjustments are
  written by the unit's 填报人 and admins (a 审核人 gets 403); evaluator scores are set by admins
  and 审核人 within their scope (a 填报人 gets 403); a 目标调整 is proposed by the unit's 填报人
  (or an admin) and approved or returned by a 审核人 within their scope or an admin (a 填报人
  gets 403, another 主管部门's 审核人 404). A role that may not write gets 403 before the object
  is looked up; an object outside the caller's scope is then a 404.
- Versions: a write may carry the version it was based on, as `"version"` in the body or as an
  `If-Match: "3"` header (both, if given, must agree, else 422); a stale one answers 409 with the current
  value (`{"error", "current"}`) and changes nothing. Version 0 means "only if nothing is stored
  yet". Without either, only a first entry goes through: replacing a stored value answers 428
  (`{"error"}`), so a script that never read the value cannot overwrite someone's entry unseen.
- Input: a body that is not a JSON object, or a malformed period (`2023-13`, `abc`), is a 400;
  a body its request model refuses (letters, NaN, an unknown assessment) or a value the domain
  refuses (a negative count, a unit of another base, a period outside the project's year, a
  score outside its band) is a 422 with the Chinese reason, and nothing is stored. Unknown body
  fields are ignored.
- Dates: `as_of=YYYY-MM-DD` on every read that depends on the date, default today in the
  configured TIMEZONE (Asia/Shanghai), from the app clock (`config["CLOCK"]` in tests). A year or
  date that is malformed, not a real day or outside the tracked years is a 400 (models/bounds.py).
"""
from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, g, request
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from domain.calendar import month_end
from domain.indicators import effective_measure
from models.actual import EntryError, StaleEdit, VersionRequired, validation_message
from models.bounds import parse_date, parse_year
from models.db import get_session, transaction
from models.user import note_token_use, user_for_token
from reads import api_answers as answers
from reads.api_schemas import (ActualBody, ActualConflict, AdjustmentBody, Answer, DeductionBody, ReturnBody, ScoreBody,
                               SpendingBody, SpendingConflict, TargetChangeBody, TokenError, Unchecked, WeightsBody,
                               json_of)
from reads.scope import (indicator_to_read, indicator_visible, may_edit_actuals, may_evaluate, may_review_targets,
                         project_year_to_read, project_year_visible, project_years_to_read, target_adjustment_in_scope)
from reads.wording import user_label
from services.adjustment import FIELD_NAMES as ADJUSTMENT_FIELDS, record_adjustment
from services.entry import enter_actual, enter_spending
from services.self_evaluation import ReviewConflict, set_deduction, set_evaluator_score, set_level_weights
from services.target_adjustment import AdjustmentConflict, approve, propose, refusal, return_proposal
from views.auth import clock
from views.context import bands, entry_context, who

bp = Blueprint("api", __name__, url_prefix="/api/v1")

NO_TOKEN = "缺少或无效的访问令牌"


@bp.before_request
def bearer_token():
    g.user = None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return _unauthorized()
    db, now = get_session(), clock()
    found = user_for_token(db, token, now)
    if found is None:
        return _unauthorized()
    if found.note_use:                       # at most once a minute
        with transaction(db):
            note_token_use(db, found.token_id, now)
    g.user = found.user
    return None


def _unauthorized():
    response = send(answers.error(NO_TOKEN, model=TokenError), 401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="jixiao"'
    return response


@bp.get("/projects")
def projects():
    """`id` is the ProjectYear id (one year's 申报表): what the other calls take. `light` is the
    worst light of its indicators and budget as of `as_of` (default today); null when nothing
    is due yet."""
    year, as_of, db = parse_year(request.args.get("year")), _as_of(), get_session()
    return send(answers.project_list(db, g.user, year, as_of))


@bp.get("/projects/<int:project_year_id>")
def project(project_year_id: int):
    as_of, db = _as_of(), get_session()
    found = project_years_to_read(db, g.user, project_year_id)
    if found is None:
        abort(404)
    project, py, years = found
    return send(answers.project(db, g.user, project, py, as_of, years))


@bp.put("/indicators/<int:indicator_id>/actuals/<period>")
def put_actual(indicator_id: int, period: str):
    """Records one period's actual; answers the indicator's 年度 IND as of the period's end.
    The indicator is read (and its scope checked) once, inside the write transaction."""
    _require(g.user.role in ("admin", "manager"))
    db = get_session()
    year, month = _period(period)
    body = _body()
    version = _version(body)
    as_of = month_end(year, month)
    try:
        with transaction(db):      # judge against the indicator as it is under the write lock
            ind, py, project = _found(indicator_to_read(db, g.user, indicator_id))    # only read
            _require(may_edit_actuals(g.user, project))
            data, invalid = _validated(ActualBody, {**body, "version": version}, {"measure": effective_measure(ind)})
            if data is None:
                raise EntryError(invalid)
            entered = enter_actual(db, ind, py, year, month, data, entry_context(), overwrite_needs_version=True)
    except EntryError as exc:
        return _refused(str(exc), exc.field)
    except VersionRequired as exc:
        return _version_required(exc)
    except (StaleEdit, IntegrityError) as exc:
        return _conflict(exc, answers.annual_indicator(db, py, ind, as_of), ActualConflict)
    response = send(answers.annual_indicator(db, py, ind, as_of, entered.judged))
    response.headers["ETag"] = f'"{entered.actual.version}"'
    return response


@bp.put("/projects/<int:project_year_id>/spending/<period>")
def put_spending(project_year_id: int, period: str):
    """Records the cumulative spending at a period's end, with its `note`; answers the project's
    `budget` as of it. Spending above the budget in force (超预算) or below an earlier period's
    (冲减), or an earlier period raised above a later one, without a note is a 422 (DOMAIN §3).
    The project year is read (and its scope checked) once, inside the write transaction."""
    _require(g.user.role in ("admin", "manager"))
    db = get_session()
    year, month = _period(period)
    body = _body()
    version = _version(body)
    data, invalid = _validated(SpendingBody, body)
    as_of = month_end(year, month)
    try:
        with transaction(db):
            project, py = _found(project_year_to_read(db, g.user, project_year_id))    # only read
            _require(may_edit_actuals(g.user, project))
            if data is None:
                raise EntryError(invalid, "amount_yuan")
            entered = enter_spending(db, py, year, month, data.amount_yuan, entry_context(),
                                     version, overwrite_needs_version=True, note=data.note)
    except EntryError as exc:
        return _refused(str(exc), exc.field)
    except VersionRequired as exc:
        return _version_required(exc)
    except (StaleEdit, IntegrityError) as exc:
        return _conflict(exc, answers.budget(db, py, as_of), SpendingConflict)
    response = send(answers.budget(db, py, as_of, entered.judged))
    response.headers["ETag"] = f'"{entered.spending.version}"'
    return response


@bp.get("/projects/<int:project_year_id>/budget-adjustments")
def budget_adjustments(project_year_id: int):
    as_of, db = _as_of(), get_session()
    return send(answers.adjustments(db, _visible_year(db, project_year_id), as_of))


@bp.post("/projects/<int:project_year_id>/budget-adjustments")
def post_budget_adjustment(project_year_id: int):
    """Records a budget adjustment (DOMAIN §7); answers 201 with its id and today's 全年预算数.
    The project year is read (and its scope checked) once, inside the write transaction."""
    _require(g.user.role in ("admin", "manager"))
    db = get_session()
    data, invalid = _validated(AdjustmentBody, _body(), names=ADJUSTMENT_FIELDS)
    try:
        with transaction(db):
            project, py = _visible_project_year(db, project_year_id, fresh=True)
            _require(may_edit_actuals(g.user, project))
            if data is None:
                raise EntryError(invalid)
            recorded = record_adjustment(db, py, data, who(), clock(), current_app.config)
    except EntryError as exc:
        return _refused(str(exc), exc.field)
    return send(answers.adjustment_created(py, recorded), 201)


@bp.get("/projects/<int:project_year_id>/target-changes")
def target_changes(project_year_id: int):
    db = get_session()
    return send(answers.target_change_list(db, _visible_year(db, project_year_id)))


@bp.post("/projects/<int:project_year_id>/target-changes")
def post_target_change(project_year_id: int):
    """Proposes new 年度 targets (DOMAIN §7); answers 201 with the proposal's id, pending. The
    project year is read (and its scope checked) once, inside the write transaction."""
    _require(g.user.role in ("admin", "manager"))
    db = get_session()
    data, invalid = _checked(TargetChangeBody, _body())
    try:
        with transaction(db):
            project, py = _visible_project_year(db, project_year_id, fresh=True)
            _require(may_edit_actuals(g.user, project))
            if data is None:
                raise invalid
            adjustment = propose(db, py, data, who(), clock(), current_app.config)
    except EntryError as exc:
        return _refused(str(exc), exc.field)
    except AdjustmentConflict as exc:
        return send(answers.error(str(exc)), 409)
    return send(answers.target_change_state(adjustment), 201)


@bp.post("/target-changes/<int:target_change_id>/approve")
def approve_target_change(target_change_id: int):
    """Puts a pending 目标调整 in force (审核人 of its 主管部门, admin); the actuals are judged again."""
    _require(may_review_targets(g.user))
    return _decision(target_change_id, lambda db, adjustment: approve(db, adjustment, who(), clock(),
                                                                      current_app.config))


@bp.post("/target-changes/<int:target_change_id>/return")
def return_target_change(target_change_id: int):
    """Returns a pending 目标调整 with a comment; the targets in force stay."""
    _require(may_review_targets(g.user))
    data, invalid = _checked(ReturnBody, _body())
    return _decision(target_change_id, lambda db, adjustment: return_proposal(db, adjustment, data, who(), clock(),
                                                                              current_app.config), invalid)


def _decision(target_change_id: int, decide, invalid: EntryError | None = None):
    """A 审核人's decision on a 目标调整 in scope, read (and decided) inside the write transaction;
    `invalid`: why the body was refused (once the proposal is found: a 404 comes first)."""
    db = get_session()
    try:
        with transaction(db):
            adjustment = _visible_adjustment(db, target_change_id)
            if invalid is not None:
                raise invalid
            decided = decide(db, adjustment)
    except EntryError as exc:
        return _refused(str(exc), exc.field)
    except AdjustmentConflict as exc:
        return send(answers.error(str(exc)), 409)
    return send(answers.target_change_state(decided.adjustment))


@bp.get("/projects/<int:project_year_id>/evaluation")
def evaluation(project_year_id: int):
    as_of, db = _as_of(), get_session()
    return _evaluation_answer(db, _visible_year(db, project_year_id), as_of)


@bp.put("/indicators/<int:indicator_id>/score")
def put_score(indicator_id: int):
    """An evaluator's score for a qualitative indicator (`{"score": 8}`; null: back to the band's
    suggested middle), checked against the band of its assessment as of `as_of`; answers the
    evaluation. Once the 自评 is approved the scores are locked (409)."""
    _require(may_evaluate(g.user))
    body = _body()
    if "score" not in body:
        return _refused("评分：必须填写（填 null 恢复为所在区间的建议分）", "score")
    return _evaluator_write(indicator_id, ScoreBody, body, "score",
                            lambda db, py, ind, data, as_of: set_evaluator_score(db, py, ind, data.score, as_of))


@bp.put("/indicators/<int:indicator_id>/deduction")
def put_deduction(indicator_id: int):
    """An evaluator's deduction for a target set too low (`{"points": 5, "reason": "…"}`; null
    points: none), on an indicator marked 超额 as of `as_of`; answers the evaluation."""
    _require(may_evaluate(g.user))
    body = _body()
    if "points" not in body:
        return _refused("扣分：必须填写（填 null 取消扣分）", "points")
    return _evaluator_write(indicator_id, DeductionBody, body, "points",
                            lambda db, py, ind, data, as_of: set_deduction(db, py, ind, data.points, data.reason,
                                                                           as_of))


def _evaluator_write(indicator_id: int, model, body: dict, field: str, write):
    as_of, db = _as_of(), get_session()
    _visible_indicator(db, indicator_id)
    data, invalid = _validated(model, body)
    if data is None:
        return _refused(invalid, field)
    try:
        with transaction(db):
            ind, py, _project = _visible_indicator(db, indicator_id, fresh=True)
            if ind.retired_at is not None:
                raise EntryError("该指标已不在申报表中，不能评分", field)
            write(db, py, ind, data, as_of)
    except EntryError as exc:
        return _refused(str(exc), exc.field)
    except ReviewConflict as exc:
        return send(answers.error(str(exc)), 409)
    return _evaluation_answer(db, py, as_of)


@bp.put("/projects/<int:project_year_id>/evaluation/weights")
def put_evaluation_weights(project_year_id: int):
    """A 审核人's 一级 weights for the project year (`{"weights": {"预算执行率": 10, …}, "reason": "…"}`,
    together 100; null weights: the defaults), with the reason; answers the evaluation."""
    _require(may_evaluate(g.user))
    as_of, db = _as_of(), get_session()
    _visible_year(db, project_year_id)
    data, invalid = _validated(WeightsBody, _body())
    if data is None:
        return _refused(invalid, "weights")
    try:
        with transaction(db):
            py = _visible_project_year(db, project_year_id, fresh=True)[1]
            set_level_weights(db, py, data.weights, data.reason, g.user.username, g.user.role, clock(), as_of)
    except EntryError as exc:
        return _refused(str(exc), exc.field)
    except ReviewConflict as exc:
        return send(answers.error(str(exc)), 409)
    return _evaluation_answer(db, py, as_of)


def _evaluation_answer(db, py, as_of: date):
    try:
        return send(answers.evaluation(db, py, as_of, bands()))
    except ValueError as exc:
        return _refused(str(exc))


# --------------------------------------------------------------------------- arguments and answers

_PERIOD = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_ETAG = re.compile(r'(?:W/)?"(\d{1,9})"|(\d{1,9})', re.ASCII)


def today() -> date:
    return clock().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _as_of() -> date:
    return parse_date(request.args.get("as_of")) or today()


def _period(raw: str) -> tuple[int, int]:
    match = _PERIOD.fullmatch(raw)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        abort(400, description=f"期间“{raw[:20]}”无效，应为 YYYY-MM 格式，月份为 01 到 12，例如 2023-07")
    return int(match.group(1)), int(match.group(2))


def _body() -> dict:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        abort(400, description="请求体应为 JSON 对象，例如 {\"value\": 35, \"unit\": \"家\"}")
    return body


def _version(body: dict) -> int | None:
    """The version the edit is based on, from the body or an If-Match header (None: unconditional)."""
    version = body.pop("version", None)
    if isinstance(version, float) and version.is_integer():
        version = int(version)          # JSON's 3.0 is the integer 3 (JSON Schema says so too)
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 0):
        abort(400, description="版本号（version）应为不小于 0 的整数")
    header = request.headers.get("If-Match", "").strip()
    if header and header != "*":
        match = _ETAG.fullmatch(header)
        if not match:
            abort(400, description="If-Match 应为版本号，例如 \"3\"")
        header_version = int(match.group(1) or match.group(2))
        if version is not None and version != header_version:
            # each is well formed (so not a 400): together they name two versions
            abort(422, description="If-Match 与请求体中的版本号（version）不一致")
        version = header_version
    return version


def _visible_year(db, project_year_id: int):
    return _visible_project_year(db, project_year_id)[1]


def _visible_project_year(db, project_year_id: int, fresh: bool = False):
    return _found(project_year_visible(db, g.user, project_year_id, fresh))


def _visible_indicator(db, indicator_id: int, fresh: bool = False):
    return _found(indicator_visible(db, g.user, indicator_id, fresh))


def _found(found):
    """What a scoped lookup found, or a 404 (outside the caller's scope reads as missing)."""
    if found is None:
        abort(404)
    return found


def _visible_adjustment(db, adjustment_id: int):
    found = target_adjustment_in_scope(db, g.user, adjustment_id, fresh=True)
    if found is None:
        abort(404)
    return found[0]


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def _validated(model, body: dict, context: dict | None = None, names: dict[str, str] | None = None):
    """(the body as its request model, None) or (None, the Chinese reason it is refused);
    `names`: the fields' own Chinese names, where FIELD_NAMES does not fit."""
    try:
        return model.model_validate(body, context=context), None
    except ValidationError as exc:
        return None, validation_message(exc, names)


def _checked(model, body: dict):
    """(the body as its request model, None) or (None, the EntryError naming the refused field)."""
    try:
        return model.model_validate(body), None
    except ValidationError as exc:
        return None, refusal(exc)


def send(answer: Answer | Unchecked, status: int = 200) -> Response:
    """Every answer of the API, through its model (reads/api_schemas.py); an answer of plain
    rows (`Unchecked`) is checked against its model under test and debug only: it must fit it,
    and its JSON must be what the model writes."""
    body = json_of(answer)
    if isinstance(answer, Unchecked) and (current_app.testing or current_app.debug):
        answer.agrees(body)
    return Response(body, status, mimetype="application/json")


def _refused(message: str, field: str | None = None):
    return send(answers.error(message, field or None), 422)


def _version_required(exc: VersionRequired):
    return send(answers.error(str(exc)), 428)


def _conflict(exc: Exception, current: Answer | None, model: type[Answer]):
    by = user_label(get_session(), exc.updated_by) if isinstance(exc, StaleEdit) else "他人"
    return send(answers.conflict(f"该数值已被{by}修改，请刷新后在最新数据上修改", current, model), 409)
