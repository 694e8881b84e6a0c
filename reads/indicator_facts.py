"""What an indicator's API entry (IND) says beyond its stored figures, for one project year as of
a date: `last_light`, the light of the latest entered period (what a grey light hides, DOMAIN
§9), and `over`, 超额 (§8), both from the domain core; `original_target`, the target before an
approved change (§7) — a re-imported changed form is one, confirmed on import, and its first
TargetChange keeps what was there before.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

from sqlalchemy import select

from domain.project_year import Status, derive
from importers.values import Target, parse_target
from models.indicator import Indicator, TargetChange
from services import derived


@dataclass(frozen=True)
class IndicatorFacts:
    statuses: dict[int, Status]                    # 年度 side: indicator id → status as of the date
    originals: dict[tuple[int, str], Target]       # (indicator id, scope) → the first target

    def complete(self, entry: dict) -> dict:
        """An IND entry (models/api_views.py) with `last_light`, `over` and `original_target`;
        `last_light` and `over` as the entry has them when it does (the readers moving onto the
        domain core give them), the same figures from the core otherwise."""
        status = self.statuses.get(entry["id"]) if entry["scope"] == "annual" else None
        judgement = status.judgement if status is not None else None
        original = self.originals.get((entry["id"], entry["scope"]))
        judged = {"last_light": status.last_light if status is not None else None,
                  "over": judgement.over if judgement is not None else None}
        return {**judged, **entry, "original_target": original.as_dict() if original is not None else None}


def indicator_facts(session, project_year_id: int, as_of: date, config: Mapping) -> IndicatorFacts:
    loaded = derived.load(session, [project_year_id], config)[project_year_id]
    year = derive(loaded.inputs).as_of(as_of)
    return IndicatorFacts(year.indicators, original_targets(session, project_year_id))


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
