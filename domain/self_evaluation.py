"""Whether a year-end self-evaluation (绩效自评, DOMAIN.md §5, issue 13.8) is complete enough to
be submitted or approved. Pure: the caller passes the evaluation and what was entered.

A 自评 waits until
- every reporting period up to the evaluation date has its entries (each scored indicator and
  the spending), or an explanation for that period (`period_gaps`, `explanations`);
- every indicator that misses full marks has its 偏差原因分析及改进措施;
- a 预算执行率 below 90 % has its reason;
- every assessed qualitative indicator has a score an evaluator set (not the band's suggestion).

`Readiness.problems` says what is missing, in Chinese, one line each.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Mapping, Sequence

from domain import rules
from domain.calendar import YearCalendar, period_name


@dataclass(frozen=True)
class PeriodGap:
    """A reporting period (its end month) with entries missing: the indicators without one (their
    names, in order) and whether the spending report is missing too."""
    month: int
    indicators: tuple[str, ...]
    spending: bool
    of: int = 0              # how many indicators the period should have had

    @property
    def text(self) -> str:
        return gap_text(self)


def period_gaps(calendar: YearCalendar, through: int | None, entered: Sequence[tuple[str, Collection[int]]],
                spending: Collection[int]) -> tuple[PeriodGap, ...]:
    """The periods up to `through` (None: none has ended) that lack an entry: `entered` pairs each
    scored indicator's name with the period months it has an entry for, in the form's order;
    `spending` holds the months with a spending report."""
    if through is None:
        return ()
    gaps = []
    for month in calendar.months:
        if month > through:
            break
        missing = tuple(name for name, months in entered if month not in months)
        if missing or month not in spending:
            gaps.append(PeriodGap(month, missing, month not in spending, len(entered)))
    return tuple(gaps)


@dataclass(frozen=True)
class Readiness:
    calendar: YearCalendar
    gaps: tuple[PeriodGap, ...]          # the periods missing entries with no explanation
    notes_missing: tuple[str, ...]       # indicators below full marks without 偏差原因分析及改进措施
    execution_rate: object               # Decimal
    execution_reason_missing: bool
    suggested: tuple[str, ...]           # qualitative indicators whose score is still a suggestion
    over_reasons_missing: tuple[str, ...] = ()   # 12月 entries at r >= 1.3 stored without a 超额原因

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problems(self) -> list[str]:
        lines = [f"{period_name(self.calendar, gap.month)}未填报且未说明原因：{gap_text(gap)}" for gap in self.gaps]
        if self.notes_missing:
            lines.append(f"以下指标未得满分，请填写偏差原因分析及改进措施：{'、'.join(self.notes_missing)}")
        if self.execution_reason_missing:
            rate = rules.for_display(self.execution_rate * 100)
            lines.append(f"预算执行率为{rate}%，低于{rules.EXECUTION_REASON_BELOW:.0%}，请填写执行率偏低的原因")
        if self.suggested:
            lines.append(f"以下定性指标的得分仍为建议分，请评价人（审核人）在区间内确定得分：{'、'.join(self.suggested)}")
        if self.over_reasons_missing:
            lines.append(f"以下指标12月完成率超额，请在12月的填报中补充超额原因：{'、'.join(self.over_reasons_missing)}")
        return lines


def readiness(calendar: YearCalendar, evaluation: rules.Evaluation, names: Mapping, notes: Mapping,
              gaps: tuple[PeriodGap, ...], explanations: Mapping[int, str], execution_reason: str | None,
              over_reasons_missing: tuple[str, ...] = ()) -> Readiness:
    """What keeps the 自评 from being submitted: `names` and `notes` map an indicator id to its
    name and its 偏差原因分析及改进措施, `explanations` a period month to why it was not entered;
    `over_reasons_missing` names the 12月 entries that `rules.over_reason_required` finds without
    their 超额原因 (the bands changed since, or the target)."""
    unexplained = tuple(gap for gap in gaps if not (explanations.get(gap.month) or "").strip())
    below = tuple(names[s.id] for s in evaluation.indicators
                  if rules.for_display(s.score) < rules.for_display(s.weight) and not (notes.get(s.id) or "").strip())
    reason_missing = (rules.execution_reason_required(evaluation.execution_rate)
                      and not (execution_reason or "").strip())
    return Readiness(calendar, unexplained, below, evaluation.execution_rate, reason_missing,
                     tuple(names[s.id] for s in evaluation.suggested), tuple(over_reasons_missing))


def gap_text(gap: PeriodGap) -> str:
    """What a period lacks: 全部14项指标及预算支出, or the indicators by name."""
    if gap.indicators and len(gap.indicators) == gap.of:
        what = f"全部{gap.of}项指标"
    else:
        what = "、".join(gap.indicators)
    if gap.spending:
        what = f"{what}及预算支出" if what else "预算支出"
    return what
