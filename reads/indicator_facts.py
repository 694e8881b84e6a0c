"""What an indicator's API entry (IND) says beyond the figures reads/api_answers.py gives it
from the domain core (`last_light`, `over` on the 年度 side): `original_target`, the target before
an approved change (DOMAIN §7) — a re-imported changed form is one, confirmed on import, and its
first TargetChange keeps what was there before. The 实施期 side has no light: null there.
"""
from __future__ import annotations

from sqlalchemy import select

from importers.values import Target, parse_target
from models.indicator import Indicator, TargetChange


def complete(entry: dict, originals: dict[tuple[int, str], Target]) -> dict:
    """An IND entry with `original_target`, and `last_light` / `over` null where it has none."""
    original = originals.get((entry["id"], entry["scope"]))
    return {"last_light": None, "over": None, **entry,
            "original_target": original.as_dict() if original is not None else None}


def original_targets(session, project_year_id: int) -> dict[tuple[int, str], Target]:
    """Each indicator side whose target has changed since it was first imported: the first one
    (None-to-something and back-to-the-first are no change of target)."""
    rows = session.execute(select(TargetChange.indicator_id, TargetChange.scope, TargetChange.old_raw,
                                  Indicator.annual_raw, Indicator.period_raw)
                           .join(Indicator, Indicator.id == TargetChange.indicator_id)
                           .where(Indicator.project_year_id == project_year_id)
                           .order_by(TargetChange.changed_at, TargetChange.id))
    first: dict[tuple[int, str], str | None] = {}
    current: dict[tuple[int, str], str | None] = {}
    for indicator_id, scope, old_raw, annual_raw, period_raw in rows:
        first.setdefault((indicator_id, scope), old_raw)
        current[(indicator_id, scope)] = annual_raw if scope == "annual" else period_raw
    return {key: parse_target(raw) for key, raw in first.items() if raw is not None and raw != current[key]}
