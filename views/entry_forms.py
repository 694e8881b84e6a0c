"""What the entry forms of the project page show: an indicator row's or the budget's stored
values, or what the user typed with the messages beside the fields. Shared by the page
(views/projects.py) and the posts that answer with a row (views/actuals.py, views/evidence.py)."""
from __future__ import annotations

from dataclasses import dataclass, field

from reads.wording import plain_number


@dataclass
class RowState:
    """What a row's form shows besides the stored actual: the values typed (after an error or a
    conflict), the messages beside the fields, and a notice after saving."""
    form: dict | None = None
    errors: dict = field(default_factory=dict)
    notice: str | None = None
    conflict: str | None = None


def form_values(row) -> dict:
    """The form's fields as stored (or empty, with the target's unit, before the first entry)."""
    a = row.actual
    if a is None:
        return {"value": "", "unit": row.target_unit or "", "assessment": "", "forecast": "", "likelihood": "",
                "note": "", "deviation_note": "", "deviation_reasons": [], "over_reason": "", "version": 0}
    return {"value": plain_number(a.value), "unit": a.unit or row.target_unit or "", "assessment": a.assessment or "",
            "forecast": _forecast(row.measure, a), "likelihood": a.likelihood or "", "note": a.note or "",
            "deviation_note": a.deviation_note or "", "deviation_reasons": list(a.deviation_reasons or []),
            "over_reason": a.over_reason or "", "version": a.version}


def _forecast(measure: str, a) -> str:
    """The 全年预计 of its kind only (DOMAIN §3): a number kept from before the rule, on a
    qualitative row, is not offered back to be saved and refused."""
    return (a.forecast_assessment or "") if measure == "qualitative" else plain_number(a.forecast)


def budget_form_values(spent) -> dict:
    """The spending form's fields as stored (`spent`: the period's Spending, or None)."""
    return {"amount": plain_number(spent.amount_yuan) if spent else "", "unit": "元",
            "note": (spent.note or "") if spent else "", "version": spent.version if spent else 0}
