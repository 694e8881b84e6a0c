"""What an indicator's API entry (IND) says beyond the figures reads/api_answers.py gives it
from the domain core (`last_light`, `over` on the 年度 side): `original_target`, the target before
an approved change (DOMAIN §7). The target history (TargetChange) has one row for each version an
approved 目标调整 or a re-imported changed form (confirmed on import) put in force; its first row
of an indicator side keeps what was there before. The 实施期 side has no light: null there.

The project page shows the same 原目标, with the change that set the target now in force
(`target_origins`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from importers.values import Target, parse_target
from models.db import prepared, rows
from models.importing import ImportBatch
from models.indicator import Indicator, TargetChange
from models.target_adjustment import TargetAdjustment


@dataclass(frozen=True)
class Origin:
    """An indicator side's original target, and the change that set the one in force: an
    approved adjustment (its number, who approved it) or an import (its file)."""
    target: Target
    changed_at: datetime
    adjustment_id: int | None
    approved_by: str | None          # username
    file_name: str | None


def complete(entry: dict, originals: dict[tuple[int, str], Target]) -> dict:
    """An IND entry with `original_target`, and `last_light` / `over` null where it has none."""
    original = originals.get((entry["id"], entry["scope"]))
    return {"last_light": None, "over": None, **entry,
            "original_target": original.as_dict() if original is not None else None}


def original_targets(session, project_year_id: int) -> dict[tuple[int, str], Target]:
    return {key: origin.target for key, origin in target_origins(session, project_year_id).items()}


def target_origins(session, project_year_id: int) -> dict[tuple[int, str], Origin]:
    """Each indicator side whose target has changed since it was first imported (or added): the
    first one (None-to-something and back-to-the-first are no change of target)."""
    first: dict[tuple[int, str], str | None] = {}
    latest: dict[tuple[int, str], tuple] = {}
    for indicator_id, scope, old_raw, annual_raw, period_raw, *since in rows(session, _history(),
                                                                            {"py_id": project_year_id}):
        first.setdefault((indicator_id, scope), old_raw)
        latest[(indicator_id, scope)] = (annual_raw if scope == "annual" else period_raw, *since)
    return {key: Origin(parse_target(raw), *latest[key][1:]) for key, raw in first.items()
            if raw is not None and raw != latest[key][0]}


@prepared      # read by every project answer and actual entry
def _history():
    return (select(TargetChange.indicator_id, TargetChange.scope, TargetChange.old_raw,
                   Indicator.annual_raw, Indicator.period_raw, TargetChange.changed_at,
                   TargetChange.adjustment_id, TargetAdjustment.decided_by, ImportBatch.file_name)
            .join(Indicator, Indicator.id == TargetChange.indicator_id)
            .outerjoin(TargetAdjustment, TargetAdjustment.id == TargetChange.adjustment_id)
            .outerjoin(ImportBatch, ImportBatch.id == TargetChange.batch_id)
            .where(Indicator.project_year_id == bindparam("py_id"))
            .order_by(TargetChange.id))       # in the order the versions were written
