"""The JSON API's shapes (INTERFACES.md) as pydantic models: what a request may send and what
every answer is.

The views validate bodies with the request models and send every answer through a response
model (`fit`, `json_of`); reads/openapi.py builds the OpenAPI document from the same models. So the
document and the answers cannot drift apart: an answer that does not fit its model is an error
in the tests, not an undocumented surprise for a client. Response models forbid unknown keys
for the same reason: a key added to an answer must be added here first.

The request models are stricter than the page forms that share ActualInput, because a script
sends JSON, not what a person types: a number is a JSON number or plain digits as text (`35`,
`1,234.5`), an assessment, likelihood or reason is one of the listed words exactly, and
`deviation_reasons` is a list. What JSON Schema cannot say (a unit of the target's base, a
period inside the project's year, a reason when the light is not green) is refused by the domain
with a 422.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from functools import partial
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError, ValidationInfo,
                      WithJsonSchema, field_validator)

from domain import rules
from models.actual import DEVIATION_REASONS, LIKELIHOODS, MAX_NUMBER, ActualInput
from models.bounds import MAX_ID
from services.rectifications import (MAX_ANSWER, MAX_REQUIREMENT, AnswerText, CloseInput, RectificationInput,
                                     RequiredText, SendBackInput, typed_day)

# --------------------------------------------------------------------------- the pieces

# The tracked years (models/bounds.py: 2000–2100; tests/test_api_schemas.py holds them together).
YEAR_PATTERN = "(?:20[0-9]{2}|2100)"
PERIOD_PATTERN = f"^{YEAR_PATTERN}-(?:0[1-9]|1[0-2])$"
DATE_PATTERN = f"^{YEAR_PATTERN}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$"
# A number written as text: what domain.units.parse_number reads, in plain ASCII.
_DIGITS = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+"
UNSIGNED_TEXT = rf"^\+?(?:{_DIGITS})$"
SIGNED_TEXT = rf"^[+-]?(?:{_DIGITS})$"
MAX_UNIT = 40            # Actual.unit

Light = Literal["green", "yellow", "red", "grey"]
Assessment = Literal["达成", "部分达成", "未达成"]
Measure = Literal["cumulative", "level", "qualitative"]
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]
Period = Annotated[str, Field(pattern=PERIOD_PATTERN, examples=["2023-07"])]

Timestamp = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str),
                      WithJsonSchema({"type": "string", "format": "date-time"})]


def _number_schema(text_pattern: str, minimum: bool) -> dict:
    bounds = {"minimum": 0} if minimum else {"exclusiveMinimum": -int(MAX_NUMBER)}
    return {"anyOf": [{"type": "number", **bounds, "exclusiveMaximum": int(MAX_NUMBER)},
                      {"type": "string", "pattern": text_pattern}]}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [*schema.get("anyOf", [schema]), {"type": "null"}]}


def _one_of(choices: tuple[str, ...], raw):
    """The raw value is one of `choices` exactly (or null)."""
    if raw is not None and raw not in choices:
        raise ValueError(f"应为：{'、'.join(choices)}")
    return raw


def _number_text(pattern: str, raw):
    """A JSON number, or digits as text (the page's leniency — spaces, full-width digits — is
    for people typing, not for scripts)."""
    if isinstance(raw, str) and not re.fullmatch(pattern, raw):
        raise ValueError("不是有效的数字")
    return raw


def _choice_schema(choices: tuple[str, ...]) -> dict:
    return {"enum": list(choices)}


def zh(description: str) -> ConfigDict:
    """The model's description in the document, for the people who call the API (Chinese; the
    docstrings are for the code's readers)."""
    return ConfigDict(json_schema_extra={"description": description})


# --------------------------------------------------------------------------- requests

class ActualBody(ActualInput):
    """`PUT /indicators/ID/actuals/YYYY-MM`."""
    model_config = zh("一期的实际值：定量指标填 value（可带 unit），定性指标填 assessment；覆盖已有数值时附 version（或 If-Match）。"
                      "未列出的字段被忽略。")
    value: Annotated[Decimal | None, WithJsonSchema(_nullable(_number_schema(UNSIGNED_TEXT, True))),
                     Field(description="实际值，单位为 unit（缺省：目标的单位）")] = None
    unit: Annotated[str | None, Field(max_length=MAX_UNIT, description="与目标同一基本单位的任一单位，例如 万元、元")] = None
    assessment: Annotated[str | None, WithJsonSchema(_nullable(_choice_schema(rules.ASSESSMENTS))),
                          Field(description="定性指标的完成情况")] = None
    forecast: Annotated[Decimal | None, WithJsonSchema(_nullable(_number_schema(SIGNED_TEXT, False))),
                        Field(description="全年预计")] = None
    deviation_reasons: Annotated[list[str], WithJsonSchema(_nullable(
        {"type": "array", "items": _choice_schema(DEVIATION_REASONS)})),
        Field(description="偏差原因；黄灯、红灯时必填")] = []
    deviation_note: Annotated[str | None, Field(description="偏差说明")] = None
    likelihood: Annotated[str | None, WithJsonSchema(_nullable(_choice_schema(LIKELIHOODS))),
                          Field(description="完成可能性")] = None
    note: Annotated[str | None, Field(description="备注")] = None
    version: Annotated[int | None, Field(ge=0, description="读取时的 actual.version；0：仅当该期尚无数值")] = None

    @field_validator("value", "forecast", "assessment", "likelihood", "deviation_reasons", mode="before")
    @classmethod
    def _as_sent(cls, raw, info: ValidationInfo):
        """The JSON value as sent, before ActualInput's leniency for what people type."""
        return _AS_SENT[info.field_name](raw)


def _reason_list(raw):
    if isinstance(raw, str):
        raise ValueError("应为偏差原因的列表，例如 [\"其他\"]")
    return raw


_AS_SENT = {"value": partial(_number_text, UNSIGNED_TEXT), "forecast": partial(_number_text, SIGNED_TEXT),
            "assessment": partial(_one_of, rules.ASSESSMENTS), "likelihood": partial(_one_of, LIKELIHOODS),
            "deviation_reasons": _reason_list}


def _amount(raw):
    if raw is None:
        raise ValueError("必须填写")
    return ActualInput.number(_number_text(UNSIGNED_TEXT, raw))


class SpendingBody(BaseModel):
    """`PUT /projects/ID/spending/YYYY-MM`."""
    model_config = zh("截至该期末的累计支出；覆盖已有数值时附 version（或 If-Match）。未列出的字段被忽略。")
    amount_yuan: Annotated[Decimal, WithJsonSchema(_number_schema(UNSIGNED_TEXT, True)),
                           Field(description="截至该月末的累计支出（元）")]
    version: Annotated[int | None, Field(ge=0, description="读取时的 budget.version；0：仅当该期尚无数值")] = None

    @field_validator("amount_yuan", mode="before")
    @classmethod
    def _amount_yuan(cls, raw):
        return _amount(raw)


class ScoreBody(BaseModel):
    """`PUT /indicators/ID/score`."""
    model_config = zh("评价人为定性指标设定的分值；null：恢复为所在区间的默认分。")
    score: Annotated[Decimal | None, WithJsonSchema(_nullable(_number_schema(SIGNED_TEXT, False))),
                     Field(description="分值，须在完成情况对应的区间内")]


# --------------------------------------------------------------------------- answers

class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(Answer):
    model_config = zh("请求被拒绝：中文说明；422 时 field 指出请求体中有误的字段（如有）。")
    error: str
    field: str | None = None


class TokenError(Error):
    """401 (its own model, so that the document names the case)."""
    model_config = zh("缺少令牌，或令牌未知、已撤销、已过期，或其用户已停用。")


class ProjectItem(Answer):
    id: int = Field(description="ProjectYear 的编号：其他调用所用的 ID")
    name: str
    year: int
    department: str
    unit: str
    light: Light | None = Field(description="指标与预算中最差的灯；null：尚无到期的期间")


class ProjectList(Answer):
    model_config = zh("调用者可见的项目年度；给出 year 时只列该年度，否则新的年度在前。")
    projects: list[ProjectItem]


class Target(Answer):
    model_config = zh("指标值：原文及解析出的比较符、数值与单位。")
    raw: str = Field(description="指标值原文，例如 ≥70家")
    kind: Literal["quantitative", "qualitative"]
    op: Literal[">=", ">", "=", "<=", "<"] | None
    value: Number | None
    unit: str | None


class Actual(Answer):
    model_config = zh("年度一侧截至该日显示的填报：截至该日已结束的最近一期。")
    period: Period = Field(description="所填的期间（期末月）")
    value: Number | None = Field(description="实际值（定量指标），单位为 unit")
    unit: str | None
    assessment: Assessment | None = Field(description="完成情况（定性指标）")
    version: int = Field(description="版本：覆盖该期数值时附上")
    forecast: Number | None = Field(description="全年预计")
    deviation_reasons: list[str] = Field(description="偏差原因")
    deviation_note: str | None = Field(description="偏差说明")
    likelihood: str | None = Field(description="完成可能性")
    note: str | None = Field(description="备注")
    updated_by: str = Field(description="最后修改人")
    updated_at: Timestamp = Field(description="最后修改时间（UTC）")


class PeriodProgress(Answer):
    model_config = zh("实施期一侧的进展：本项目截至本年度各年（years）的数值，累计指标相加，其他取最近一年。")
    period: Period
    value: Number | None
    unit: str | None
    assessment: Assessment | None
    years: list[int]


class Indicator(Answer):
    """IND of INTERFACES.md."""
    model_config = zh("IND：指标截至某日的一侧（年度 annual 或实施期 period）。同一指标两侧都有目标时出现两次，年度在前；"
                      "灯只属于年度一侧。")
    id: int = Field(description="指标编号：PUT /indicators/ID/… 所用的 ID")
    level1: str = Field(description="一级指标（表中所写）")
    level2: str | None = Field(description="二级指标")
    level3: str | None = Field(description="三级指标")
    scope: Literal["annual", "period"] = Field(description="annual：年度目标；period：实施期目标")
    level1_std: str | None = Field(description="一级指标的规范名称")
    level2_std: str | None = Field(description="二级指标的规范名称")
    target: Target
    measure: Measure = Field(description="计量方式：累计（逐期累加）、水平（当期水平）或定性（完成情况）")
    actual: Actual | PeriodProgress | None = Field(description="年度：截至该日的填报；实施期：各年的进展；null：尚无")
    completion: float | None = Field(description="完成率 r")
    pace: float | None = Field(description="进度比 p（对序时进度）")
    light: Light | None = Field(description="截至该日的灯；grey：应填期间未填；null：尚无到期的期间")
    last_light: Light | None = Field(description="最近已填期间的灯：灰灯时可见上期的灯（如“灰，上期红”）")
    over: bool | None = Field(description="超额：“≥”类定量指标的完成率或进度比达到 1.2（可配置），灯仍为绿；null：尚无已评判的数值")
    original_target: Target | None = Field(description="经确认的调整之前的原目标；未调整：null")


class Budget(Answer):
    model_config = zh("预算执行截至某日：截至该日已结束的最近一期的累计支出。")
    annual_yuan: Number | None = Field(description="截至该日的全年预算数（元）")
    initial_yuan: Number | None = Field(description="导入时的年度资金总额（元）")
    spent_yuan: Number | None = Field(description="累计支出（元）")
    execution_rate: float | None = Field(description="执行率：累计支出 / 全年预算数")
    light: Light | None
    pace: float | None = Field(description="执行率对序时进度之比")
    period: Period | None = Field(description="累计支出所属的期间")
    version: int | None = Field(description="版本：覆盖该期支出时附上")


class Project(Answer):
    model_config = zh("一个项目年度截至 as_of：预算与全部在用指标。")
    id: int
    project_id: int
    name: str
    year: int
    periods: Literal["monthly", "quarterly"]
    as_of: date
    light: Light | None
    budget: Budget
    indicators: list[Indicator]


class ActualConflict(Answer):
    model_config = zh("409：该期数值在读取后已被他人修改；current 为该指标现在的 IND。")
    error: str
    current: Indicator | None


class SpendingConflict(Answer):
    model_config = zh("409：该期支出在读取后已被他人修改；current 为现在的预算执行。")
    error: str
    current: Budget


class Counts(Answer):
    green: int
    yellow: int
    red: int
    grey: int


class GroupBudget(Answer):
    annual_yuan: Number | None
    spent_yuan: Number | None
    execution_rate: Number | None
    light: Light | None
    progress: Number | None = Field(description="序时进度（按预算加权）")


class UnitGroup(Answer):
    id: int
    name: str
    projects: int
    indicators: int
    counts: Counts
    budget: GroupBudget


class DepartmentGroup(UnitGroup):
    code: str | None
    units: list[UnitGroup]


class Totals(Answer):
    projects: int
    indicators: int
    counts: Counts
    budget: GroupBudget


class Overview(Answer):
    model_config = zh("总览：调用者范围内按主管部门、实施单位汇总的灯数与预算执行（与总览页面同一计算）。")
    year: int | None
    as_of: date
    progress: Number | None
    totals: Totals
    departments: list[DepartmentGroup]


class ScoredIndicator(Answer):
    id: int
    name: str
    weight: Number = Field(description="权重（分）")
    score: Number = Field(description="得分")
    measure: Measure
    assessment: Assessment | None
    evaluator_score: Number | None = Field(description="评价人设定的分值；null：未设定")
    band: Annotated[list[Number], Field(min_length=2, max_length=2)] | None = Field(
        description="定性指标可评分的区间 [最低, 最高]（分）")
    suggested: bool = Field(description="定性指标的分值为区间默认分，尚未由评价人设定")


class Evaluation(Answer):
    model_config = zh("绩效自评（100 分）：预算执行 10 分，各一级指标的分值与各指标得分。")
    total: Number
    grade: Literal["优", "良", "中", "差"]
    budget_score: Number
    execution_rate: Number
    levels: dict[str, Number]
    level_scores: dict[str, Number]
    indicators: list[ScoredIndicator]
    as_of: date


class Alert(Answer):
    id: int
    project_id: int = Field(description="ProjectYear 的编号")
    indicator_id: int | None = Field(description="null：预算")
    kind: str = Field(description="light：黄灯或红灯；overdue：逾期未填；以后可能增加其他种类")
    light: Light
    period: Period
    opened_at: Timestamp
    closed_at: Timestamp | None


class AlertList(Answer):
    model_config = zh("调用者范围内的预警：指标或预算为黄灯、红灯（light），或逾期未填（overdue）。")
    alerts: list[Alert]


class Drift(RuntimeError):
    """An answer that does not fit its model: a bug (a 500), never the caller's fault — and not a
    ValueError, which the views read as the domain refusing (a 422)."""


def fit(model: type[Answer], answer) -> Answer:
    try:
        return model.model_validate(answer)
    except ValidationError as exc:
        raise Drift(f"the answer does not fit {model.__name__}: {exc}") from exc


def json_of(answer: Answer) -> str:
    """The answer as sent: pydantic writes the JSON itself (as fast as the plain json module on a
    province's project list, with the validation included); an Error leaves out a null field."""
    return answer.model_dump_json(exclude_none=isinstance(answer, Error))


# --------------------------------------------------------------------------- 整改 (DOMAIN.md §8)
# The bodies take the pages' input models (services/rectifications.py: the same checks and
# Chinese messages) with what a script must send spelled out: text within its length as sent, a
# date written YYYY-MM-DD, an indicator id as a JSON integer.

def _as_sent_text(limit: int):
    def check(raw):
        if isinstance(raw, str) and len(raw) > limit:
            raise ValueError(f"不能超过{limit}字")
        return raw
    return BeforeValidator(check)


def _as_sent_day(raw):
    if raw is None:
        return raw
    if not isinstance(raw, str) or not re.fullmatch(DATE_PATTERN, raw):
        raise ValueError("应为 YYYY-MM-DD 格式的日期，例如 2023-08-20")
    return raw


def _text_of(limit: int, description: str):
    return (_as_sent_text(limit), WithJsonSchema({"type": "string", "minLength": 1, "maxLength": limit}),
            Field(description=description))


_DAY_SCHEMA = {"type": "string", "format": "date", "pattern": DATE_PATTERN}


class RectificationBody(RectificationInput):
    """`POST /projects/ID/rectifications`."""
    model_config = zh("提出整改：针对项目整体（indicator_id 为 null）或其一个指标，写明整改要求和建议与整改期限；责任单位为项目的实施单位。"
                      "未列出的字段被忽略。")
    indicator_id: Annotated[int | None, Field(strict=True, ge=1, le=MAX_ID, description="指标编号（IND 的 id）；null：项目整体")] = None
    requirement: Annotated[RequiredText, *_text_of(MAX_REQUIREMENT, "整改要求和建议")]
    due: Annotated[date, BeforeValidator(typed_day), BeforeValidator(_as_sent_day), WithJsonSchema(_DAY_SCHEMA),
                   Field(description="整改期限，不早于今天")]


class RectificationAnswerBody(BaseModel):
    """`PUT /rectifications/ID`."""
    model_config = zh("填报人填报整改措施与整改结果（审核人关闭前可再次修改）；佐证材料在整改事项页面上传。未列出的字段被忽略。")
    measures: Annotated[AnswerText, *_text_of(MAX_ANSWER, "整改措施")]
    result: Annotated[AnswerText, *_text_of(MAX_ANSWER, "整改结果")]


class RectificationCloseBody(CloseInput):
    """`POST /rectifications/ID/close`."""
    model_config = zh("审核人关闭已答复的整改事项，写明整改结论。未列出的字段被忽略。")
    conclusion: Annotated[RequiredText, *_text_of(MAX_REQUIREMENT, "整改结论")]


class RectificationReturnBody(SendBackInput):
    """`POST /rectifications/ID/return`."""
    model_config = zh("审核人退回已答复的整改事项（回到待整改），写明意见；可给出新的整改期限。未列出的字段被忽略。")
    comment: Annotated[RequiredText, *_text_of(MAX_REQUIREMENT, "退回意见")]
    due: Annotated[date | None, BeforeValidator(typed_day), BeforeValidator(_as_sent_day),
                   WithJsonSchema(_nullable(_DAY_SCHEMA)),
                   Field(description="新的整改期限（可选），不早于今天")] = None


RectificationStateName = Literal["open", "answered", "closed"]


class RectificationState(Answer):
    model_config = zh("整改事项的编号与状态：open 待整改，answered 已答复待审核，closed 已关闭。")
    id: int
    state: RectificationStateName


class RectificationItem(Answer):
    id: int
    project_id: int = Field(description="ProjectYear 的编号")
    indicator_id: int | None = Field(description="null：项目整体")
    requirement: str = Field(description="整改要求和建议")
    due: date = Field(description="整改期限")
    state: RectificationStateName
    unit: str = Field(description="责任单位（实施单位）")
    measures: str | None = Field(description="整改措施")
    result: str | None = Field(description="整改结果")
    conclusion: str | None = Field(description="整改结论")
    created_at: Timestamp
    answered_at: Timestamp | None
    closed_at: Timestamp | None


class RectificationList(Answer):
    model_config = zh("调用者范围内的整改事项，按编号排列。")
    rectifications: list[RectificationItem]
