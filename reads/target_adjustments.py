"""The 目标调整 section of the project page and the API's list of a project year's target
adjustments (DOMAIN.md §7): each proposal with its items, who proposed and decided it, when, the
reason and the comment; and, for the proposal form, each 年度 indicator with the target in force
and whether it is in a pending proposal. The caller passes a project year the user may see.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from models.indicator import Indicator, active_indicators_to_read
from models.project import Project, ProjectYear
from models.target_adjustment import (ACTION_LABELS, ADD, PENDING, STATE_LABELS, TargetAdjustment,
                                      TargetAdjustmentItem)
from models.user import User
from reads.indicator_facts import Origin, target_origins
from reads.scope import visible_years
from reads.wording import user_labels
from services.target_adjustment import change_line


@dataclass
class ItemLine:
    item: TargetAdjustmentItem
    name: str                    # the indicator's name (an added one's 三级指标)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.item.action]

    @property
    def text(self) -> str:
        return change_line(self.item, self.name)


@dataclass
class Proposal:
    adjustment: TargetAdjustment
    items: list[ItemLine]
    proposed_by: str             # as pages name people
    decided_by: str | None

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.adjustment.state]

    @property
    def pending(self) -> bool:
        return self.adjustment.state == PENDING


@dataclass
class FormRow:
    """A 年度 indicator in the proposal form: the target in force beside the new value."""
    indicator: Indicator
    origin: Origin | None        # its 原目标, when the target in force is not the first
    pending: int | None          # the pending proposal it is in (then it cannot be proposed again)


@dataclass
class TargetSection:
    proposals: list[Proposal]    # newest first
    rows: list[FormRow]

    @property
    def pending(self) -> list[Proposal]:
        return [p for p in self.proposals if p.pending]


def proposals(session: Session, py: ProjectYear) -> list[Proposal]:
    """The project year's proposals, newest first, each with its items in their order."""
    found = list(session.exec(select(TargetAdjustment).where(TargetAdjustment.project_year_id == py.id)
                              .order_by(TargetAdjustment.proposed_at.desc(), TargetAdjustment.id.desc())))
    if not found:
        return []
    rows = session.exec(select(TargetAdjustmentItem, Indicator)
                        .outerjoin(Indicator, Indicator.id == TargetAdjustmentItem.indicator_id)
                        .where(TargetAdjustmentItem.adjustment_id.in_([a.id for a in found]))
                        .order_by(TargetAdjustmentItem.adjustment_id, TargetAdjustmentItem.position))
    items: dict[int, list[ItemLine]] = {}
    for item, ind in rows:
        name = item.level3 if item.action == ADD or ind is None else ind.annual_level3 or ind.name
        items.setdefault(item.adjustment_id, []).append(ItemLine(item, name or ""))
    labels = user_labels(session, [a.proposed_by for a in found] + [a.decided_by for a in found if a.decided_by])
    return [Proposal(a, items.get(a.id, []), labels.get(a.proposed_by, a.proposed_by),
                     labels.get(a.decided_by, a.decided_by) if a.decided_by else None) for a in found]


def target_section(session: Session, py: ProjectYear) -> TargetSection:
    listed = proposals(session, py)
    in_pending = {line.item.indicator_id: p.adjustment.id for p in listed if p.pending for line in p.items}
    origins = target_origins(session, py.id)
    rows = [FormRow(ind, origins.get((ind.id, "annual")), in_pending.get(ind.id))
            for ind in active_indicators_to_read(session, py.id) if ind.annual_raw is not None]
    return TargetSection(listed, rows)


# --------------------------------------------------------------------------- the 填报人's 工作台

@dataclass
class Notice:
    """A proposal of the user's unit, pending or decided lately, for the 工作台."""
    proposal: Proposal
    project: Project
    year: ProjectYear


def recent_for(session: Session, user: User, year: int | None, since: datetime | None,
               limit: int | None = 10) -> list[Notice]:
    """The proposals of the project years of `year` (None: of any year) the user may see that are
    pending or were decided on or after `since` (None: pending only), newest decision first."""
    wanted = TargetAdjustment.state == PENDING
    if since is not None:
        wanted = wanted | (TargetAdjustment.decided_at >= since)
    statement = (select(TargetAdjustment, Project, ProjectYear)
                 .join(ProjectYear, ProjectYear.id == TargetAdjustment.project_year_id)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(visible_years(user), wanted)
                 .order_by(TargetAdjustment.decided_at.desc().nulls_first(), TargetAdjustment.id.desc())
                 .limit(limit))
    if year is not None:
        statement = statement.where(ProjectYear.year == year)
    found = list(session.exec(statement))
    labels = user_labels(session, [a.proposed_by for a, _p, _y in found] + [a.decided_by for a, _p, _y in found
                                                                              if a.decided_by])
    return [Notice(Proposal(a, [], labels.get(a.proposed_by, a.proposed_by),
                            labels.get(a.decided_by, a.decided_by) if a.decided_by else None), p, y)
            for a, p, y in found]
