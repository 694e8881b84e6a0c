"""Target adjustments (目标调整, DOMAIN.md §7): a 填报人 proposes new 年度 指标值 for indicators of a
project year — or adds an indicator, or withdraws one — with a reason; a 审核人 of the project's
主管部门 (or an admin) approves or returns it with a comment. Each function is a write use case,
called inside the caller's transaction.

- `propose` checks every item and stores the proposal, pending. Nothing in force changes: while
  it is pending the old target stands.
- `approve` puts the new targets in force for the whole year (the indicator's 年度 columns, which
  every reader loads), writes each change to the target history (TargetChange, where re-imports
  of changed forms write theirs: one history, whose first row keeps the 原目标), and rebuilds in
  the same transaction whatever was judged against the old targets — the stored judgement of
  each actual and the report summaries (`services.derived.rejudge`) and the open alerts
  (`services.alerts.after_write`) — so `flask check` finds nothing stale.
- `return_proposal` closes it with the 审核人's comment; nothing in force changes.
Both decisions tell the proposer: a mail through the outbox (their 工作台 lists the decision too,
reads/workbench.py).

A decision is taken once: the state moves from pending by a conditional update, so a second
reviewer at the same moment is told (`AdjustmentConflict`, 409) instead of deciding again. An
approval also refuses a proposal whose targets have changed since it was made (a re-import, an
earlier approval): it would put in force what nobody proposed against the target now standing.

What is refused, in Chinese naming the field (422): no reason; no change; an indicator twice, or
not of this project year (another unit's target above all), retired, or without a 年度 target; a
new 指标值 that the grammar (importers/values.py) reads as no target (`*`, `/`, empty), that equals
the one in force, that is too long or too large; one the actuals already entered cannot be
judged against (a number of another unit, a number where an assessment was entered or the other
way round) or only with a ratio no column can store; an added indicator without its 一级/二级/三级
names, with a 一级 or 二级 outside the taxonomy (财预〔2021〕101号), or named like one in force.
An indicator already in a pending proposal is a conflict (409): one change at a time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Mapping

from pydantic import BaseModel, ValidationError, field_validator
from sqlalchemy import update
from sqlmodel import Session, select

from domain.project_year import Entry, judge_entry
from importers import taxonomy
from importers.values import Target, parse_target
from models.actual import MAX_NUMBER, MAX_RATIO, VALUE_PLACES, Actual, EntryError, kept, validation_message
from models.indicator import Indicator, TargetChange
from models.project import Project, ProjectYear
from models.target_adjustment import (ADD, APPROVED, CHANGE, PENDING, RETURNED, STATE_LABELS, WITHDRAW,
                                      TargetAdjustment, TargetAdjustmentItem)
from services import alerts, derived, inputs
from services.summaries import lock

MAX_REASON, MAX_TARGET, MAX_CHANGES = 2000, 200, 200
MAX_LEVEL2, MAX_LEVEL3 = 100, 300
# The fields as the page and the API name them (models.actual.validation_message).
FIELD_NAMES = {"reason": "调整原因", "changes": "调整内容", "comment": "审核意见", "target": "新指标值",
               "indicator_id": "指标", "level1": "一级指标", "level2": "二级指标", "level3": "三级指标",
               "withdraw": "撤销"}


class AdjustmentConflict(Exception):
    """The proposal cannot be decided (or made) as it stands: decided already, its targets
    changed since, an indicator in another pending proposal. A Chinese message (409)."""


def _text(raw, longest: int, required: bool) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise ValueError("必须填写")
        return None
    if not isinstance(raw, str):
        raise ValueError("应为文字")
    text = raw.strip()
    if len(text) > longest:
        raise ValueError(f"不能超过{longest}字")
    return text


class ChangeInput(BaseModel):
    """One item: `indicator_id` with a new `target` (调整) or `withdraw` (撤销); or, without an
    indicator, the names and target of a new one (新增)."""
    indicator_id: int | None = None
    target: str | None = None
    withdraw: bool = False
    level1: str | None = None
    level2: str | None = None
    level3: str | None = None

    @field_validator("target", "level1", "level2", "level3", mode="before")
    @classmethod
    def _names(cls, raw, info):
        longest = {"target": MAX_TARGET, "level1": 40, "level2": MAX_LEVEL2, "level3": MAX_LEVEL3}[info.field_name]
        return _text(raw, longest, required=False)

    @property
    def action(self) -> str:
        if self.indicator_id is None:
            return ADD
        return WITHDRAW if self.withdraw else CHANGE


class ProposalInput(BaseModel):
    reason: str
    changes: list[ChangeInput]

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, raw):
        return _text(raw, MAX_REASON, required=True)

    @field_validator("changes", mode="after")
    @classmethod
    def _some(cls, changes):
        if not changes:
            raise ValueError("请至少调整、新增或撤销一个指标")
        if len(changes) > MAX_CHANGES:
            raise ValueError(f"一次最多调整{MAX_CHANGES}个指标")
        return changes


class ReturnInput(BaseModel):
    comment: str

    @field_validator("comment", mode="before")
    @classmethod
    def _comment(cls, raw):
        return _text(raw, MAX_REASON, required=True)


def refusal(exc: ValidationError) -> EntryError:
    """A body's first refusal as an EntryError naming its field as the API does (`reason`,
    `changes[0].target`), worded by the one mapper (models.actual.validation_message)."""
    error = exc.errors()[0]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    named = next((part for part in reversed(error["loc"]) if isinstance(part, str)), "")
    return EntryError(validation_message(_One(error | {"loc": (named,)}), FIELD_NAMES), path or None)


class _One:
    def __init__(self, error):
        self._error = error

    def errors(self):
        return [self._error]


# --------------------------------------------------------------------------- proposing

def propose(session: Session, py: ProjectYear, data: ProposalInput, who: str, now: datetime,
            config: Mapping) -> TargetAdjustment:
    """Check every item against the project year as it stands and store the proposal, pending;
    the caller holds the transaction (and rolls it back on EntryError or AdjustmentConflict)."""
    lock(session, [py.id])
    bands = inputs.thresholds(config)          # proposals and decisions of one project year, one after another
    indicators = {ind.id: ind for ind in session.exec(select(Indicator).where(Indicator.project_year_id == py.id))}
    _refuse_pending(session, py, [c.indicator_id for c in data.changes if c.indicator_id is not None], indicators)
    adjustment = TargetAdjustment(project_year_id=py.id, state=PENDING, reason=data.reason, proposed_by=who,
                                  proposed_at=now)
    session.add(adjustment)
    session.flush()
    seen: set[int] = set()
    added: set[tuple] = set()
    for position, change in enumerate(data.changes):
        field = f"changes[{position}]"
        if change.indicator_id is not None:
            if change.indicator_id in seen:
                raise EntryError(f"同一指标在一次调整中只能出现一次（第{position + 1}项）", f"{field}.indicator_id")
            seen.add(change.indicator_id)
        item = _item(session, py, indicators, change, field, bands)
        if item.action == ADD:
            key = (taxonomy.standard_level1(item.level1), taxonomy.compact(item.level3))
            if key in added:
                raise EntryError(f"新增的指标“{item.level3}”重复", f"{field}.level3")
            added.add(key)
        item.adjustment_id, item.position = adjustment.id, position
        session.add(item)
    session.flush()
    return adjustment


def _refuse_pending(session: Session, py: ProjectYear, ids: list[int], indicators: dict[int, Indicator]) -> None:
    pending = session.exec(select(TargetAdjustmentItem.indicator_id, TargetAdjustment.id)
                           .join(TargetAdjustment, TargetAdjustment.id == TargetAdjustmentItem.adjustment_id)
                           .where(TargetAdjustment.project_year_id == py.id, TargetAdjustment.state == PENDING,
                                  TargetAdjustmentItem.indicator_id.in_(ids))).first() if ids else None
    if pending is not None:
        name = indicators[pending[0]].name
        raise AdjustmentConflict(f"“{name}”已有待审核的目标调整（第{pending[1]}号）：请待其审核后再提出")


def _item(session: Session, py: ProjectYear, indicators: dict[int, Indicator], change: ChangeInput,
          field: str, bands) -> TargetAdjustmentItem:
    """The checked item of one change, as it would be stored."""
    if change.action == ADD:
        level1, level2, level3 = _new_names(indicators.values(), change, field)
        target = _new_target(change.target, None, f"{field}.target", level3)
        return TargetAdjustmentItem(adjustment_id=0, position=0, action=ADD, level1=level1, level2=level2,
                                    level3=level3, new_raw=target.raw)
    ind = indicators.get(change.indicator_id)
    if ind is None:
        raise EntryError(f"指标 {change.indicator_id} 不是本项目{py.year}年度的指标，不能调整", f"{field}.indicator_id")
    if ind.retired_at is not None or ind.annual_raw is None:
        raise EntryError(f"“{ind.name}”已不是本年度的年度指标，不能调整", f"{field}.indicator_id")
    if change.action == WITHDRAW:
        return TargetAdjustmentItem(adjustment_id=0, position=0, action=WITHDRAW, indicator_id=ind.id,
                                    old_raw=ind.annual_raw)
    target = _new_target(change.target, ind.annual_raw, f"{field}.target", ind.name)
    _judgeable(session, ind, target, f"{field}.target", bands)
    return TargetAdjustmentItem(adjustment_id=0, position=0, action=CHANGE, indicator_id=ind.id,
                                old_raw=ind.annual_raw, new_raw=target.raw)


def _new_names(indicators, change: ChangeInput, field: str) -> tuple[str, str, str]:
    level1 = taxonomy.standard_level1(change.level1)
    if level1 is None:
        raise EntryError(f"新增指标的一级指标应为：{'、'.join(taxonomy.LEVEL1)}", f"{field}.level1")
    level2 = taxonomy.standard_level2(change.level2)
    if level2 not in taxonomy.LEVEL2[level1]:
        raise EntryError(f"{level1}的二级指标应为：{'、'.join(taxonomy.LEVEL2[level1])}", f"{field}.level2")
    if change.level3 is None:
        raise EntryError("请填写新增指标的名称（三级指标）", f"{field}.level3")
    for ind in indicators:
        if (ind.retired_at is None and ind.annual_raw is not None and (ind.level1_std or ind.level1) == level1
                and taxonomy.compact(ind.name) == taxonomy.compact(change.level3)):
            raise EntryError(f"本年度已有指标“{ind.name}”，请调整它的指标值，而不是新增", f"{field}.level3")
    return level1, level2, change.level3


def _new_target(raw: str | None, in_force: str | None, field: str, name: str) -> Target:
    """The new 指标值 read by the grammar of DOMAIN.md §2."""
    if raw is None:
        raise EntryError(f"请填写“{name}”的新指标值", field)
    target = parse_target(raw)
    if target.no_target:
        raise EntryError(f"“{raw}”表示没有目标，不能作为“{name}”的新指标值；不再考核该指标请选择撤销", field)
    if in_force is not None and taxonomy.compact(raw) == taxonomy.compact(in_force):
        raise EntryError(f"“{name}”的新指标值与现行指标值“{in_force}”相同", field)
    if target.value is not None and abs(target.value) >= MAX_NUMBER:
        raise EntryError(f"“{name}”的新指标值过大", field)
    if target.value is not None and kept(target.value, VALUE_PLACES) != target.value:
        raise EntryError(f"“{name}”的新指标值的数字最多{VALUE_PLACES}位小数", field)
    return target


def _with_target(ind: Indicator, target: Target) -> Indicator:
    """A detached copy of the indicator with `target` as its 年度 target: what it would be."""
    copy = Indicator(id=ind.id, project_year_id=ind.project_year_id, position=ind.position, level1=ind.level1,
                     level1_std=ind.level1_std, annual_level3=ind.annual_level3, measure_override=ind.measure_override)
    _set_annual_target(copy, target)
    return copy


def _set_annual_target(ind: Indicator, target: Target | None) -> None:
    ind.annual_raw = None if target is None else target.raw
    ind.annual_kind = None if target is None else target.kind
    ind.annual_op = None if target is None else target.op
    ind.annual_value = None if target is None or target.value is None else kept(target.value, VALUE_PLACES)
    ind.annual_unit = None if target is None else target.unit


def _judgeable(session: Session, ind: Indicator, target: Target, field: str, thresholds) -> None:
    """Every actual already entered for the indicator can be judged against the new target by
    the domain core, with ratios the columns can store."""
    candidate = inputs.indicator_input(_with_target(ind, target))
    for actual in session.exec(select(Actual).where(Actual.indicator_id == ind.id).order_by(Actual.month)):
        judged = judge_entry(candidate, Entry(actual.month, actual.value, actual.unit, actual.assessment), thresholds)
        entered = actual.assessment if actual.value is None else f"{_plain(actual.value)}{actual.unit or ''}"
        if judged is None:
            raise EntryError(f"“{ind.name}”{actual.month}月已填报“{entered}”，无法按新指标值“{target.raw}”评判："
                             "新指标值须与已填的实际值同为数值（且单位可换算）或同为定性评价", field)
        if any(r is not None and abs(r) >= MAX_RATIO for r in (judged.completion, judged.pace)):
            raise EntryError(f"“{ind.name}”的新指标值“{target.raw}”与已填的实际值相差过大，无法计算完成率", field)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


# --------------------------------------------------------------------------- deciding

@dataclass
class Decided:
    adjustment: TargetAdjustment
    project_year: ProjectYear
    lines: list[str]             # its items as people read them (`change_line`)


def approve(session: Session, adjustment: TargetAdjustment, who: str, now: datetime, config: Mapping) -> Decided:
    """Put the proposal's targets in force for the whole year and rebuild what derives from them
    (see the module's docstring); the caller holds the transaction."""
    py = session.get(ProjectYear, adjustment.project_year_id)
    lock(session, [py.id])
    _decide(session, adjustment, APPROVED, who, now, None)
    items = _items(session, adjustment)
    indicators = {ind.id: ind for ind in session.exec(select(Indicator).where(Indicator.project_year_id == py.id))}
    bands = inputs.thresholds(config)
    for item in items:
        _still_standing(session, indicators, item, bands)
    position = max((ind.position for ind in indicators.values()), default=0)
    for item in items:
        if item.action == ADD:
            position += 1
            item.indicator_id = _add(session, py, item, position, adjustment, now).id
        else:
            _apply(session, indicators[item.indicator_id], item, adjustment, now)
        session.add(item)
    session.flush()
    derived.rejudge(session, [py.id], config)
    alerts.after_write(session, [py.id], now, config)      # as of the day of the decision, where the users are
    return _told(session, adjustment, py, items, config, now)


def return_proposal(session: Session, adjustment: TargetAdjustment, data: ReturnInput, who: str, now: datetime,
                    config: Mapping) -> Decided:
    """Close the proposal with the 审核人's comment; the targets in force stay as they are."""
    py = session.get(ProjectYear, adjustment.project_year_id)
    _decide(session, adjustment, RETURNED, who, now, data.comment)
    return _told(session, adjustment, py, _items(session, adjustment), config, now)


def _decide(session: Session, adjustment: TargetAdjustment, state: str, who: str, now: datetime,
            comment: str | None) -> None:
    """Move the proposal from pending, once: a conditional update, so that of two reviewers at
    the same moment only one decides."""
    result = session.exec(update(TargetAdjustment)
                          .where(TargetAdjustment.id == adjustment.id, TargetAdjustment.state == PENDING)
                          .values(state=state, decided_by=who, decided_at=now, comment=comment)
                          .execution_options(synchronize_session=False))
    session.refresh(adjustment)
    if result.rowcount != 1:
        raise AdjustmentConflict(f"该目标调整（第{adjustment.id}号）{STATE_LABELS[adjustment.state]}，不能再次审核")


def _items(session: Session, adjustment: TargetAdjustment) -> list[TargetAdjustmentItem]:
    return list(session.exec(select(TargetAdjustmentItem).where(TargetAdjustmentItem.adjustment_id == adjustment.id)
                             .order_by(TargetAdjustmentItem.position)))


def _still_standing(session: Session, indicators: dict[int, Indicator], item: TargetAdjustmentItem,
                    bands) -> None:
    """The item can still be put in force as proposed: its indicator stands with the target the
    proposal was made against, and the actuals entered since can be judged against the new one."""
    stale = "提出后情况已有变化：{}；请退回，由填报人按现行指标值重新提出"
    if item.action == ADD:
        try:
            _new_names(indicators.values(), ChangeInput(level1=item.level1, level2=item.level2, level3=item.level3), "")
        except EntryError as exc:
            raise AdjustmentConflict(stale.format(exc)) from exc
        return
    ind = indicators[item.indicator_id]
    if ind.retired_at is not None or ind.annual_raw is None:
        raise AdjustmentConflict(stale.format(f"“{ind.name}”已不是本年度的年度指标"))
    if ind.annual_raw != item.old_raw:
        raise AdjustmentConflict(stale.format(f"“{ind.name}”的指标值已由“{item.old_raw}”变为“{ind.annual_raw}”"))
    if item.action == CHANGE:
        try:
            _judgeable(session, ind, parse_target(item.new_raw), "", bands)
        except EntryError as exc:
            raise AdjustmentConflict(stale.format(exc)) from exc


def _history(ind: Indicator, item: TargetAdjustmentItem, adjustment: TargetAdjustment, now: datetime) -> TargetChange:
    return TargetChange(indicator_id=ind.id, adjustment_id=adjustment.id, scope="annual",
                        old_level2=ind.annual_level2, old_level3=ind.annual_level3, old_raw=ind.annual_raw,
                        new_raw=item.new_raw, changed_at=now)


def _apply(session: Session, ind: Indicator, item: TargetAdjustmentItem, adjustment: TargetAdjustment,
           now: datetime) -> None:
    """A new target, or a withdrawal: an indicator with a 实施期 side keeps it and loses its 年度
    side; one without is retired (its actuals stay, as history)."""
    session.add(_history(ind, item, adjustment, now))
    if item.action == CHANGE:
        _set_annual_target(ind, parse_target(item.new_raw))
    elif ind.period_raw is not None or ind.period_level3 is not None:
        _set_annual_target(ind, None)
        ind.annual_level2 = ind.annual_level2_std = ind.annual_level3 = None
    else:
        ind.retired_at = now
    session.add(ind)


def _add(session: Session, py: ProjectYear, item: TargetAdjustmentItem, position: int, adjustment: TargetAdjustment,
         now: datetime) -> Indicator:
    ind = Indicator(project_year_id=py.id, position=position, level1=item.level1,
                    level1_std=taxonomy.standard_level1(item.level1), annual_level2=item.level2,
                    annual_level2_std=taxonomy.standard_level2(item.level2), annual_level3=item.level3)
    _set_annual_target(ind, parse_target(item.new_raw))
    session.add(ind)
    session.flush()
    session.add(TargetChange(indicator_id=ind.id, adjustment_id=adjustment.id, scope="annual", old_raw=None,
                             new_raw=item.new_raw, changed_at=now))
    return ind


# --------------------------------------------------------------------------- telling the proposer

def _told(session: Session, adjustment: TargetAdjustment, py: ProjectYear, items: list[TargetAdjustmentItem],
          config: Mapping, now: datetime) -> Decided:
    """The decision, with a mail to the proposer through the outbox (sent by the scheduler; kept
    there without SMTP) when they have an address; keyed by the proposal and its decision, so
    once."""
    from reminders.messages import decision_mail
    from services.notify import decider_label, link, local_day, queue_mail
    names = {ind.id: ind.name for ind in session.exec(select(Indicator).where(
        Indicator.id.in_([i.indicator_id for i in items if i.indicator_id is not None])))}
    lines = [change_line(item, item.level3 if item.action == ADD else names.get(item.indicator_id, ""))
             for item in items]
    project = session.get(Project, py.project_id)
    queue_mail(session, adjustment.proposed_by, f"target-adjustment:{adjustment.id}:{adjustment.state}",
               "target-adjustment", lambda user: decision_mail(
                   user, adjustment, project.name, py.year, lines, decider_label(session, adjustment.decided_by),
                   link(config, f"/projects/{project.id}?year={py.year}#target-adjustments"),
                   local_day(config, adjustment.proposed_at), local_day(config, now)), now)
    return Decided(adjustment, py, lines)


def change_line(item: TargetAdjustmentItem, name: str) -> str:
    """One item as people read it: 参展面积：≥500平方米 → ≥300平方米."""
    if item.action == ADD:
        return f"新增 {item.level1}／{item.level2}／{name}：{item.new_raw}"
    if item.action == WITHDRAW:
        return f"撤销 {name}（原指标值 {item.old_raw}）"
    return f"{name}：{item.old_raw} → {item.new_raw}"
