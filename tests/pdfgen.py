"""Realistic test PDFs of 项目支出绩效目标申报表 forms, alone or inside a whole 预算公开 document.

The forms are drawn like the real sample (`tests/fixtures/seed_forms.pdf`, an Excel sheet printed
through LibreOffice): landscape Letter, a centred title and `（2023年度）`, then one ruled table of
8 columns whose every cell border is a real drawn line, so pdfplumber's default
`extract_tables()` finds the cells. Text uses reportlab's built-in CID font STSong-Light
(Adobe-GB1, not embedded), which pdfminer maps back to the right Unicode text.

    form = make_form(project_name="网络运行维护费")
    write_pdf(path, [form, make_form()], split_after_rows=5, repeat_header=False)
    write_document(path, [form], pages_before=6, pages_after=3)

Forms are dicts in the shape of `forms.schema.json`; the importer's parse of a generated PDF should
equal the forms it was given (placeholder rows and blanked 一级/二级 cells are layout, not data).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from pathlib import Path

from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT = "STSong-Light"

# Column boundaries of the real sample (points, landscape Letter 792 x 612).
SAMPLE_COLUMNS = (54.0, 88.0, 144.7, 235.4, 360.1, 450.8, 530.2, 654.9, 734.3)
# Narrow 二级 columns: 6 CJK characters fit, so `服务对象满意度` wraps to `服务对象满意\n度`.
NARROW_WIDTHS = (34.0, 46.0, 50.0, 160.0, 80.0, 50.0, 160.0, 100.3)

PLACEHOLDER_LEVEL2 = ("生态效益指标", "可持续影响指标")
_BENEFIT_ORDER = {"经济效益指标": 0, "经济收益指标": 0, "社会效益指标": 1, "生态效益指标": 2,
                  "可持续影响指标": 3}


# ---------------------------------------------------------------------------------------------
# 指标值 → the schema's target object (DOMAIN.md §2)

_COMPARATORS = {
    ">=": ("≥", "＞＝", ">=", "大于等于", "不低于", "不少于", "不小于"),
    "<=": ("≤", "＜＝", "<=", "小于等于", "不高于", "不超过", "不多于", "不大于"),
    ">": (">", "＞", "大于", "高于", "超过"),
    "<": ("<", "＜", "小于", "低于"),
    "=": ("=", "＝", "等于", "达到"),
}
_FULLWIDTH = str.maketrans("０１２３４５６７８９，．", "0123456789,.")
_NUMBER = re.compile(r"\d[\d,\s]*(?:\.\s*\d+)?")
_DEADLINE = re.compile(r"\d+\s*月|\d+\s*日\s*(?:之?前)|(?:底|之)?前(?:完成)?$")
NO_TARGET = ("", "*", "/", "／", "—", "——", "-")


def target(raw: str) -> dict:
    """The parsed target of a 指标值 as DOMAIN.md §2 defines it (`raw` kept exactly)."""
    text = raw.strip()
    qualitative = {"raw": raw, "kind": "qualitative", "op": None, "value": None, "unit": None}
    if text in NO_TARGET:
        return qualitative  # no target: the importer keeps the row and warns
    op, matched = None, ""
    for symbol, words in _COMPARATORS.items():
        for word in words:
            if text.startswith(word) and len(word) > len(matched):  # 大于等于 before 大于
                op, matched = symbol, word
    rest = text[len(matched):].strip()
    normalized = rest.translate(_FULLWIDTH)
    number = _NUMBER.match(normalized)
    if not number or _DEADLINE.search(normalized):
        return qualitative
    digits = re.sub(r"[\s,]", "", number.group())
    value = float(digits) if "." in digits else int(digits)
    unit = normalized[number.end():].strip()
    for suffix, implied in (("以上", ">="), ("以内", "<="), ("以下", "<=")):
        if unit.endswith(suffix):
            unit = unit[: -len(suffix)].strip()
            op = op or implied
    return {"raw": raw, "kind": "quantitative", "op": op or "=", "value": value, "unit": unit or None}


def side(level2: str, level3: str, raw: str) -> dict:
    return {"level2": level2, "level3": level3, "target": target(raw)}


def indicator(level1, level2, level3, period_raw, annual_raw=None, *, annual_level2=None,
              annual_level3=None) -> dict:
    """One indicator row; the 年度 side repeats the 实施期 names unless given other wording."""
    annual_raw = period_raw if annual_raw is None else annual_raw
    return {
        "level1": level1,
        "period": side(level2, level3, period_raw),
        "annual": side(annual_level2 or level2, annual_level3 or level3, annual_raw),
    }


def funds(total, central=0, provincial=None, local=0, self_raised=0, other=None) -> dict:
    """A 资金 block in 元; the 省级 share defaults to what the others leave of the total."""
    if provincial is None:
        provincial = total - sum(v or 0 for v in (central, local, self_raised, other))
    return {"total": total, "central": central, "provincial": provincial, "local": local,
            "self_raised": self_raised, "other": other}


def default_indicators() -> list[dict]:
    """Indicators of every kind: counts, %, 万元 cost ≤, 亿元, 万人次, qualitative, a deadline."""
    return [
        indicator("产出指标", "数量指标", "参展企业数量", "≥100家", "≥70家"),
        indicator("产出指标", "数量指标", "官方网站更新消息数", "≥300条", "≥50条",
                  annual_level3="官方网站更新消息数量"),
        indicator("产出指标", "数量指标", "举办招商推介活动场次", "≥12场", "≥4场"),
        indicator("产出指标", "质量指标", "活动举办成功率", "≥95%", "≥95%"),
        indicator("产出指标", "质量指标", "保障招商活动开展", "保障", "保障"),
        indicator("产出指标", "时效指标", "项目按时完成", "按时", "按时"),
        indicator("产出指标", "时效指标", "年度招商任务完成时间", "2025年12月底前", "2023年12月底前"),
        indicator("产出指标", "成本指标", "业务成本", "≤11100万元", "≤3700万元"),
        indicator("效益指标", "经济效益指标", "签约项目到位资金", "≥1000亿元", "≥800亿元"),
        indicator("效益指标", "社会效益指标", "展会观众人次", "≥10万人次", "≥4万人次"),
        indicator("效益指标", "社会效益指标", "对我省招商引资的作用", "积极", "积极"),
        indicator("效益指标", "社会效益指标", "宣传山西营商环境建设,提升招商引资形象和对外开放水平",
                  "明显提升", "明显提升"),
        indicator("满意度指标", "服务对象满意度指标", "投资者满意度", "≥95%", "≥95%"),
        indicator("满意度指标", "服务对象满意度指标", "服务对象满意度", "≥90%", "≥90%"),
    ]


def make_form(**overrides) -> dict:
    """A realistic form (schema shape, Chinese defaults); any top-level key can be overridden."""
    form = {
        "year": 2023,
        "project_name": "招商引资专项经费",
        "department_code": "216",
        "department_name": "山西省商务厅",
        "implementing_unit": "山西省投资促进局",
        "project_attribute": "经常性项目（长期开展）",
        "project_term": "3年",
        "funds": {"period": funds(111_000_000), "annual": funds(37_000_000)},
        "overview": "招商引资前期工作、重大招商引资活动及会议、省级组委参加的国内外招商引资及投资类展会活动、"
                    "招商项目包装、推介与跟踪服务、招商引资信息平台建设、拓宽招商引资渠道、积极开展委托招商、"
                    "购买社会服务和招商干部队伍培训及其他有利于促进招商引资、对外合作及展览展示等有关工作。",
        "basis": "《关于改革和创新招商引资工作若干意见》（晋政办发〔2017〕39号）",
        "necessity": "推动招商引资创新发展取得更大突破，有力带动全省经济加快转型发展。",
        "measures": "《省级招商引资专项资金管理办法》、《山西省招商引资考核办法》、"
                    "《山西省投资促进局财务管理办法》、《山西省投资促进局政府采购管理办法（试行）》",
        "plan": "按照省委、省政府、省商务厅及省投促局年初制定的招商引资工作计划实施此项目。",
        "goal_period": "进一步加强经济合作、招商引资、招才引智引技工作，推动全省经济高质量发展。",
        "goal_annual": "完成年度招商引资目标任务，签约项目到位资金不低于800亿元。",
        "indicators": default_indicators(),
        "owner": "杨晋权",
        "clerk": "朱照亮",
        "phone": "0351-4189135",
        "filled_on": "2021-07-30",
    }
    unknown = set(overrides) - set(form)
    if unknown:
        raise TypeError(f"make_form: unknown keys {sorted(unknown)}")
    form.update(overrides)
    return form


_PROJECTS = [
    ("网络运行维护费", "经营类项目（长期开展）", "系统故障修复时间", "≤12小时", "时效指标"),
    ("招商引资业务经费", "经常性项目（长期开展）", "会议服务次数", "≥200次", "数量指标"),
    ("重点产业链招商专项", "一次性项目", "重点产业链招商项目数", "≥30个", "数量指标"),
    ("中国（太原）国际能源产业博览会", "一次性项目", "参展企业数量", "≥500家", "数量指标"),
    ("信息化建设运维经费", "经常性项目（长期开展）", "系统正常运行率", "≥99%", "质量指标"),
    ("档案数字化项目", "一次性项目", "档案数字化页数", "≥12万页", "数量指标"),
]
_TAXONOMY_ORDER = {name: i for i, name in enumerate(
    ["数量指标", "质量指标", "时效指标", "成本指标", "经济效益指标", "社会效益指标", "生态效益指标",
     "可持续影响指标", "服务对象满意度指标"])}
_UNITS = [("216", "山西省商务厅", "山西省投资促进局"), ("216", "山西省商务厅", "山西省商务厅"),
          ("301", "山西省教育厅", "山西省教育考试院"), ("412", "山西省农业农村厅", "山西省农业技术推广总站")]


def random_form(seed=0, **overrides) -> dict:
    """A varied but deterministic form for benchmarks: other projects, units, amounts, rows.

    Each seed gives its own project name (the same name comes back with a （n期） suffix)."""
    rng = random.Random(seed)
    name, attribute, level3, raw, level2 = _PROJECTS[seed % len(_PROJECTS)]
    if seed >= len(_PROJECTS):
        name = f"{name}（{seed // len(_PROJECTS) + 1}期）"
    code, department, unit = rng.choice(_UNITS)
    years = rng.choice([1, 2, 3])
    annual = rng.choice([160_600, 771_100, 2_500_000, 37_000_000, 5_256_960.5])
    indicators = [indicator("产出指标", level2, level3, raw)]
    others = [ind for ind in default_indicators() if ind["period"]["level3"] != level3]
    indicators += rng.sample(others, rng.randint(9, len(others)))
    indicators.sort(key=lambda ind: _TAXONOMY_ORDER.get(ind["period"]["level2"], 99))
    form = make_form(
        project_name=name,
        department_code=code, department_name=department, implementing_unit=unit,
        project_attribute=attribute, project_term=f"{years}年",
        funds={"period": funds(annual * years), "annual": funds(annual)},
        indicators=indicators, filled_on=f"2021-07-{rng.randint(1, 31):02d}")
    form.update(overrides)
    return form


# ---------------------------------------------------------------------------------------------
# Layout options

@dataclass(frozen=True)
class Layout:
    province: str = "山西"
    title_style: str = "short"            # short: 山西省级…  full: 山西省省级…
    title: str | None = None              # a literal title instead
    period_funds_label: str = "实施期资金总额"   # or 申报期资金总额
    merge_levels: bool = True             # 一级/二级 as spanning cells, or text on the first row only
    split_after_rows: int | None = None   # break the indicator table after n drawn indicator rows
    repeat_header: bool = False           # repeat the 一级指标… header row on the continuation page
    split_merged_text: str = "first"      # a merged cell cut by a page break: text on first|center|both
    narrow_columns: bool = False
    col_widths: tuple | None = None       # 8 widths (points) instead of the sample's
    amount_style: str = "comma"           # comma: 37,000,000 / 5,256.96   decimals: 37,000,000.00   plain
    amount_spaces: bool = False           # 5, 256. 96
    placeholders: object = False          # True: 生态效益指标, 可持续影响指标 rows; or a list of 二级 names
    missing_level1: object = None         # 一级 name (or True: 效益指标) whose 一级 cells stay empty
    blank_annual_level2: object = False   # True or 一级 names: blank 年度 二级 at the group's start
    filled_on_style: str = "timestamp"    # timestamp: 20210730170012   date: 2021-07-30
    filled_on_text: str | None = None     # the 填报日期 cell exactly as given
    font_size: float = 7.3
    form_pagesize: tuple = landscape(letter)
    page_numbers: bool | None = None      # default: on in a full document
    full_document: bool = False
    pages_before: int | None = None
    pages_after: int | None = None
    total_pages: int | None = None        # full document: pages_after = total - before - form pages
    seed: int = 0
    # the other layouts of DOMAIN.md §1 (drawn by pdfgen_layouts.py)
    form_style: str = "paired"            # paired (山西) | annual_only | shanghai
    indicator_style: str | None = None    # None: the form style's own | single | split_value | stacked | paired
    amount_unit: str | None = "元"        # 元 | 万元 | None: no unit declared
    period_goal_label: str = "项目总目标"   # 上海: 项目总目标 or 中期目标
    project_category: str = "专项业务费"    # 上海 项目类别 (not in the schema)
    carried_over: object = None           # 上海 上年结转资金 in 元 (not in the schema)


_LAYOUT_KEYS = {f.name for f in fields(Layout)}


def _layout(options: dict) -> Layout:
    unknown = set(options) - _LAYOUT_KEYS
    if unknown:
        raise TypeError(f"unknown layout options {sorted(unknown)}")
    layout = Layout(**options)
    for name, allowed in (("title_style", ("short", "full")), ("split_merged_text", ("first", "center", "both")),
                          ("amount_style", ("comma", "decimals", "plain")),
                          ("filled_on_style", ("timestamp", "date")),
                          ("form_style", ("paired", "annual_only", "shanghai")),
                          ("indicator_style", (None, "paired", "single", "split_value", "stacked")),
                          ("amount_unit", ("元", "万元", None))):
        if getattr(layout, name) not in allowed:
            raise ValueError(f"{name} must be one of {allowed}")
    return layout


# ---------------------------------------------------------------------------------------------
# Text measuring and a ruled grid

def _register_font():
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _width(text, size):
    return pdfmetrics.stringWidth(text, FONT, size)


_TOKEN = re.compile(r"[A-Za-z0-9.%]+|.", re.S)


def wrap(text: str, width: float, size: float) -> list[str]:
    """Lines as a spreadsheet wraps them: anywhere between CJK characters, ASCII runs kept whole."""
    lines = []
    for paragraph in str(text).split("\n"):
        line = ""
        for token in _TOKEN.findall(paragraph):
            if _width(line + token, size) <= width:
                line += token
                continue
            for char in token if _width(token, size) > width else [token]:
                if line and _width(line + char, size) > width:
                    lines.append(line)
                    line = char.lstrip()
                else:
                    line += char
        lines.append(line)
    return lines


@dataclass
class Cell:
    r0: int
    c0: int
    r1: int
    c1: int
    text: str = ""
    align: str = "center"


class Grid:
    """Rows of cells on fixed column boundaries; a cell may span rows and columns."""

    def __init__(self, xs, size, base_height, pad=1.5):
        self.xs, self.size, self.base_height, self.pad = list(xs), size, base_height, pad
        self.n_rows = 0
        self.cells: list[Cell] = []

    def row(self) -> int:
        self.n_rows += 1
        return self.n_rows - 1

    def put(self, r, c0, c1=None, text="", align="center", r1=None):
        self.cells.append(Cell(r, c0, r if r1 is None else r1, c0 if c1 is None else c1,
                               "" if text is None else str(text), align))

    def lines(self, cell):
        return wrap(cell.text, self.xs[cell.c1 + 1] - self.xs[cell.c0] - 2 * self.pad, self.size)

    def leading(self):
        return self.size * 1.3

    def needed(self, cell):
        return max(self.base_height, len(self.lines(cell)) * self.leading() + 2 * self.pad)

    def heights(self):
        heights = [self.base_height] * self.n_rows
        for cell in self.cells:
            if cell.r0 == cell.r1:
                heights[cell.r0] = max(heights[cell.r0], self.needed(cell))
        for cell in self.cells:
            short = self.needed(cell) - sum(heights[cell.r0:cell.r1 + 1])
            if cell.r0 != cell.r1 and short > 0:
                heights[cell.r1] += short
        return heights

    def check(self):
        covered = {}
        for cell in self.cells:
            for r in range(cell.r0, cell.r1 + 1):
                for c in range(cell.c0, cell.c1 + 1):
                    assert (r, c) not in covered, f"cell overlap at {(r, c)}"
                    covered[(r, c)] = cell
        missing = [(r, c) for r in range(self.n_rows) for c in range(len(self.xs) - 1)
                   if (r, c) not in covered]
        assert not missing, f"grid positions without a cell: {missing[:5]}"


class _Rules:
    """Ruling lines, merged where segments touch, drawn once each as real PDF lines."""

    def __init__(self):
        self.h, self.v = {}, {}

    def rect(self, x0, top, x1, bottom):
        for y in (top, bottom):
            self.h.setdefault(round(y, 2), []).append((x0, x1))
        for x in (x0, x1):
            self.v.setdefault(round(x, 2), []).append((top, bottom))

    @staticmethod
    def _merged(spans):
        out = []
        for a, b in sorted(spans):
            if out and a <= out[-1][1] + 0.01:
                out[-1][1] = max(out[-1][1], b)
            else:
                out.append([a, b])
        return out

    def draw(self, c, page_height, width=0.6):
        c.setLineWidth(width)
        for y, spans in self.h.items():
            for a, b in self._merged(spans):
                c.line(a, page_height - y, b, page_height - y)
        for x, spans in self.v.items():
            for a, b in self._merged(spans):
                c.line(x, page_height - a, x, page_height - b)


def _draw_text(c, grid, cell, x0, x1, top, bottom, page_height, size=None):
    size = size or grid.size
    lines = grid.lines(cell)
    leading = grid.leading()
    first = top + (bottom - top - len(lines) * leading) / 2 + size * 0.95
    c.setFont(FONT, size)
    for i, line in enumerate(lines):
        y = page_height - (first + i * leading)
        if cell.align == "left":
            c.drawString(x0 + grid.pad, y, line)
        elif cell.align == "right":
            c.drawRightString(x1 - grid.pad, y, line)
        else:
            c.drawCentredString((x0 + x1) / 2, y, line)


def _draw_segment(c, grid, heights, rows, repeated, top, page_height, policy="first"):
    """Draw the given rows (original indices, in order) from `top` down; `repeated` marks copies."""
    tops, y = [], top
    for r in rows:
        tops.append(y)
        y += heights[r]
    rules = _Rules()
    present = set(rows)
    real = {r for r, copy in zip(rows, repeated) if not copy}
    for cell in grid.cells:
        pos = [i for i, r in enumerate(rows) if cell.r0 <= r <= cell.r1]
        if not pos:
            continue
        x0, x1 = grid.xs[cell.c0], grid.xs[cell.c1 + 1]
        cell_top, cell_bottom = tops[pos[0]], tops[pos[-1]] + heights[rows[pos[-1]]]
        rules.rect(x0, cell_top, x1, cell_bottom)
        if not cell.text or not _shows_text(cell, present, real, heights, policy):
            continue
        _draw_text(c, grid, cell, x0, x1, cell_top, cell_bottom, page_height)
    rules.draw(c, page_height)
    return y


def _shows_text(cell, present, real, heights, policy):
    spanned = range(cell.r0, cell.r1 + 1)
    if all(r in present for r in spanned):
        return True
    if policy == "both":
        return True
    if policy == "center":
        half, acc = sum(heights[r] for r in spanned) / 2, 0
        for r in spanned:
            acc += heights[r]
            if acc >= half:
                return r in real
    return cell.r0 in real


def _draw_title(c, text, x_center, baseline, size, page_height):
    text_object = c.beginText()
    text_object.setFont(FONT, size)
    text_object.setTextRenderMode(2)  # fill and stroke: a bold face the CID font lacks
    c.setLineWidth(size / 40)
    x = x_center - _width(text, size) / 2
    text_object.setTextOrigin(x, page_height - baseline)
    text_object.textOut(text)
    c.drawText(text_object)


# ---------------------------------------------------------------------------------------------
# The form

def format_amount(value, style="comma", spaces=False) -> str:
    if value is None:
        return ""
    amount = Decimal(str(value))
    whole = amount == amount.to_integral_value()
    text = f"{int(amount):,}" if whole and style != "decimals" else f"{amount:,.2f}"
    if style == "plain":
        text = text.replace(",", "")
    if spaces:
        text = text.replace(",", ", ").replace(".", ". ")
    return text


def _title(layout: Layout) -> str:
    if layout.title:
        return layout.title
    province = layout.province + ("省省级" if layout.title_style == "full" else "省级")
    return f"{province}预算部门（单位）项目支出绩效目标申报表"


def _filled_on(form, layout):
    day = form.get("filled_on")
    if layout.filled_on_text is not None:
        return layout.filled_on_text
    if not day:
        return ""
    if layout.filled_on_style == "date":
        return day
    digest = int(hashlib.sha1(form["project_name"].encode()).hexdigest(), 16)
    hour, minute, second = 8 + digest % 10, digest // 10 % 60, digest // 600 % 60
    return f"{day.replace('-', '')}{hour:02d}{minute:02d}{second:02d}"


@dataclass
class _Row:
    level1: str
    p2: str = ""
    p3: str = ""
    pv: str = ""
    a2: str = ""
    a3: str = ""
    av: str = ""
    placeholder: bool = False


def _indicator_rows(form, layout) -> list[list[_Row]]:
    """Drawn indicator rows, grouped by 一级, with placeholder rows put in taxonomy order."""
    groups: list[list[_Row]] = []
    for ind in form["indicators"]:
        period, annual = ind.get("period") or {}, ind.get("annual") or {}
        row = _Row(ind["level1"],
                   period.get("level2", ""), period.get("level3", ""),
                   (period.get("target") or {}).get("raw", ""),
                   annual.get("level2", ""), annual.get("level3", ""),
                   (annual.get("target") or {}).get("raw", ""))
        if groups and groups[-1][0].level1 == row.level1:
            groups[-1].append(row)
        else:
            groups.append([row])
    names = layout.placeholders
    if names is True:
        names = PLACEHOLDER_LEVEL2
    for name in names or ():
        group = next((g for g in groups if g[0].level1 == "效益指标"), None)
        if group is None:
            group = []
            groups.insert(min(1, len(groups)), group)
        rank = _BENEFIT_ORDER.get(name, 9)
        at = next((i for i, r in enumerate(group) if _BENEFIT_ORDER.get(r.p2, 9) > rank), len(group))
        group.insert(at, _Row("效益指标", p2=name, a2=name, placeholder=True))
    return groups


def _runs(rows, key):
    """Index ranges of consecutive rows sharing a 二级 name (placeholders stand alone)."""
    runs, start = [], 0
    for i in range(1, len(rows) + 1):
        if (i == len(rows) or rows[i].placeholder or rows[i - 1].placeholder
                or getattr(rows[i], key) != getattr(rows[start], key)):
            runs.append((start, i - 1))
            start = i
    return runs


def _columns(layout):
    if layout.col_widths:
        widths = layout.col_widths
    elif layout.narrow_columns:
        widths = NARROW_WIDTHS
    else:
        return list(SAMPLE_COLUMNS)
    if len(widths) != 8:
        raise ValueError("col_widths needs 8 widths")
    xs = [SAMPLE_COLUMNS[0]]
    for w in widths:
        xs.append(round(xs[-1] + w, 2))
    return xs


def _form_grid(form, layout):
    grid = Grid(_columns(layout), layout.font_size, base_height=12.15)
    amount = lambda v: format_amount(v, layout.amount_style, layout.amount_spaces)  # noqa: E731
    paired_head(grid, form, layout, amount, "项目资金（元）")
    header = grid.row()
    for col, text in enumerate(["一级指标", "二级指标", "三级指标", "指标值", "二级指标", "三级指标", "指标值"], 1):
        grid.put(header, col, col, text)
    _indicator_cells(grid, form, layout)
    grid.put(header, 0, 0, "绩效指标", r1=grid.n_rows - 1)
    footer(grid, form, layout)
    grid.check()
    return grid, header


def name_rows(grid, form):
    """项目名称, then 主管部门及代码 and 实施单位."""
    r = grid.row()
    grid.put(r, 0, 1, "项目名称")
    grid.put(r, 2, 7, form["project_name"])
    r = grid.row()
    code = form.get("department_code")
    grid.put(r, 0, 1, "主管部门及代码")
    grid.put(r, 2, 3, f"{code}-{form['department_name']}" if code else form["department_name"])
    grid.put(r, 4, 4, "实施单位")
    grid.put(r, 5, 7, form["implementing_unit"])


def paired_head(grid, form, layout, amount, funds_label):
    """The rows above the indicator table: names, 项目属性, the two fund columns, texts, goals."""
    name_rows(grid, form)
    r = grid.row()
    grid.put(r, 0, 1, "项目属性")
    grid.put(r, 2, 3, form.get("project_attribute"))
    grid.put(r, 4, 4, "项目期")
    grid.put(r, 5, 7, form.get("project_term"))

    labels = [("total", f"{layout.period_funds_label}：", "年度资金总额："),
              ("central", "其中：中央财政资金", "其中：中央财政资金"),
              ("provincial", "省级财政资金", "省级财政资金"),
              ("local", "市县（区）财政资金", "市县（区）财政资金"),
              ("self_raised", "单位自筹", "单位自筹"),
              ("other", "其他资金", "其他资金")]
    first = grid.n_rows
    for key, period_label, annual_label in labels:
        r = grid.row()
        grid.put(r, 2, 2, period_label)
        grid.put(r, 3, 3, amount(form["funds"]["period"].get(key)))
        grid.put(r, 4, 5, annual_label)
        grid.put(r, 6, 7, amount(form["funds"]["annual"].get(key)))
    grid.put(first, 0, 1, funds_label, r1=grid.n_rows - 1)

    for label, key in (("项目概况", "overview"), ("立项依据", "basis"), ("项目设立必要性", "necessity"),
                       ("保证项目实施的制度、措施", "measures"), ("项目实施计划", "plan")):
        r = grid.row()
        grid.put(r, 0, 1, label)
        grid.put(r, 2, 7, form.get(key), align="left")
    r = grid.row()
    grid.put(r, 0, 1, "")
    grid.put(r, 2, 4, "实施期目标")
    grid.put(r, 5, 7, "年度目标")
    r = grid.row()
    grid.put(r, 0, 1, "总体目标")
    grid.put(r, 2, 4, form.get("goal_period"), align="left")
    grid.put(r, 5, 7, form.get("goal_annual"), align="left")


def footer(grid, form, layout):
    r = grid.row()
    grid.put(r, 0, 1, "负责人：")
    grid.put(r, 2, 2, form.get("owner"))
    grid.put(r, 3, 3, f"经办人：{form.get('clerk') or ''}")
    grid.put(r, 4, 4, "联系电话：")
    grid.put(r, 5, 5, form.get("phone"))
    grid.put(r, 6, 6, "填报日期：")
    grid.put(r, 7, 7, _filled_on(form, layout))


def _chosen(option, level1, default):
    if option is True:
        return level1 == default if default else True
    if isinstance(option, str):
        return level1 == option
    return bool(option) and level1 in option


def _indicator_cells(grid, form, layout):
    for rows in _indicator_rows(form, layout):
        start = grid.n_rows
        level1 = rows[0].level1
        for row in rows:
            r = grid.row()
            for col, text in ((3, row.p3), (4, row.pv), (6, row.a3), (7, row.av)):
                grid.put(r, col, col, text)
        blank_level1 = _chosen(layout.missing_level1, level1, "效益指标")
        blank_annual = _chosen(layout.blank_annual_level2, level1, None)
        _span(grid, 1, start, start + len(rows) - 1, "" if blank_level1 else level1, layout.merge_levels)
        for col, key in ((2, "p2"), (5, "a2")):
            for a, b in _runs(rows, key):
                text = getattr(rows[a], key)
                if key == "a2" and a == 0 and blank_annual:
                    text = ""
                _span(grid, col, start + a, start + b, text, layout.merge_levels)


def _span(grid, col, first, last, text, merge):
    """One cell over rows first..last, or (unmerged) the text on the first row and blanks below."""
    if merge:
        grid.put(first, col, col, text, r1=last)
    else:
        for r in range(first, last + 1):
            grid.put(r, col, col, text if r == first else "")


def _form_pages(grid, heights, header, layout, page_height, first_top, next_top, bottom):
    """Page breaks: the requested split, then wherever a page is full."""
    first_indicator, footer = header + 1, grid.n_rows - 1
    forced = []
    if layout.split_after_rows is not None:
        at = first_indicator + layout.split_after_rows
        if not first_indicator < at <= footer:
            raise ValueError(f"split_after_rows must be 1..{footer - first_indicator}")
        forced.append(at)
    pages, start, top = [], 0, first_top
    while start < grid.n_rows:
        end = next((b for b in forced if b > start), grid.n_rows)
        repeat = layout.repeat_header and start > header
        room = page_height - bottom - top - (heights[header] if repeat else 0)
        cut = start
        while cut < end and sum(heights[start:cut + 1]) <= room:
            cut += 1
        cut = max(cut, start + 1)
        rows = ([header] if repeat else []) + list(range(start, cut))
        pages.append((rows, [repeat and i == 0 for i in range(len(rows))]))
        start, top = cut, next_top
    return pages


def _draw_form(doc, form, layout):
    note = None
    if layout.form_style != "paired" or layout.indicator_style not in (None, "paired") or layout.amount_unit != "元":
        import pdfgen_layouts
        grid, header, title, note = pdfgen_layouts.form_grid(form, layout)
        layout = replace(layout, title=title)
    else:
        grid, header = _form_grid(form, layout)
    heights = grid.heights()
    width, height = layout.form_pagesize
    wanted = 1 if layout.split_after_rows is None else 2
    # The sample's generous top margin; a tall form moves up before it spills onto another page.
    for title_baseline in (78.6, 40.0):
        table_top = title_baseline + 17.4
        pages = _form_pages(grid, heights, header, layout, height, table_top, 40.0, 34.0)
        if len(pages) <= wanted:
            break
    numbers = []
    for index, (rows, repeated) in enumerate(pages):
        c = doc.start_page(layout.form_pagesize)
        numbers.append(doc.page)
        top = 40.0
        if index == 0:
            center = (grid.xs[0] + grid.xs[-1]) / 2
            _draw_title(c, _title(layout), center, title_baseline, 11.3, height)
            c.setFont(FONT, 8.9)
            c.drawCentredString(center, height - title_baseline - 12.9, f"（{form['year']}年度）")
            if note:
                c.drawRightString(grid.xs[-1], height - title_baseline - 12.9, note)
            top = table_top
        _draw_segment(c, grid, heights, rows, repeated, top, height, layout.split_merged_text)
        doc.end_page()
    return numbers


# ---------------------------------------------------------------------------------------------
# The rest of a 预算公开 document

class _Doc:
    def __init__(self, path, layout):
        _register_font()
        self.canvas = Canvas(str(path), pagesize=layout.form_pagesize, invariant=1)
        self.canvas.setTitle("单位预算公开")
        self.layout = layout
        self.page = 0
        self.numbered = False

    def start_page(self, size, numbered=True):
        self.canvas.setPageSize(size)
        self.page += 1
        self.numbered = numbered
        return self.canvas

    def end_page(self):
        c = self.canvas
        if self.layout.page_numbers and self.numbered:
            width = c._pagesize[0]
            c.setFont(FONT, 9)
            c.drawCentredString(width / 2, 24, f"- {self.page} -")
        c.showPage()

    def save(self):
        self.canvas.save()


class _Material:
    """Pages of other material around the forms: cover, contents, texts and budget tables."""

    W, H = A4
    LEFT, RIGHT = 50.0, A4[0] - 50.0

    def __init__(self, doc, forms, layout):
        self.doc, self.forms, self.layout = doc, forms, layout
        self.rng = random.Random(layout.seed)
        first = forms[0] if forms else make_form()
        self.unit = first["implementing_unit"]
        self.department = first["department_name"]
        self.year = first["year"]
        self.table_no = 0

    # -- helpers
    def num(self, value):
        return format_amount(Decimal(value).quantize(Decimal("0.01")), "decimals",
                             self.layout.amount_spaces) if value else ""

    def amount(self, low, high):
        return Decimal(self.rng.randint(int(low * 100), int(high * 100))) / 100

    def text_lines(self, c, y, text, size=11, indent=2, leading=20):
        lines = wrap("\u3000" * indent + text, self.RIGHT - self.LEFT, size)
        c.setFont(FONT, size)
        for line in lines:
            c.drawString(self.LEFT, self.H - y, line)
            y += leading
        return y

    def heading(self, c, y, text, size=14, center=False):
        if center:
            _draw_title(c, text, self.W / 2, y, size, self.H)
        else:
            c.setFont(FONT, size)
            c.drawString(self.LEFT, self.H - y, text)
        return y + size * 2

    # -- pages
    def cover(self):
        c = self.doc.start_page(A4, numbered=False)
        _draw_title(c, self.unit, self.W / 2, 300, 26, self.H)
        _draw_title(c, f"{self.year}年度单位预算公开", self.W / 2, 360, 22, self.H)
        self.doc.end_page()

    def contents(self):
        c = self.doc.start_page(A4)
        y = self.heading(c, 80, "目  录", 18, center=True)
        entries = ["第一部分 概况", "一、本单位职责", "二、机构设置情况", f"第二部分 {self.year}年单位预算报表"]
        entries += [f"{self.year}年{name}" for name, _ in _TABLES]
        entries += [f"第三部分 {self.year}年度单位预算情况说明", "第四部分 名词解释"]
        c.setFont(FONT, 10.5)
        for i, entry in enumerate(entries):
            page = str(1 + i // 2)
            dots = "." * int((self.RIGHT - self.LEFT - _width(entry + page, 10.5)) / _width(".", 10.5) - 2)
            c.drawString(self.LEFT, self.H - y, f"{entry}{dots}{page}")
            y += 19
        self.doc.end_page()

    def text_page(self, title, sections):
        c = self.doc.start_page(A4)
        y = self.heading(c, 80, title, 16, center=True) + 6 if title else 70
        for heading, paragraphs in sections:
            if heading:
                y = self.heading(c, y, heading, 12)
            for paragraph in paragraphs:
                if y > self.H - 120:
                    break
                y = self.text_lines(c, y, paragraph) + 6
        self.doc.end_page()

    def overview_page(self):
        duties = [s.format(unit=self.unit, dept=self.department) for s in _DUTIES]
        self.text_page("第一部分 概况", [("一、本单位职责", duties[:5]),
                                      ("二、机构设置情况", [f"{self.unit}设7个内设机构。分别为：综合部、投资运营管理部、"
                                                    "政策规划研究部、产业项目促进部、国际投资促进部、重大活动和会展部、区域经济合作部。"])])

    def explanation_page(self, part):
        total = self.amount(3000, 9000)
        carried = self.amount(100, 1500)
        sections = [
            ("一、单位预算收支数据变动情况及原因",
             [f"{self.year}年度预算收入总计{self.num(total + carried)}万元，其中：本年收入{self.num(total)}万元，"
              f"上年结转{self.num(carried)}万元，比上年增加{self.num(self.amount(10, 300))}万元，主要原因是工资制度改革导致预算收入增加。"]),
            ("二、收入预算情况说明",
             [f"{self.year}年度预算收入{self.num(total + carried)}万元，主要包括一般公共预算拨款收入{self.num(total)}万元；"
              f"政府性基金预算拨款收入0.00万元；国有资本经营预算拨款收入0.00万元；上年结转{self.num(carried)}万元。"]),
            ("三、支出预算情况说明",
             [f"{self.year}年度支出预算{self.num(total + carried)}万元，其中：基本支出{self.num(total / 4)}万元；"
              f"项目支出{self.num(total * 3 / 4 + carried)}万元。"]),
            ("四、财政拨款收支预算总体情况说明", [_FILLER[0], _FILLER[1]]),
            ("五、一般公共预算支出情况说明", [_FILLER[2], _FILLER[3]]),
        ]
        if part:
            sections = [("六、一般公共预算基本支出情况说明", [_FILLER[4], _FILLER[5]]),
                        ("七、“三公”经费增减变动原因说明", [_FILLER[6]]),
                        ("八、机关运行经费增减变动原因说明", [f"{self.unit}属事业单位无机关运行经费。"]),
                        ("九、政府采购情况", [f"{self.year}年{self.unit}政府采购预算总额"
                                         f"{self.num(self.amount(200, 2000))}万元。"])]
        self.text_page(f"第三部分 {self.year}年度单位预算情况说明" if not part else "", sections)

    def performance_intro(self):
        self.text_page("", [("十、绩效管理情况", [
            f"1、绩效管理情况：{self.year}年{self.unit}实行绩效目标管理的项目{len(self.forms)}个。",
            f"2、绩效目标情况（鼓励附表说明）：按照{self.year}年预算编制要求，{self.unit}对所有其他运转类和特定目标类项目，"
            "都结合项目自身特点，从产出、效益、满意度等方面出发，设置了绩效目标，建立了绩效指标体系。详见附表。"])])

    def assets_page(self):
        self.text_page("", [("十一、国有资产占有使用情况", [
            "1、车辆情况：公车改革后车辆实有数2辆。",
            "2、房屋情况：办公用房、业务用房及其他建筑面积共计5679平方米，借用机关事务管理局房屋。",
            "3、其他国有资产占有使用情况：无需要说明的特殊事项。"]),
            ("十二、其他说明", ["（一）政府购买服务指导性目录：事业单位非政府购买服务主体。",
                            f"（二）其他：{self.unit}无政府性基金预算收入及支出。"])])

    def glossary_page(self, part):
        entries = _GLOSSARY[:6] if part == 0 else _GLOSSARY[6:]
        self.text_page("第四部分 名词解释" if part == 0 else "", [("", entries)])

    def table_page(self, index, unit=None):
        name, build = _TABLES[index % len(_TABLES)]
        self.table_no += 1
        c = self.doc.start_page(A4)
        c.setFont(FONT, 10)
        c.drawString(self.LEFT, self.H - 50, f"预算公开表{self.table_no}")
        _draw_title(c, f"{self.year}年{name}", self.W / 2, 82, 15, self.H)
        c.setFont(FONT, 9.5)
        c.drawString(self.LEFT, self.H - 108, f"单位名称：{unit or self.unit}")
        c.drawRightString(self.RIGHT, self.H - 108, "单位：万元")
        grid, note = build(self)
        bottom = _draw_segment(c, grid, grid.heights(), list(range(grid.n_rows)),
                               [False] * grid.n_rows, 116, self.H)
        if note:
            c.setFont(FONT, 9.5)
            c.drawString(self.LEFT, self.H - bottom - 18, note)
        self.doc.end_page()

    # -- sequences of exactly n pages
    def before(self, n):
        pages = [self.cover, self.contents, self.overview_page]
        pages += [lambda i=i: self.table_page(i) for i in range(len(_TABLES))]
        pages += [lambda: self.explanation_page(0), lambda: self.explanation_page(1)]
        extra = n - 1 - len(pages)
        subunits = [f"{self.unit}（本级）", f"{self.unit}投资服务中心"]
        pages += [lambda i=i: self.table_page(i, subunits[i // len(_TABLES) % 2]) for i in range(max(extra, 0))]
        chosen = pages[: max(n - 1, 0)] + ([self.performance_intro] if n > 0 else [])
        for make in chosen:
            make()

    def after(self, n):
        pages = [self.assets_page, lambda: self.glossary_page(0), lambda: self.glossary_page(1)]
        i = 0
        while len(pages) < n:
            pages.append(lambda i=i: self.table_page(i, f"{self.department}（汇总）"))
            i += 1
        for make in pages[:n]:
            make()


def _grid(fractions, size=9.0, height=16.0):
    width = _Material.RIGHT - _Material.LEFT
    xs, acc = [_Material.LEFT], 0
    total = sum(fractions)
    for f in fractions:
        acc += f
        xs.append(round(_Material.LEFT + width * acc / total, 2))
    return Grid(xs, size, height, pad=3.0)


def _header(grid, spec):
    """spec: rows of (c0, c1, text, rowspan)."""
    base = grid.n_rows
    for _ in spec:
        grid.row()
    for i, row in enumerate(spec):
        for c0, c1, text, rowspan in row:
            grid.put(base + i, c0, c1, text, r1=base + i + rowspan - 1)


def _data_row(grid, values, aligns):
    r = grid.row()
    for col, (value, align) in enumerate(zip(values, aligns)):
        grid.put(r, col, col, value, align=align)


_EXPENSE_CLASSES = ["一般公共服务支出", "外交支出", "国防支出", "公共安全支出", "教育支出", "科学技术支出",
                    "文化旅游体育与传媒支出", "社会保障和就业支出", "社会保险基金支出", "卫生健康支出", "节能环保支出",
                    "城乡社区支出", "农林水支出", "交通运输支出", "资源勘探工业信息等支出", "商业服务业等支出",
                    "金融支出", "援助其他地区支出", "自然资源海洋气象等支出", "住房保障支出", "粮油物资储备支出",
                    "国有资本经营预算支出", "灾害防治及应急管理支出", "预备费", "其他支出", "转移性支出"]
_NUMERALS = "一二三四五六七八九十"


def _chinese_number(n):
    if n <= 10:
        return _NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _NUMERALS[tens - 1]) + "十" + (_NUMERALS[ones - 1] if ones else "")


_SUBJECTS = [("201", "一般公共服务支出"), ("20113", "商贸事务"), ("2011307", "国内贸易管理"),
             ("2011308", "招商引资"), ("2011350", "事业运行"), ("208", "社会保障和就业支出"),
             ("20805", "行政事业单位养老支出"), ("2080502", "事业单位离退休"),
             ("2080505", "机关事业单位基本养老保险缴费支出"), ("2080506", "机关事业单位职业年金缴费支出"),
             ("210", "卫生健康支出"), ("21011", "行政事业单位医疗"), ("2101102", "事业单位医疗"),
             ("2101103", "公务员医疗补助")]


def _t_summary(m):
    grid = _grid([2.2, 1.1, 2.6, 1.1, 1.1, 1.1], size=8.5, height=15.5)
    _header(grid, [[(0, 1, "收入", 1), (2, 5, "支出", 1)],
                   [(0, 0, "项目", 1), (1, 1, f"{m.year}年", 1), (2, 2, "项目", 1),
                    (3, 3, f"{m.year}年合计", 1), (4, 4, "当年预算安排", 1), (5, 5, "上年结转安排", 1)]])
    incomes = ["一、一般公共预算", "二、政府性基金预算", "三、国有资本经营预算", "四、财政专户管理资金", "五、单位资金"]
    budget = m.amount(3000, 8000)
    for i, cls in enumerate(_EXPENSE_CLASSES):
        spend = m.amount(50, 2000) if i in (0, 7, 9) else None
        left = incomes[i] if i < len(incomes) else ""
        _data_row(grid, [left, m.num(budget) if i == 0 else "", f"{_chinese_number(i + 1)}、{cls}",
                         m.num(spend), m.num(spend), ""], ["left", "right", "left", "right", "right", "right"])
    for label in ("本年收入合计", "上年结转", "收入总计"):
        _data_row(grid, [label, m.num(budget), label.replace("收入", "支出"), m.num(budget), m.num(budget), ""],
                  ["left", "right", "left", "right", "right", "right"])
    return grid, None


def _t_income(m):
    grid = _grid([1.1, 2.6, 1, 1.1, 0.9, 1, 1, 0.9, 0.9], size=8, height=16)
    _header(grid, [[(0, 1, "项目", 1), (2, 7, "本年收入", 1), (8, 8, "上年结转", 2)],
                   [(0, 0, "科目编码", 1), (1, 1, "科目名称", 1), (2, 2, "合计", 1), (3, 3, "一般公共预算", 1),
                    (4, 4, "政府性基金", 1), (5, 5, "国有资本经营预算", 1), (6, 6, "财政专户管理资金", 1),
                    (7, 7, "单位资金", 1)]])
    _data_row(grid, ["合计", "", m.num(m.amount(3000, 8000))] + [""] * 6, ["center"] + ["right"] * 8)
    for code, name in _SUBJECTS:
        value = m.num(m.amount(10, 3000))
        _data_row(grid, [code, name, value, value, "", "", "", "", ""], ["left", "left"] + ["right"] * 7)
    return grid, None


def _t_expense(m):
    grid = _grid([1.1, 3, 1.2, 1.2, 1.2])
    _header(grid, [[(0, 1, "项目", 1), (2, 4, f"{m.year}年预算数", 1)],
                   [(0, 0, "科目编码", 1), (1, 1, "科目名称", 1), (2, 2, "合计", 1), (3, 3, "基本支出", 1),
                    (4, 4, "项目支出", 1)]])
    _data_row(grid, ["合计", "", m.num(m.amount(3000, 8000)), m.num(m.amount(1000, 2000)),
                     m.num(m.amount(2000, 6000))], ["center"] + ["right"] * 4)
    for code, name in _SUBJECTS:
        basic, project = m.amount(10, 1500), m.rng.choice([0, m.amount(10, 3000)])
        _data_row(grid, [code, name, m.num(basic + project), m.num(basic), m.num(project)],
                  ["left", "left", "right", "right", "right"])
    return grid, None


def _t_fiscal(m):
    grid = _grid([2.2, 1.1, 2.6, 1, 1.1, 1.1, 1.1], size=8, height=15.5)
    _header(grid, [[(0, 1, "收入", 1), (2, 6, "支出", 1)],
                   [(0, 0, "项目", 2), (1, 1, "金额", 2), (2, 2, "项目", 2), (3, 6, "金额", 1)],
                   [(3, 3, "小计", 1), (4, 4, "一般公共预算", 1), (5, 5, "政府性基金预算", 1),
                    (6, 6, "国有资本经营预算", 1)]])
    incomes = ["一、一般公共预算", "二、政府性基金预算", "三、国有资本经营预算"]
    for i, cls in enumerate(_EXPENSE_CLASSES[:24]):
        spend = m.amount(50, 2000) if i in (0, 7, 9) else None
        _data_row(grid, [incomes[i] if i < 3 else "", m.num(m.amount(3000, 8000)) if i == 0 else "",
                         f"{_chinese_number(i + 1)}、{cls}", m.num(spend), m.num(spend), "", ""],
                  ["left", "right", "left"] + ["right"] * 4)
    return grid, None


def _t_economic(m):
    grid = _grid([2.4, 2.4, 1.1, 1.1, 1.1])
    _header(grid, [[(0, 0, "部门预算支出经济科目名称", 2), (1, 1, "政府预算支出经济科目名称", 2),
                    (2, 4, f"{m.year}年预算数", 1)],
                   [(2, 2, "合计", 1), (3, 3, "人员经费", 1), (4, 4, "公用经费", 1)]])
    items = [("基本工资", "工资福利支出"), ("津贴补贴", "工资福利支出"), ("绩效工资", "工资福利支出"),
             ("职业年金缴费", "工资福利支出"), ("住房公积金", "工资福利支出"), ("物业管理费", "商品和服务支出"),
             ("维修(护)费", "商品和服务支出"), ("工会经费", "商品和服务支出"), ("公务用车运行维护费", "公务用车运行维护费"),
             ("其他交通费用", "商品和服务支出"), ("退休费", "离退休费"), ("奖励金", "社会福利和救助")]
    for dept, gov in items:
        value = m.amount(0.5, 450)
        staff = gov in ("工资福利支出", "离退休费", "社会福利和救助")
        _data_row(grid, [dept, gov, m.num(value), m.num(value) if staff else "", "" if staff else m.num(value)],
                  ["left", "left", "right", "right", "right"])
    return grid, None


def _t_fund(m):
    grid = _grid([1.1, 3, 1.2, 1.2, 1.2])
    _header(grid, [[(0, 0, "科目编码", 1), (1, 1, "科目名称", 1), (2, 2, "合计", 1), (3, 3, "基本支出", 1),
                    (4, 4, "项目支出", 1)]])
    _data_row(grid, ["合计", "", "", "", ""], ["center"] * 5)
    return grid, "注：本表无数据"


def _t_three(m):
    grid = _grid([3, 1.2, 1.2, 1.2, 1.2])
    _header(grid, [[(0, 0, "项目", 2), (1, 4, f"{m.year}年预算数", 1)],
                   [(1, 1, "合计", 1), (2, 2, "一般公共预算", 1), (3, 3, "政府性基金预算", 1),
                    (4, 4, "国有资本经营预算", 1)]])
    abroad, hosting, running = m.amount(10, 60), m.amount(5, 40), m.amount(2, 15)
    for label, value in (("因公出国（境）费", abroad), ("公务接待费", hosting), ("公务用车购置及运行费", running),
                         ("①公务用车购置费", None), ("②公务用车运行维护费", running),
                         ("合计", abroad + hosting + running)):
        _data_row(grid, [label, m.num(value), m.num(value), "", ""], ["left"] + ["right"] * 4)
    return grid, None


def _t_projects(m):
    grid = _grid([3.4, 1, 1, 1, 1, 1, 0.9], size=8.5)
    _header(grid, [[(0, 0, "项目名称", 2), (1, 1, "合计", 2), (2, 4, f"{m.year}年财政拨款", 1),
                    (5, 5, "财政专户管理资金", 2), (6, 6, "单位资金", 2)],
                   [(2, 2, "一般公共预算", 1), (3, 3, "政府性基金预算", 1), (4, 4, "国有资本经营预算", 1)]])
    _data_row(grid, [str(i) for i in range(1, 8)], ["center"] * 7)
    rows = [(f["project_name"], Decimal(str(f["funds"]["annual"]["total"] or 0)) / 10000) for f in m.forms]
    _data_row(grid, [m.unit, m.num(sum(v for _, v in rows)), m.num(sum(v for _, v in rows)), "", "", "", ""],
              ["left"] + ["right"] * 6)
    for name, value in rows:
        _data_row(grid, [name, m.num(value), m.num(value), "", "", "", ""], ["left"] + ["right"] * 6)
    return grid, None


_TABLES = [("预算收支总表", _t_summary), ("预算收入总表", _t_income), ("预算支出总表", _t_expense),
           ("财政拨款收支总表", _t_fiscal), ("一般公共预算支出预算表（不含上年结转）", _t_expense),
           ("一般公共预算安排基本支出分经济科目表（不含上年结转）", _t_economic),
           ("政府性基金预算支出表（不含上年结转）", _t_fund), ("一般公共预算“三公”经费支出预算表", _t_three),
           ("项目支出预算表（本年预算）", _t_projects)]

_DUTIES = [
    "{unit}是{dept}管理的副厅级、全额预算公益一类事业单位。主要职责如下：",
    "(一)贯彻执行党中央、国务院及省委、省政府关于招商引资、对外合作和投资促进工作的方针、政策和发展战略，"
    "负责拟定全省招商引资的相关政策和产业规划，全方位推进境内外招商引资、对外合作和投资促进工作。",
    "(二)指导全省招商引资工作；拟订和分解下达全省招商引资年度目标任务；负责全省招商引资、对外合作、"
    "投资促进工作的统计、监测、督查、考核、信息发布和政策宣介工作，提出招商引资工作的奖励建议。",
    "(三)负责全省重点投资领域招商引资项目的征集、策划、包装、推介、签约工作；负责省级重大招商引资项目落地、"
    "开工、建设、投产的全程跟踪、服务和督导，协调解决属于省级层面事权的问题。",
    "(四)组织开展对国内外宏观经济政策和产业发展战略的研究，分析研判区域经济发展和区域合作趋势，"
    "提出招商引资、区域合作和优化营商环境的政策建议。",
]
_FILLER = [
    "财政拨款收支总预算包括一般公共预算拨款、政府性基金预算拨款和国有资本经营预算拨款，其中当年拨款收入和上年结转收入分别列示。",
    "支出包括：一般公共服务支出、社会保障和就业支出、卫生健康支出，均按照功能分类科目的类级科目列示。",
    "一般公共预算当年拨款规模变化情况：与上年相比有所减少，主要原因是压减一般性支出，严控非刚性、非重点支出。",
    "一般公共预算当年拨款结构情况：主要用于一般公共服务支出、社会保障和就业支出和卫生健康支出等方面。",
    "人员经费主要包括：基本工资、津贴补贴、奖金、绩效工资、机关事业单位基本养老保险缴费、职业年金缴费、住房公积金、退休费等。",
    "公用经费主要包括：物业管理费、维修(护)费、租赁费、工会经费、福利费、公务用车运行维护费、其他交通费用等。",
    "财政拨款安排的“三公”经费预算与上年同口径相比略有增加，主要原因是增加一辆应急保障公务用车运行维护费。",
]
_GLOSSARY = [
    "一、基本支出：指为保障机构正常运转、完成日常工作任务而发生的人员支出和公用支出。",
    "二、项目支出：指在基本支出之外为完成特定行政任务和事业发展目标所发生的支出。",
    "三、“三公”经费：指省直部门用财政拨款安排的因公出国（境）费用、公务用车购置及运行费和公务接待费。",
    "四、机关运行经费：指行政单位和参照公务员法管理的事业单位使用财政拨款安排的基本支出中的公用经费支出。",
    "五、政府购买服务：是指将国家机关属于自身职责范围且适合通过市场化方式提供的服务事项，按照政府采购方式和程序，"
    "交由符合条件的服务供应商承担，并根据服务数量和质量等情况向其支付费用的行为。",
    "六、财政专户管理资金：专指教育收费，包括目前在财政专户管理的高中以上学费、住宿费，高校委托培养费等。",
    "七、单位资金：是指除政府预算资金和财政专户管理资金以外的资金，包括事业收入、事业单位经营收入、上级补助收入等。",
    "八、上年结转：指以前年度预算安排、结转到本年仍按原规定用途继续使用的资金。",
    "九、一般公共预算是指以税收为主体的财政收入，安排用于保障和改善民生、推动经济社会发展、维护国家安全、"
    "维持国家机构正常运转等方面的收支预算。",
    "十、政府性基金预算：是对依照法律、行政法规的规定在一定期限内向特定对象征收、收取或者以其他方式筹集的资金，"
    "专项用于特定公共事业发展的收支预算。",
    "十一、国有资本经营预算是对国有资本收益作出支出安排的收支预算。",
]


# ---------------------------------------------------------------------------------------------
# Entry points

def write_pdf(path, forms, *, form_layouts=None, info=None, **layout_options) -> Path:
    """Write `forms` (each starting on a new page) to a PDF at `path` and return the path.

    `layout_options` are the fields of `Layout`; `form_layouts` is an optional list (parallel to
    `forms`) of per-form overrides, e.g. `[{}, {"split_after_rows": 3}]`. If `info` is a dict it
    receives `page_count`, `form_pages` (1-based page numbers of each form), `pages_before` and
    `pages_after`.
    """
    layout = _layout(layout_options)
    if layout.page_numbers is None:
        layout = replace(layout, page_numbers=layout.full_document)
    path = Path(path)
    doc = _Doc(path, layout)
    material = _Material(doc, forms, layout) if layout.full_document else None
    before = (6 if layout.pages_before is None else layout.pages_before) if material else 0
    if material:
        material.before(before)
    form_pages = []
    for i, form in enumerate(forms):
        overrides = (form_layouts or [{}] * len(forms))[i] or {}
        if set(overrides) - _LAYOUT_KEYS:
            raise TypeError(f"unknown layout options {sorted(set(overrides) - _LAYOUT_KEYS)}")
        own = replace(layout, **overrides) if overrides else layout
        form_pages.append(_draw_form(doc, form, own))
    after = 0
    if material:
        after = 3 if layout.pages_after is None else layout.pages_after
        if layout.total_pages is not None:
            after = layout.total_pages - doc.page
            if after < 0:
                raise ValueError(f"total_pages={layout.total_pages} is fewer than the {doc.page} pages "
                                 "of material before and forms")
        material.after(after)
    doc.save()
    if info is not None:
        info.update(page_count=doc.page, form_pages=form_pages, pages_before=before, pages_after=after)
    return path


def write_document(path, forms, pages_before=6, pages_after=3, **layout_options) -> Path:
    """A whole 预算公开 document with the forms in its middle (see `write_pdf`)."""
    return write_pdf(path, forms, full_document=True, pages_before=pages_before,
                     pages_after=pages_after, **layout_options)
