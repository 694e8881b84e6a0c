"""What an indicator's columns say to the rules (DOMAIN.md §3): its annual target, and the
measure in force. `ind` is an Indicator or a row of its columns alike."""
from __future__ import annotations

from domain import rules
from domain.units import Target


def annual_target(ind) -> Target:
    return Target(raw=ind.annual_raw or "", kind=ind.annual_kind or "qualitative", op=ind.annual_op,
                  value=ind.annual_value, unit=ind.annual_unit)


def effective_measure(ind) -> str:
    """Staff's choice of measure where set, else the default of §3 (`rules.infer_measure`)."""
    target = annual_target(ind)
    if ind.measure_override:
        if ind.measure_override != rules.QUALITATIVE and target.value is None:
            return rules.QUALITATIVE  # a non-numeric target can only be assessed
        return ind.measure_override
    return rules.infer_measure(ind.annual_level3, target)
