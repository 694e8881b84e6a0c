"""The small chart of an indicator's actuals against its 序时进度 line, as inline SVG geometry.

Not a blueprint: a helper the project page and the history page share (templates/_chart.html
draws what `indicator_chart` returns). Server-side and without a script library, because the
Content-Security-Policy admits no inline script or style: the SVG carries only attributes and
classes of static/app.css.

- cumulative: the actual, month by month, against the 序时进度 line target × month / 12
  (for a ceiling such as 业务成本 the same straight line is the spending path to stay under);
- level: the level, month by month, against the target as a horizontal line;
- qualitative: no chart (None).

A point may carry a mark (the spending's 超预算 / 冲减): its dot is ringed and the word is
written beside it and in the description, so a falling line is never silent.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from reads.wording import plain_number
from reads.tracking import ChartPoint

# w, h, (top, right, bottom, left): the left margin holds the y-axis values, the right the 序时 / 目标 label
SIZES = {"small": (184, 50, (7, 26, 7, 50)), "large": (600, 240, (16, 52, 28, 72))}


@dataclass
class Dot:
    x: float
    y: float
    light: str
    label: str
    current: bool
    mark: str = ""           # 超预算 / 冲减 (spending), written beside the dot


@dataclass
class Chart:
    width: int
    height: int
    title: str
    desc: str
    kind: str                       # cumulative | level
    guide: tuple[float, float, float, float]   # the 序时进度 (or target) line: x1, y1, x2, y2
    guide_label: str
    line: str                       # the actuals' polyline points
    dots: list[Dot]
    baseline: float
    ticks: list[tuple[float, str]] = field(default_factory=list)   # x, month label (large only)
    left: float = 0
    right: float = 0
    size: str = "small"
    yticks: list[tuple[float, str]] = field(default_factory=list)   # y, value with its unit (0 and the top)
    guide_end: tuple[float, float, str] = (0, 0, "")               # x, y, "序时" / "目标" at the guide's end


def compact(value, unit: str) -> str:
    """A y-axis value, short: 500平方米, 100%, 1.2万元, 0 (no unit on the zero)."""
    value = Decimal(value)
    if value == 0:
        return "0"
    if abs(value) >= 10_000 and not unit.startswith(("万", "亿")):
        value, unit = value / 10_000, "万" + unit
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{plain_number(round(value, digits))}{unit}"


def indicator_chart(name: str, measure: str, target_value, target_unit: str | None, points: list[ChartPoint],
                    month: int, size: str = "small") -> Chart | None:
    if measure not in ("cumulative", "level") or target_value is None:
        return None
    width, height, (top, right, bottom, left) = SIZES[size]
    target = Decimal(str(target_value))
    values = [p.value for p in points]
    unit = target_unit or ""
    if measure == "cumulative":
        low, high = Decimal(0), max([target, *values]) * Decimal("1.08")
    else:
        low = min([target, *values]) * Decimal("0.9")
        high = max([target, *values]) * Decimal("1.08")
    if high <= low:
        high = low + 1

    def x(m) -> float:
        return round(left + float(m) / 12 * (width - left - right), 1)

    def y(v) -> float:
        share = float((Decimal(v) - low) / (high - low))
        return round(height - bottom - share * (height - top - bottom), 1)

    if measure == "cumulative":
        guide = (x(0), y(0), x(12), y(target))
        pace_now = target * Decimal(month) / 12
        guide_label = f"序时进度线：全年目标 {plain_number(target)}{unit} × 月份 / 12"
        at_month = f"{month}月序时进度 {plain_number(round(pace_now, 2))}{unit}"
    else:
        guide = (x(0), y(target), x(12), y(target))
        guide_label = f"目标线：{plain_number(target)}{unit}"
        at_month = ""
    dots = [Dot(x(p.month), y(p.value), p.light,
                f"{p.month}月 {plain_number(p.value)}{unit}" + (f"（{p.mark}）" if p.mark else ""), p.month == month,
                p.mark) for p in points]
    listed = "，".join(d.label for d in dots) or "尚无实际值"
    what = "累计实际值" if measure == "cumulative" else "实际水平"
    desc = f"各月{what}：{listed}。{guide_label}" + (f"；{at_month}" if at_month else "") + "。"
    ticks = [(x(m), f"{m}月") for m in range(1, 13)] if size == "large" else []
    # the y-axis values: the bottom and the target; on the large chart also the highest actual
    # when it stands well above the target
    shown = [low, target]
    if size == "large" and values and max(values) > target and y(target) - y(max(values)) > 18:
        shown.append(max(values))
    yticks = [(y(v), compact(v, unit)) for v in shown]
    guide_end = (guide[2] + 4, guide[3], "序时" if measure == "cumulative" else "目标")
    return Chart(width, height, f"{name}：{what}与{'序时进度' if measure == 'cumulative' else '目标'}", desc,
                 measure, guide, guide_label, " ".join(f"{d.x},{d.y}" for d in dots), dots, y(low), ticks,
                 left, width - right, size, yticks, guide_end)
