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

import datetime as dt
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError, ValidationInfo,
                      WithJsonSchema, field_validator)
from pydantic_core import to_json

from domain import rules
from models.actual import DEVIATION_REASONS, LIKELIHOODS, MAX_NUMBER, SPENDING_NOTE_MAX, ActualInput
from models.bounds import MAX_ID
from services.adjustment import MAX_DOC_NO, AdjustmentInput
from services.adjustment import MAX_REASON as MAX_ADJUSTMENT_REASON
from services.rectifications import (MAX_ANSWER, MAX_REQUIREMENT, AnswerText, CloseInput, RectificationInput,
                                     RequiredText, SendBackInput, typed_day)
from services.target_adjustment import (MAX_CHANGES, MAX_LEVEL2, MAX_LEVEL3, MAX_REASON, MAX_TARGET, ChangeInput,
                                        ProposalInput, ReturnInput)

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
AlertLight = Literal["green", "yellow", "red", "grey", "blue"]       # blue: an over alert (超额, DOMAIN.md §8)
Assessment = Literal["达成", "部分达成", "未达成"]
Measure = Literal["cumulative", "level", "qualitative"]
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]
Period = Annotated[str, Field(pattern=PERIOD_PATTERN, examples=["2023-07"])]
SpendingMark = Literal["超预算", "冲减"]

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
    forecast: Annotated[Decimal | str | None, WithJsonSchema(_nullable(
        {"anyOf": [*_number_schema(SIGNED_TEXT, False)["anyOf"], _choice_schema(rules.ASSESSMENTS)]})),
        Field(description="全年预计：定量指标为数值（单位同 unit），定性指标为完成情况")] = None
    deviation_reasons: Annotated[list[str], WithJsonSchema(_nullable(
        {"type": "array", "items": _choice_schema(DEVIATION_REASONS)})),
        Field(description="偏差原因；黄灯、红灯时必填")] = []
    deviation_note: Annotated[str | None, Field(description="偏差说明")] = None
    likelihood: Annotated[str | None, WithJsonSchema(_nullable(_choice_schema(LIKELIHOODS))),
                          Field(description="完成可能性")] = None
    note: Annotated[str | None, Field(description="备注")] = None
    over_reason: Annotated[str | None, Field(
        description="超额原因（如目标设定偏低，或实际成效提升）：年度最后一期（12月）完成率达到 130%（可配置）及以上时必填")] = None
    version: Annotated[int | None, Field(ge=0, description="读取时的 actual.version；0：仅当该期尚无数值")] = None

    @field_validator("value", "assessment", "likelihood", "deviation_reasons", mode="before")
    @classmethod
    def _as_sent(cls, raw, info: ValidationInfo):
        """The JSON value as sent, before ActualInput's leniency for what people type."""
        return _AS_SENT[info.field_name](raw)

    @field_validator("forecast", mode="before")
    @classmethod
    def _forecast_as_sent(cls, raw, info: ValidationInfo):
        """A number as `value` is sent, or an assessment; for a qualitative indicator anything else
        is left to ActualInput, which names the three assessments in its refusal."""
        if raw in rules.ASSESSMENTS or (info.context or {}).get("measure") == rules.QUALITATIVE:
            return raw
        return _number_text(SIGNED_TEXT, raw)


def _reason_list(raw):
    if isinstance(raw, str):
        raise ValueError("应为偏差原因的列表，例如 [\"其他\"]")
    return raw


_AS_SENT = {"value": partial(_number_text, UNSIGNED_TEXT),
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
    note: Annotated[str | None, WithJsonSchema(_nullable({"type": "string", "maxLength": SPENDING_NOTE_MAX})),
                    Field(description="说明；累计支出超过全年预算数（超预算）、低于此前某期（冲减），"
                                      "或使此后某期低于本期时必须填写（退回、冲销、追加预算待批复……）")] = None

    @field_validator("amount_yuan", mode="before")
    @classmethod
    def _amount_yuan(cls, raw):
        return _amount(raw)


class AdjustmentBody(AdjustmentInput):
    """`POST /projects/ID/budget-adjustments` (services/adjustment.py checks the rest)."""
    model_config = zh("预算调整（追加或调减）：自 date 起计入全年预算数；date 须在项目年度内，调减后的预算数不能小于 0。"
                      "登记后不能修改，差错以一笔相反的调整冲正。未列出的字段被忽略。")
    amount_yuan: Annotated[Decimal, WithJsonSchema(_number_schema(SIGNED_TEXT, False)),
                           Field(description="调整金额（元）：追加为正数，调减为负数，不能为 0；精确到分")]
    date: Annotated[dt.date, WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
                    Field(description="调整日期：自该日起计入全年预算数")]
    doc_no: Annotated[str, Field(min_length=1, max_length=MAX_DOC_NO, description="文号，例如 晋财预〔2023〕12号")]
    reason: Annotated[str, Field(min_length=1, max_length=MAX_ADJUSTMENT_REASON, description="调整原因")]

    @field_validator("amount_yuan", "date", "doc_no", "reason", mode="before")
    @classmethod
    def _as_sent(cls, raw, info: ValidationInfo):
        """The JSON value as sent, before the leniency for what people type (spaces around a
        文号 are trimmed after its length is checked)."""
        name = info.field_name
        if name == "amount_yuan":
            return _number_text(SIGNED_TEXT, raw)
        if name == "date" and isinstance(raw, str) and not re.fullmatch(DATE_PATTERN, raw):
            raise ValueError("应为日期，格式 YYYY-MM-DD，例如 2023-06-30")
        return _as_long_as(_LONGEST[name], raw) if name in _LONGEST else raw


_LONGEST = {"doc_no": MAX_DOC_NO, "reason": MAX_ADJUSTMENT_REASON}


class TargetChangeItem(ChangeInput):
    model_config = zh("一项目标调整：indicator_id 与新的 target（调整年度指标值），或 indicator_id 与 withdraw: true（撤销该年度指标）；"
                      "不给 indicator_id 时为新增指标，须给 level1、level2、level3 与 target。")
    indicator_id: Annotated[int | None, Field(strict=True, ge=1, le=MAX_ID,
                                              description="本项目年度的指标编号（IND 的 id）；null：新增指标")] = None
    target: Annotated[str | None, Field(max_length=MAX_TARGET,
                                        description="新的年度指标值，按指标值的写法，例如 ≥300平方米、按时完成")] = None
    withdraw: Annotated[bool, Field(strict=True, description="true：撤销该指标的年度目标")] = False
    level1: Annotated[str | None, Field(max_length=40, description="新增指标的一级指标，例如 产出指标")] = None
    level2: Annotated[str | None, Field(max_length=MAX_LEVEL2, description="新增指标的二级指标，例如 数量指标")] = None
    level3: Annotated[str | None, Field(max_length=MAX_LEVEL3, description="新增指标的名称（三级指标）")] = None

    @field_validator("target", "level1", "level2", "level3", mode="before")
    @classmethod
    def _as_sent(cls, raw, info: ValidationInfo):
        longest = {"target": MAX_TARGET, "level1": 40, "level2": MAX_LEVEL2, "level3": MAX_LEVEL3}[info.field_name]
        return _as_long_as(longest, raw)


def _as_long_as(longest: int, raw):
    """A text as sent is at most `longest` characters, as the document says, before the input
    model trims it (and refuses a blank one in Chinese)."""
    if isinstance(raw, str) and len(raw) > longest:
        raise ValueError(f"不能超过{longest}字")
    return raw


class TargetChangeBody(ProposalInput):
    """`POST /projects/ID/target-changes` (services/target_adjustment.py checks the rest)."""
    model_config = zh("目标调整（填报人）：新的年度指标值、新增或撤销的指标，及调整原因；经主管部门审核人批准后适用于全年，"
                      "待审核期间原指标值继续有效。未列出的字段被忽略。")
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON, description="调整原因")]
    changes: Annotated[list[TargetChangeItem], Field(json_schema_extra={"minItems": 1, "maxItems": MAX_CHANGES},
                                                     description=f"调整内容：至少一项，至多{MAX_CHANGES}项")]

    @field_validator("reason", mode="before")
    @classmethod
    def _reason_as_sent(cls, raw):
        return _as_long_as(MAX_REASON, raw)


class ReturnBody(ReturnInput):
    """`POST /target-changes/ID/return`."""
    model_config = zh("退回目标调整（审核人）：须写明审核意见。")
    comment: Annotated[str, Field(min_length=1, max_length=MAX_REASON, description="审核意见")]

    @field_validator("comment", mode="before")
    @classmethod
    def _comment_as_sent(cls, raw):
        return _as_long_as(MAX_REASON, raw)


class ScoreBody(BaseModel):
    """`PUT /indicators/ID/score`."""
    model_config = zh("评价人为定性指标设定的分值；null：恢复为所在区间的默认分。")
    score: Annotated[Decimal | None, WithJsonSchema(_nullable(_number_schema(SIGNED_TEXT, False))),
                     Field(description="分值，须在完成情况对应的区间内")]


class WeightsBody(BaseModel):
    """`PUT /projects/ID/evaluation/weights`."""
    model_config = zh("审核人调整本项目年度的一级指标分值（合计 100），须说明理由；weights 为 null：恢复默认分值。")
    weights: Annotated[dict[Literal["预算执行率", "产出指标", "效益指标", "满意度指标"], Decimal] | None, WithJsonSchema(
        _nullable({"type": "object", "properties": {name: {"type": "number", "minimum": 0, "maximum": 100}
                                                    for name in rules.DEFAULT_LEVEL_WEIGHTS},
                   "required": list(rules.DEFAULT_LEVEL_WEIGHTS), "additionalProperties": False})),
        Field(description="各一级指标的分值")]
    reason: Annotated[str, Field(min_length=1, max_length=2000, description="调整理由")]


class DeductionBody(BaseModel):
    """`PUT /indicators/ID/deduction`."""
    model_config = zh("评价人因目标设定偏低，对超额完成的指标扣分（须说明理由）；points 为 null：取消扣分。")
    points: Annotated[Decimal | None, WithJsonSchema(_nullable(_number_schema(UNSIGNED_TEXT, True))),
                      Field(description="扣分（分），大于 0 且不超过该指标得分")]
    reason: Annotated[str | None, Field(max_length=2000, description="扣分理由，扣分时必填")] = None


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
    forecast: Number | Assessment | None = Field(description="全年预计：定量指标为数值（单位同 unit），定性指标为完成情况")
    deviation_reasons: list[str] = Field(description="偏差原因")
    deviation_note: str | None = Field(description="偏差说明")
    likelihood: str | None = Field(description="完成可能性")
    note: str | None = Field(description="备注")
    over_reason: str | None = Field(description="超额原因（年度最后一期完成率达到 130% 及以上时填写）")
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
    initial_yuan: Number | None = Field(description="年初预算数：导入时的年度资金总额（元）")
    spent_yuan: Number | None = Field(description="累计支出（元）")
    execution_rate: float | None = Field(description="执行率：累计支出 / 该期末的全年预算数（调整日期在该期末之后的预算调整自下一期起计入）")
    light: Light | None
    pace: float | None = Field(description="执行率对序时进度之比")
    period: Period | None = Field(description="累计支出所属的期间")
    version: int | None = Field(description="版本：覆盖该期支出时附上")
    marks: list[SpendingMark] = Field(description="该期支出的标记：超预算（高于截至期末的全年预算数）、冲减（低于此前某期）；空：无")
    note: str | None = Field(description="该期支出的说明（退回、冲销、追加预算待批复……）")
    explained_by: Period | None = Field(description="说明标记的期间：本期，或其上调使本期成为冲减的此前一期；"
                                                    "null：无标记，或未说明（要求说明之前填报的）")


class AdjustmentCreated(Answer):
    model_config = zh("已登记的预算调整，及今天的全年预算数。")
    id: int = Field(description="预算调整的编号")
    annual_yuan: Number | None = Field(description="今天（Asia/Shanghai）的全年预算数（元）：年初预算数加上已生效的全部调整")
    initial_yuan: Number | None = Field(description="年初预算数：导入时的年度资金总额（元）")


class Adjustment(Answer):
    model_config = zh("一笔预算调整。")
    id: int
    date: dt.date = Field(description="调整日期：自该日起计入全年预算数")
    kind: Literal["追加", "调减"]
    amount_yuan: Number = Field(description="调整金额（元）：追加为正，调减为负")
    budget_after_yuan: Number = Field(description="自调整日期起的全年预算数（元），含此前的全部调整")
    doc_no: str = Field(description="文号")
    reason: str = Field(description="调整原因")
    recorded_by: str = Field(description="登记人（用户名）")
    recorded_at: Timestamp = Field(description="登记时间")
    in_force: bool = Field(description="截至 as_of 已生效")


class AdjustmentList(Answer):
    model_config = zh("一个项目年度的预算调整（按调整日期），及截至 as_of 的全年预算数。")
    initial_yuan: Number | None = Field(description="年初预算数：导入时的年度资金总额（元）")
    annual_yuan: Number | None = Field(description="截至 as_of 的全年预算数（元）")
    as_of: dt.date
    adjustments: list[Adjustment]


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


class TargetChangeState(Answer):
    model_config = zh("目标调整的编号与状态：pending 待审核，approved 已批准，returned 已退回。")
    id: int = Field(description="目标调整的编号：/target-changes/ID/… 所用的 ID")
    state: Literal["pending", "approved", "returned"]


class TargetChangeLine(Answer):
    action: Literal["change", "add", "withdraw"] = Field(description="change：调整指标值；add：新增指标；withdraw：撤销指标")
    indicator_id: int | None = Field(description="指标编号（新增的指标在批准后才有）")
    level1: str | None
    level2: str | None
    level3: str | None = Field(description="指标名称（三级指标）")
    old_target: str | None = Field(description="提出时的现行年度指标值（新增：null）")
    target: str | None = Field(description="新的年度指标值（撤销：null）")


class TargetChangeRecord(TargetChangeState):
    reason: str = Field(description="调整原因")
    proposed_by: str = Field(description="提出人（用户名）")
    proposed_at: Timestamp
    decided_by: str | None = Field(description="审核人（用户名）")
    decided_at: Timestamp | None
    comment: str | None = Field(description="审核意见")
    changes: list[TargetChangeLine]


class TargetChangeList(Answer):
    model_config = zh("一个项目年度的目标调整，新的在前；批准的调整已写入各指标的 target，原目标见 IND 的 original_target。")
    target_changes: list[TargetChangeRecord]


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
    score: Number = Field(description="得分（扣分之后）")
    measure: Measure
    assessment: Assessment | None
    evaluator_score: Number | None = Field(description="评价人设定的分值；null：未设定")
    band: Annotated[list[Number], Field(min_length=2, max_length=2)] | None = Field(
        description="定性指标可评分的区间 [最低, 最高]（分）；达成含最高分，部分达成、未达成不含")
    suggested: bool = Field(description="定性指标的分值为区间中值（建议分），尚未由评价人设定；自评须待评价人确定后才能提交")
    over: bool = Field(description="超额（完成率或进度比达到 120%）：评价人可因目标设定偏低扣分")
    deduction: Number = Field(description="评价人因目标设定偏低所扣的分（0：未扣分）")
    deduction_reason: str | None = Field(description="扣分理由")
    set_aside: str | None = Field(description="已存的评分或扣分不再适用（完成情况或超额已变化）的说明；null：无")


class PeriodGap(Answer):
    model_config = zh("一个已结束但有指标或支出未填报的期间。")
    period: Period
    indicators: list[str] = Field(description="该期未填报的指标")
    spending: bool = Field(description="该期未填报累计支出")
    explanation: str | None = Field(description="填报人说明的未填报原因；null：尚未说明（自评不能提交）")


class Evaluation(Answer):
    model_config = zh("绩效自评（100 分）：预算执行率与各一级指标的分值（默认 10/50/30/10，审核人可调整，合计 100）、"
                      "各指标得分，以及提交前尚缺的内容。")
    total: Number
    grade: Literal["优", "良", "中", "差"]
    budget_score: Number
    budget_points: Number = Field(description="预算执行率的分值")
    execution_rate: Number
    execution_reason: str | None = Field(description="执行率低于 90% 的原因；null：未填写")
    weights: dict[str, Number] = Field(description="在用的一级指标分值：预算执行率、产出指标、效益指标、满意度指标，合计 100")
    weights_reason: str | None = Field(description="审核人调整一级指标分值的理由；null：默认分值")
    levels: dict[str, Number]
    level_scores: dict[str, Number]
    indicators: list[ScoredIndicator]
    as_of: date
    data_through: Period | None = Field(description="实际用到的最近一期（如 2023-09）；null：尚无填报")
    data_label: str = Field(description="数据截至的说明，如“数据截至2023年9月（10-12月未填报）”")
    gaps: list[PeriodGap] = Field(description="截至 as_of 已结束、但有指标或支出未填报的期间")
    state: Literal["draft", "submitted", "approved", "returned"] = Field(description="审核状态")
    ready: bool = Field(description="自评可以提交（或审核通过）：problems 为空")
    problems: list[str] = Field(description="提交前尚缺的内容，每项一句")



class Alert(Answer):
    id: int
    project_id: int = Field(description="ProjectYear 的编号")
    indicator_id: int | None = Field(description="null：预算")
    kind: str = Field(description="light：黄灯或红灯；overdue：逾期未填；over：超额（仅供参考，指标的灯仍为绿）；"
                                  "以后可能增加其他种类")
    light: AlertLight
    period: Period
    opened_at: Timestamp
    closed_at: Timestamp | None


class AlertList(Answer):
    model_config = zh("调用者范围内的预警：指标或预算为黄灯、红灯（light），逾期未填（overdue），"
                      "或指标超额（over，灯色 blue）。")
    alerts: list[Alert]


class Drift(RuntimeError):
    """An answer that does not fit its model: a bug (a 500), never the caller's fault — and not a
    ValueError, which the views read as the domain refusing (a 422)."""


def fit(model: type[Answer], answer) -> Answer:
    try:
        return model.model_validate(answer)
    except ValidationError as exc:
        raise Drift(f"the answer does not fit {model.__name__}: {exc}") from exc


@dataclass(frozen=True)
class Unchecked:
    """A long answer of plain rows, in `model`'s shape, written to JSON as it is: a province's
    project list is 10,000 rows, and validating them one by one cost three times as much as
    writing them (bench/load.py). Its rows are typed columns read straight from the database,
    so they fit by construction; the views check them against `model` under test and debug
    (`views/api.send`), and Schemathesis checks every answer against the document in CI."""
    model: type[Answer]
    data: dict

    def checked(self) -> Answer:
        return fit(self.model, self.data)

    def agrees(self, sent: str) -> None:
        """Under test and debug: the JSON written from the plain rows (`sent`) is what the model,
        validated from them, writes; raises Drift if not."""
        if json.loads(sent) != json.loads(self.checked().model_dump_json()):
            raise Drift(f"the answer's JSON is not what {self.model.__name__} writes")


def json_of(answer: Answer | Unchecked) -> str:
    """The answer as sent: pydantic writes the JSON itself; an Error leaves out a null field."""
    if isinstance(answer, Unchecked):
        return to_json(answer.data).decode()
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
