"""The history of an indicator's actuals, as its page shows it: every change, newest first,
with who made it and the fields it changed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from domain.calendar import period_label
from domain.rules import ASSESSMENTS, MEASURE_LABELS
from models.actual import ActualChange
from models.indicator import Indicator
from models.project import ProjectYear
from reads.wording import LIGHT_WORDS, user_labels, value_text

_CHANGE_FIELDS = (("value", "实际值"), ("assessment", "完成情况"), ("forecast", "全年预计"),
                  ("deviation_reasons", "偏差原因"), ("deviation_note", "偏差说明"), ("likelihood", "完成可能性"),
                  ("note", "备注"), ("over_reason", "超额原因"), ("measure", "计量方式"), ("light", "灯"))


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class ChangeRow:
    at: datetime
    who: str
    period: str
    fields: list[FieldChange]
    first: bool                          # the period's first entry (nothing before)


def _field_text(key: str, snapshot: dict | None) -> str:
    if not snapshot:
        return ""
    value = snapshot.get(key)
    if key == "value":
        return value_text(value, snapshot.get("unit"))
    if key == "forecast":      # an assessment (a qualitative indicator's), or a number in the entry's unit
        return value if value in ASSESSMENTS else value_text(value, snapshot.get("unit"))
    if key == "deviation_reasons":
        return "、".join(value or [])
    if key == "light":
        return LIGHT_WORDS.get(value or "", value or "")
    if key == "measure":
        return MEASURE_LABELS.get(value or "", value or "")
    return "" if value is None else str(value)


def actual_history(session: Session, ind: Indicator, py: ProjectYear) -> list[ChangeRow]:
    """Every change of the indicator's actuals, newest first: for each, the fields that changed."""
    changes = list(session.exec(select(ActualChange).where(ActualChange.indicator_id == ind.id)
                                .order_by(ActualChange.changed_at.desc(), ActualChange.id.desc())))
    labels = user_labels(session, [c.changed_by for c in changes])
    rows = []
    for c in changes:
        fields = []
        for key, label in _CHANGE_FIELDS:
            old, new = _field_text(key, c.old), _field_text(key, c.new)
            if old != new:
                fields.append(FieldChange(label, old or "—", new or "—"))
        rows.append(ChangeRow(c.changed_at, labels.get(c.changed_by, c.changed_by),
                              period_label(py.year, c.month, py.periods if c.month % 3 == 0 else "monthly"),
                              fields, c.old is None))
    return rows
