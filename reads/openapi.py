"""The JSON API's OpenAPI 3.1 document, from the models the views answer through
(reads/api_schemas.py) and a table of the operations; and its Markdown rendering (docs/API.md,
written by `flask api-docs`).

Served at `GET /api/v1/openapi.json` without a token: it describes the calls, never data, and a
client needs it before it has a token. Schemathesis runs against it in the tests
(tests/test_schemathesis.py): every answer must fit it, and every input it forbids must be refused.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from models.bounds import FIRST_YEAR, LAST_YEAR, MAX_ID
from models.summary import LIGHTS
from reads.report_filters import LEVEL1S
from reads import api_schemas as s
from reads.alerts import STATES
from reads.rectifications import API_STATES as RECTIFICATION_STATES

TITLE = "绩效目标跟踪 API"
DESCRIPTION = f"""\
项目支出绩效目标的填报与监控接口：项目、指标截至某日的完成情况、按期填报实际值与累计支出、总览、绩效自评与预警。

- 认证：每个请求带 `Authorization: Bearer 令牌`（`flask --app app users token 用户名`，或账户页面生成）；浏览器的登录 Cookie 不能调用接口。
- 范围：填报人只能读写本实施单位的项目，审核人读本主管部门的（或全部）；范围外的对象与不存在的一样答 404。
- 日期：凡随日期而变的读取都接受 `as_of=YYYY-MM-DD`（缺省：今天，Asia/Shanghai）；年度与日期须在 {FIRST_YEAR}–{LAST_YEAR} 年之间。
- 错误：`{{"error": "中文说明"}}`——400 格式有误，401 令牌无效，403 无权操作，404 不存在或无权查看，409 数值已被他人修改（附当前值），422 内容被拒绝（附 `field`），428 覆盖已有数值而未附版本。
- 覆盖已有数值须附上读取时的版本：请求体中的 `"version"` 或请求头 `If-Match: "3"`（取自 `GET` 的 `actual.version`、`budget.version`）；该期首次填报无需版本（`"version": 0` 表示仅当该期尚无数值）。
- 健康检查：`GET /healthz`（无需令牌）在应用与数据库正常时答 200 `{{"status": "ok", …}}`。
"""
API = "/api/v1"
JSON = "application/json"


@dataclass(frozen=True)
class Param:
    name: str
    where: str                  # path | query | header
    schema: dict
    description: str
    required: bool = False


@dataclass(frozen=True)
class Operation:
    name: str                   # operationId
    method: str
    path: str
    summary: str
    answer: type[BaseModel]
    params: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    refusals: tuple[int, ...] = ()       # besides 401 (every call) and 400 (every call with arguments)
    conflict: type[BaseModel] | None = None
    etag: bool = False
    status: int = 200           # of success (201: created)


def _id(name: str, what: str) -> Param:
    return Param(name, "path", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, what, True)


PROJECT_YEAR = _id("project_year_id", "项目年度编号（项目列表的 id）")
INDICATOR = _id("indicator_id", "指标编号（IND 的 id）")
TARGET_CHANGE = _id("target_change_id", "目标调整编号")
PERIOD = Param("period", "path", {"type": "string", "pattern": s.PERIOD_PATTERN, "examples": ["2023-07"]},
               "期间：该期末月，YYYY-MM；须在项目的年度内（按季度填报的项目只能是 3、6、9、12 月）", True)
YEAR = Param("year", "query", {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR}, "年度")
AS_OF = Param("as_of", "query", {"type": "string", "format": "date", "pattern": s.DATE_PATTERN},
              "截至日期（缺省：今天，Asia/Shanghai）")
IF_MATCH = Param("If-Match", "header", {"type": "string", "pattern": r'^(?:(?:W/)?"[0-9]{1,9}"|[0-9]{1,9}|\*)?$'},
                 "读取时的版本，例如 \"3\"；与请求体中的 version 同时给出时须一致（否则 422）")


def _choice(name: str, choices, description: str) -> Param:
    return Param(name, "query", {"type": "string", "enum": list(choices)}, description)


OPERATIONS = (
    Operation("list_projects", "get", "/projects", "可见的项目（年度）及其最差的灯", s.ProjectList, (YEAR, AS_OF)),
    Operation("get_project", "get", "/projects/{project_year_id}", "一个项目年度截至某日：预算与全部指标（IND）", s.Project,
              (PROJECT_YEAR, AS_OF), refusals=(404,)),
    Operation("put_actual", "put", "/indicators/{indicator_id}/actuals/{period}", "填报一个年度指标某期的实际值；答该指标截至期末的 IND",
              s.Indicator, (INDICATOR, PERIOD, IF_MATCH), s.ActualBody, (403, 404, 422, 428), s.ActualConflict, True),
    Operation("put_spending", "put", "/projects/{project_year_id}/spending/{period}", "填报截至某期末的累计支出；答截至期末的预算",
              s.Budget, (PROJECT_YEAR, PERIOD, IF_MATCH), s.SpendingBody, (403, 404, 422, 428), s.SpendingConflict,
              True),
    Operation("list_budget_adjustments", "get", "/projects/{project_year_id}/budget-adjustments",
              "一个项目年度的预算调整及截至某日的全年预算数", s.AdjustmentList, (PROJECT_YEAR, AS_OF), refusals=(404,)),
    Operation("create_budget_adjustment", "post", "/projects/{project_year_id}/budget-adjustments",
              "登记预算调整（追加或调减；本单位填报人、管理员）；答其编号与今天的全年预算数", s.AdjustmentCreated, (PROJECT_YEAR,),
              s.AdjustmentBody, (403, 404, 422), status=201),
    Operation("list_target_changes", "get", "/projects/{project_year_id}/target-changes",
              "一个项目年度的目标调整（待审核、已批准、已退回）", s.TargetChangeList, (PROJECT_YEAR,), refusals=(404,)),
    Operation("create_target_change", "post", "/projects/{project_year_id}/target-changes",
              "提出目标调整（本单位填报人、管理员）：新的年度指标值、新增或撤销指标；答其编号，待审核", s.TargetChangeState,
              (PROJECT_YEAR,), s.TargetChangeBody, (403, 404, 422), s.Error, status=201),
    Operation("approve_target_change", "post", "/target-changes/{target_change_id}/approve",
              "批准目标调整（主管部门审核人、管理员）：新指标值适用于全年，实际值按其重新评判", s.TargetChangeState,
              (TARGET_CHANGE,), refusals=(403, 404), conflict=s.Error),
    Operation("return_target_change", "post", "/target-changes/{target_change_id}/return",
              "退回目标调整并写明审核意见（主管部门审核人、管理员）：原指标值继续有效", s.TargetChangeState,
              (TARGET_CHANGE,), s.ReturnBody, (403, 404, 422), s.Error),
    Operation("get_evaluation", "get", "/projects/{project_year_id}/evaluation", "绩效自评（100 分）截至某日", s.Evaluation,
              (PROJECT_YEAR, AS_OF), refusals=(404, 422)),
    Operation("put_score", "put", "/indicators/{indicator_id}/score",
              "评价人为定性指标在其完成情况的区间内评分（审核人、管理员）；未评分时为区间中值（建议分）；答绩效自评",
              s.Evaluation, (INDICATOR, AS_OF), s.ScoreBody, (403, 404, 422), s.Error),
    Operation("put_deduction", "put", "/indicators/{indicator_id}/deduction",
              "评价人因目标设定偏低对超额完成的指标扣分，须说明理由（审核人、管理员）；答绩效自评",
              s.Evaluation, (INDICATOR, AS_OF), s.DeductionBody, (403, 404, 422), s.Error),
    Operation("put_evaluation_weights", "put", "/projects/{project_year_id}/evaluation/weights",
              "审核人调整一级指标分值（合计 100），须说明理由；答绩效自评", s.Evaluation, (PROJECT_YEAR, AS_OF),
              s.WeightsBody, (403, 404, 422), s.Error),
    Operation("get_overview", "get", "/reports/overview", "总览：按主管部门、实施单位汇总灯数与预算执行", s.Overview,
              (YEAR, AS_OF, Param("department", "query", {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                                  "只看该主管部门（编号）"),
               Param("unit", "query", {"type": "integer", "minimum": 0, "maximum": MAX_ID}, "只看该实施单位（编号）"),
               _choice("light", LIGHTS, "只计该灯的项目"), _choice("level1", LEVEL1S, "只计该一级指标"))),
    Operation("list_alerts", "get", "/alerts", "预警：指标或预算的黄灯、红灯与逾期未填", s.AlertList,
              (YEAR, _choice("state", STATES, "open（缺省）、closed 或 all"))),
)

RECTIFICATION = _id("rectification_id", "整改事项编号")
OPERATIONS += (
    Operation("list_rectifications", "get", "/rectifications", "整改事项（调用者范围内）", s.RectificationList,
              (_choice("state", RECTIFICATION_STATES, "open（缺省）待整改、answered 已答复待审核、closed 已关闭或 all"),)),
    Operation("create_rectification", "post", "/projects/{project_year_id}/rectifications",
              "提出整改（主管部门审核人、管理员）：针对项目整体或其一个指标，写明整改要求和建议与期限；答其编号，待整改",
              s.RectificationState, (PROJECT_YEAR,), s.RectificationBody, (403, 404, 422), status=201),
    Operation("answer_rectification", "put", "/rectifications/{rectification_id}",
              "填报整改措施与整改结果（本单位填报人、管理员）；关闭前可再次修改；答状态 answered", s.RectificationState,
              (RECTIFICATION,), s.RectificationAnswerBody, (403, 404, 422), s.Error),
    Operation("close_rectification", "post", "/rectifications/{rectification_id}/close",
              "关闭已答复的整改事项并写明整改结论（审核人、管理员）；答状态 closed", s.RectificationState,
              (RECTIFICATION,), s.RectificationCloseBody, (403, 404, 422), s.Error),
    Operation("return_rectification", "post", "/rectifications/{rectification_id}/return",
              "退回已答复的整改事项并写明意见，可给出新的期限（审核人、管理员）；答状态 open", s.RectificationState,
              (RECTIFICATION,), s.RectificationReturnBody, (403, 404, 422), s.Error),
)

ERROR_TEXT = {400: "请求格式有误", 401: "缺少或无效的访问令牌", 403: "无权执行此操作", 404: "不存在，或无权查看",
              409: "与当前状态冲突：数值已被他人修改（附当前值），或自评已通过、已锁定；目标调整已审核、指标值已变或有待审核的调整", 422: "内容被拒绝：附中文原因与字段", 428: "覆盖已有数值须附上读取时的版本"}

# A 409 that carries no current value: the object's state no longer fits the step.
STATE_CONFLICT = "状态已变化，此操作不再适用（例如已被他人处理）：附中文原因"


class _NoTitles(GenerateJsonSchema):
    """Field titles would only repeat the field names."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def _models() -> list[tuple[type[BaseModel], str]]:
    answers = {op.answer for op in OPERATIONS} | {op.conflict for op in OPERATIONS if op.conflict}
    answers |= {s.Error, s.TokenError}
    bodies = {op.body for op in OPERATIONS if op.body}
    return sorted([(m, "serialization") for m in answers] + [(m, "validation") for m in bodies],
                  key=lambda pair: pair[0].__name__)


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel], description: str, **extra) -> dict:
    return {"description": description, "content": {JSON: {"schema": _ref(model)}}, **extra}


def _parameter(p: Param) -> dict:
    out = {"name": p.name, "in": p.where, "required": p.required, "description": p.description, "schema": p.schema}
    if p.where == "query":
        out["allowEmptyValue"] = True      # `?year=` reads as no year, as from a page's filter form
    return out


def _operation(op: Operation) -> dict:
    answer = {"ETag": {"description": "新的版本，例如 \"2\"", "schema": {"type": "string"}}} if op.etag else {}
    responses = {str(op.status): _json(op.answer, "已创建" if op.status == 201 else "成功",
                                       **({"headers": answer} if answer else {}))}
    for status in sorted({400, 401, *op.refusals} | ({409} if op.conflict else set())):
        model = op.conflict if status == 409 else s.TokenError if status == 401 else s.Error
        text = STATE_CONFLICT if status == 409 and op.conflict is s.Error else ERROR_TEXT[status]
        responses[str(status)] = _json(model, text)
    responses["401"]["headers"] = {"WWW-Authenticate": {"description": "认证方式：Bearer", "schema": {"type": "string"}}}
    out = {"operationId": op.name, "summary": op.summary,
           "parameters": [_parameter(p) for p in op.params]}
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref(op.body)}}}
    out["responses"] = responses
    return out


@cache
def document() -> dict:
    _keys, definitions = models_json_schema(_models(), ref_template="#/components/schemas/{model}",
                                            schema_generator=_NoTitles)
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(API + op.path, {})[op.method] = _operation(op)
    paths[API + "/openapi.json"] = {"get": {
        "operationId": "get_openapi", "summary": "本文档（OpenAPI 3.1；无需令牌）", "security": [],
        "responses": {"200": {"description": "OpenAPI 文档", "content": {JSON: {"schema": {"type": "object"}}}}}}}
    return {"openapi": "3.1.0",
            "info": {"title": TITLE, "version": "1", "description": DESCRIPTION},
            "servers": [{"url": "/"}],
            "security": [{"bearer": []}],
            "paths": paths,
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                           "schemas": definitions["$defs"]}}


def document_json() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=2) + "\n"
