"""The other layouts of DOMAIN.md §1, drawn on pdfgen's ruled grid (and written to xlsx by xlsxgen).

    write_pdf(path, [annual_form()], form_style="annual_only", indicator_style="split_value")
    write_pdf(path, [stacked_form()], indicator_style="stacked", merge_levels=False)
    write_pdf(path, [shanghai_form()], form_style="shanghai", amount_unit="万元")

Layout options (fields of pdfgen.Layout):
- form_style: "paired" (山西, the default) | "annual_only" (项目支出绩效目标表: 年度 funds with 其中：财政拨款,
  年度总体目标, a one-sided indicator table) | "shanghai" (财政项目支出绩效目标申报表: 项目性质, 项目类别,
  计划开始/完成日期, 项目资金总额 / 年度资金申请总额 blocks, 项目总目标 or 中期目标, 年度总体目标);
- indicator_style: None (the form style's own) | "single" (一级 二级 三级 指标值 备注) | "split_value"
  (一级 二级 三级 指标性质 指标值 度量单位) | "stacked" (长期绩效指标 and 年度绩效指标 blocks with 指标内容
  and 备注);
- amount_unit: "元" | "万元" (amounts divided by 10000, written exactly) | None (no unit declared);
- period_goal_label (上海: 项目总目标 or 中期目标), project_category, carried_over (上年结转资金, 元).

Forms are in the schema's shape; what a layout lacks is null (`annual_form`, `stacked_form`,
`shanghai_form` make such forms), and the importer's parse should equal the form drawn.
"""
from __future__ import annotations

from decimal import Decimal

import pdfgen
from pdfgen import Grid, _runs, _span, default_indicators, make_form, side

TITLES = {"annual_only": "项目支出绩效目标表", "shanghai": "上海市财政项目支出绩效目标申报表"}
NOTES = ("", "按年度考核", "", "以验收报告为准")


def _empty_funds(**values) -> dict:
    funds = {k: None for k in ("total", "central", "provincial", "local", "self_raised", "other")}
    funds.update(values)
    return funds


def annual_indicators() -> list[dict]:
    return [{"level1": ind["level1"], "period": None, "annual": ind["annual"]} for ind in default_indicators()]


def annual_form(**overrides) -> dict:
    """A 年度-only form: 年度资金总额 = 其中：财政拨款 + 其他资金, 年度总体目标, one-sided indicators."""
    form = make_form(
        project_term="1年",
        funds={"period": _empty_funds(), "annual": _empty_funds(total=37_000_000, other=7_000_000,
                                                                 fiscal=30_000_000)},
        overview=None, basis=None, necessity=None, measures=None, plan=None, goal_period=None,
        indicators=annual_indicators())
    form.update(overrides)
    return form


def stacked_form(**overrides) -> dict:
    """长期 and 年度 blocks: most rows on both, one only 年度 (new this year), one only 长期."""
    indicators = [pdfgen.indicator(i["level1"], i["period"]["level2"], i["period"]["level3"],
                                   i["period"]["target"]["raw"], i["annual"]["target"]["raw"])
                  for i in default_indicators()]
    indicators.insert(3, {"level1": "产出指标", "period": None,
                          "annual": side("数量指标", "新增招商小分队数量", "≥2支")})
    indicators.append({"level1": "效益指标", "period": side("可持续影响指标", "招商引资长效机制", "逐步完善"),
                       "annual": None})
    form = make_form(indicators=indicators)
    form.update(overrides)
    return form


def shanghai_form(**overrides) -> dict:
    form = make_form(
        project_attribute="延续项目", project_term="2023-01-01至2025-12-31",
        funds={"period": _empty_funds(total=111_000_000, fiscal=100_000_000),
               "annual": _empty_funds(total=37_000_000, other=1_234_567.89, fiscal=35_765_432.11)},
        overview=None, basis=None, necessity=None, measures=None, plan=None)
    form.update(overrides)
    return form


# ---------------------------------------------------------------------------------------------
# Drawing


def amount_text(value, unit) -> str:
    """An amount in 元 as the form writes it: in 万元 exactly (no rounding), with thousands commas."""
    if value is None:
        return ""
    amount = Decimal(str(value))
    if unit == "万元":
        amount = (amount / 10000).normalize()
    if amount == amount.to_integral_value():
        amount = amount.quantize(Decimal(1))
    return f"{amount:,f}"


def split_raw(raw: str) -> tuple[str, str, str]:
    """A 指标值 as 指标性质 | 指标值 | 度量单位 whose concatenation is `raw` (定性 for words)."""
    target = pdfgen.target(raw)
    if target["kind"] != "quantitative":
        return "定性", raw, ""
    text = raw.translate(pdfgen._FULLWIDTH)
    start = next(i for i, ch in enumerate(text) if ch.isdigit())
    end = start
    while end < len(text) and (text[end].isdigit() or text[end] in ".,"):
        end += 1
    return raw[:start], raw[start:end], raw[end:]


def form_grid(form, layout):
    """(grid, header row, title, unit note) of a form in one of these layouts."""
    style = layout.form_style
    indicators = layout.indicator_style or ("single" if style == "annual_only" else "paired")
    grid = Grid(pdfgen._columns(layout), layout.font_size, base_height=12.15)
    if style == "shanghai":
        _shanghai_head(grid, form, layout)
    elif style == "annual_only":
        _annual_head(grid, form, layout)
    else:
        pdfgen.paired_head(grid, form, layout, _money(layout), _funds_label(layout))
    if indicators == "paired":
        header = grid.row()
        for col, text in enumerate(["一级指标", "二级指标", "三级指标", "指标值", "二级指标", "三级指标", "指标值"], 1):
            grid.put(header, col, col, text)
        pdfgen._indicator_cells(grid, form, layout)
        grid.put(header, 0, 0, "绩效指标", r1=grid.n_rows - 1)
    elif indicators == "stacked":
        header = _block(grid, form, layout, "period", "长期绩效指标")
        _block(grid, form, layout, "annual", "年度绩效指标")
    else:
        header = _block(grid, form, layout, "annual", "绩效指标", split=indicators == "split_value")
    pdfgen.footer(grid, form, layout)
    grid.check()
    title = layout.title or TITLES.get(style) or pdfgen._title(layout)
    note = f"单位：{layout.amount_unit}" if style == "shanghai" and layout.amount_unit else None
    return grid, header, title, note


def _money(layout):
    return lambda value: amount_text(value, layout.amount_unit)  # noqa: E731


def _funds_label(layout):
    return f"项目资金（{layout.amount_unit}）" if layout.amount_unit else "项目资金"


def _pair(grid, left, left_value, right, right_value):
    r = grid.row()
    grid.put(r, 0, 1, left)
    grid.put(r, 2, 3, left_value)
    grid.put(r, 4, 4, right)
    grid.put(r, 5, 7, right_value)


def _annual_head(grid, form, layout):
    pdfgen.name_rows(grid, form)
    _pair(grid, "项目属性", form.get("project_attribute"), "项目期", form.get("project_term"))
    money, annual = _money(layout), form["funds"]["annual"]
    first = grid.n_rows
    for label, key in (("年度资金总额", "total"), ("其中：财政拨款", "fiscal"), ("其他资金", "other")):
        r = grid.row()
        grid.put(r, 2, 3, label)
        grid.put(r, 4, 7, money(annual.get(key)))
    grid.put(first, 0, 1, _funds_label(layout), r1=grid.n_rows - 1)
    r = grid.row()
    grid.put(r, 0, 1, "年度总体目标")
    grid.put(r, 2, 7, form.get("goal_annual"), align="left")


def _shanghai_head(grid, form, layout):
    pdfgen.name_rows(grid, form)
    _pair(grid, "项目性质", form.get("project_attribute"), "项目类别", layout.project_category)
    start, _, end = (form.get("project_term") or "").partition("至")
    _pair(grid, "计划开始日期", start, "计划完成日期", end)
    money, period, annual = _money(layout), form["funds"]["period"], form["funds"]["annual"]
    _pair(grid, "项目资金总额", money(period.get("total")), "其中：财政资金", money(period.get("fiscal")))
    r = grid.row()
    grid.put(r, 0, 1, "年度资金申请总额")
    grid.put(r, 2, 7, money(annual.get("total")))
    r = grid.row()
    grid.put(r, 0, 1, "其中：当年财政拨款")
    grid.put(r, 2, 2, money(annual.get("fiscal")))
    grid.put(r, 3, 3, "上年结转资金")
    grid.put(r, 4, 4, money(layout.carried_over))
    grid.put(r, 5, 5, "其他资金")
    grid.put(r, 6, 7, money(annual.get("other")))
    for label, key in ((layout.period_goal_label, "goal_period"), ("年度总体目标", "goal_annual")):
        r = grid.row()
        grid.put(r, 0, 1, label)
        grid.put(r, 2, 7, form.get(key), align="left")


def _block(grid, form, layout, scope, label, split=False):
    """One one-sided indicator table: 一级 二级 三级/指标内容 (指标性质) 指标值 (度量单位) 备注."""
    header = grid.row()
    if split:
        heads = [(1, 1, "一级指标"), (2, 2, "二级指标"), (3, 3, "三级指标"), (4, 4, "指标性质"), (5, 5, "指标值"),
                 (6, 6, "度量单位"), (7, 7, "备注")]
    else:
        name = "指标内容" if label != "绩效指标" else "三级指标"
        heads = [(1, 1, "一级指标"), (2, 2, "二级指标"), (3, 4, name), (5, 6, "指标值"), (7, 7, "备注")]
    for c0, c1, text in heads:
        grid.put(header, c0, c1, text)
    groups: list[list] = []
    for ind in form["indicators"]:
        s = ind.get(scope)
        if not s:
            continue
        if groups and groups[-1][0][0] == ind["level1"]:
            groups[-1].append((ind["level1"], s))
        else:
            groups.append([(ind["level1"], s)])
    n = 0
    for rows in groups:
        start = grid.n_rows
        for _level1, s in rows:
            r = grid.row()
            raw = s["target"]["raw"]
            if split:
                nature, value, unit = split_raw(raw)
                for col, text in ((3, s["level3"]), (4, nature), (5, value), (6, unit)):
                    grid.put(r, col, col, text)
            else:
                grid.put(r, 3, 4, s["level3"])
                grid.put(r, 5, 6, raw)
            grid.put(r, 7, 7, NOTES[n % len(NOTES)])
            n += 1
        _span(grid, 1, start, start + len(rows) - 1, rows[0][0], layout.merge_levels)
        runs = _runs([pdfgen._Row(lv, p2=s["level2"]) for lv, s in rows], "p2")
        for a, b in runs:
            _span(grid, 2, start + a, start + b, rows[a][1]["level2"], layout.merge_levels)
    grid.put(header, 0, 0, label, r1=grid.n_rows - 1)
    return header
