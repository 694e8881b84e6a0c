"""The synthetic data of `flask demo synth` (and the demo's current year, commands/demo_current.py):
主管部门, 实施单位, projects with their forms, and a year of entries, drawn from a seeded random
generator so the same seed gives the same data."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

SYNTH_WHO = "合成数据"

# --------------------------------------------------------------------------- names

SYNTH_DEPARTMENTS = (
    "山西省发展和改革委员会", "山西省教育厅", "山西省科学技术厅", "山西省工业和信息化厅", "山西省民族宗教事务委员会",
    "山西省公安厅", "山西省民政厅", "山西省司法厅", "山西省财政厅", "山西省人力资源和社会保障厅",
    "山西省自然资源厅", "山西省生态环境厅", "山西省住房和城乡建设厅", "山西省交通运输厅", "山西省水利厅",
    "山西省农业农村厅", "山西省商务厅", "山西省文化和旅游厅", "山西省卫生健康委员会", "山西省退役军人事务厅",
    "山西省应急管理厅", "山西省审计厅", "山西省国有资产监督管理委员会", "山西省市场监督管理局", "山西省广播电视局",
    "山西省体育局", "山西省统计局", "山西省医疗保障局", "山西省林业和草原局", "山西省粮食和物资储备局",
    "山西省能源局", "山西省地方金融监督管理局", "山西省机关事务管理局", "山西省乡村振兴局", "山西省大数据局",
    "山西省药品监督管理局", "山西省知识产权局", "山西省文物局", "山西省国防科技工业局", "山西省信访局",
    "山西省地质勘查局", "山西省煤炭地质局", "山西省冶金地质勘查局", "山西省监狱管理局", "山西省戒毒管理局",
    "山西省气象局", "山西省通信管理局", "山西省地震局", "山西省档案局", "山西省中医药管理局",
    "山西省疾病预防控制局", "山西省水文水资源勘测局", "山西省测绘地理信息局", "山西省煤矿安全监察局", "山西省公路局",
    "山西省建设工程质量监督局", "山西省社会保险事业管理局", "山西省行政审批服务管理局", "山西省文化市场综合行政执法局",
    "山西省水利工程管理局", "山西省卫生监督局", "山西省老干部局", "山西省妇女儿童工作委员会", "山西省老龄工作委员会",
    "山西省机构编制委员会", "山西省国家安全厅", "山西省残疾人工作委员会", "山西省爱国卫生运动委员会",
    "山西省安全生产委员会", "山西省食品安全委员会", "山西省学位委员会", "山西省招生考试委员会", "山西省经济和信息化委员会",
    "山西省住房公积金管理委员会", "山西省新闻出版局", "山西省电影局", "山西省版权局", "山西省宗教事务局",
    "山西省公务员局", "山西省外国专家局", "山西省地方志编纂委员会", "山西省煤炭工业厅", "山西省国土资源厅",
    "山西省环境保护厅", "山西省城乡规划委员会", "山西省科学技术委员会", "山西省国防动员委员会", "山西省质量技术监督局",
    "山西省安全生产监督管理局", "山西省旅游发展委员会", "山西省食品药品监督管理局", "山西省工商行政管理局",
    "山西省水土保持局", "山西省高速公路管理局", "山西省铁路建设管理局", "山西省农业机械管理局", "山西省畜牧兽医局",
    "山西省扶贫开发委员会", "山西省防震减灾局", "山西省人民防空局",
)
SYNTH_CODES = {"山西省商务厅": "216", "山西省发展和改革委员会": "217"}
SYNTH_UNIT_SUFFIXES = ("本级", "信息中心", "机关服务中心", "宣传教育中心", "培训中心", "综合事务中心", "监测中心",
                       "研究院", "档案馆", "评审中心", "技术保障中心", "应急指挥中心", "行政执法总队", "质量检测中心")
SYNTH_TOPICS = ("信息化建设", "网络安全保障", "业务培训", "宣传推广", "监督检查", "课题研究", "应急保障", "数据采集",
                "标准制定", "平台运行维护", "档案数字化", "设备购置", "办公用房维修改造", "专项审计", "人才引进",
                "对外交流合作", "安全生产", "执法装备", "质量抽检", "统计调查", "政务公开", "科普宣传", "技能竞赛",
                "技术评审", "公共服务", "监测预警", "示范创建", "试点建设", "招商引资", "展会组织", "法律顾问",
                "绩效评价", "规划编制", "运行保障", "数据共享", "专家咨询", "志愿服务", "成果推广", "服务热线")
SYNTH_PROJECT_KINDS = ("专项经费", "项目", "工作经费", "运行维护费", "建设项目", "补助资金")
SYNTH_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
SYNTH_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
               "秀英", "华", "慧", "建国", "志强", "晓东", "海燕", "红梅", "俊杰", "文博", "佳怡", "子涵", "宇航")


@dataclass
class SynthProject:
    index: int                   # 0 … count-1: its place, which seeds its generator
    unit: str
    department: str
    name: str
    unit_index: int = 0


@dataclass
class SynthPlan:
    departments: list[tuple[str, str]]        # (name, code)
    units: list[tuple[str, str]]              # (name, department name)
    projects: list[SynthProject]


def synth_plan(count: int, seed: int) -> SynthPlan:
    """Who owns what: 10 projects per 实施单位, 10 实施单位 per 主管部门 (at most the names there are)."""
    import math
    import random

    unit_count = math.ceil(count / 10)
    dept_count = min(len(SYNTH_DEPARTMENTS), math.ceil(unit_count / 10))
    order = list(SYNTH_DEPARTMENTS)
    random.Random(f"departments:{seed}").shuffle(order)
    departments = [(name, SYNTH_CODES.get(name, str(101 + SYNTH_DEPARTMENTS.index(name))))
                   for name in order[:dept_count]]
    units, per_department = [], -(-unit_count // dept_count)
    for d, (dept, _code) in enumerate(departments):
        suffixes = list(SYNTH_UNIT_SUFFIXES)
        random.Random(f"units:{seed}:{d}").shuffle(suffixes)
        for u in range(per_department):
            if len(units) == unit_count:
                break
            suffix = suffixes[u] if u < len(suffixes) else f"第{u - len(suffixes) + 2}{suffixes[u % len(suffixes)]}"
            units.append((f"{dept}{suffix}", dept))
    projects = []
    for u, (unit, dept) in enumerate(units):
        rng = random.Random(f"projects:{seed}:{u}")
        names = [f"{topic}{kind}" for topic in SYNTH_TOPICS for kind in SYNTH_PROJECT_KINDS]
        for name in rng.sample(names, min(10, count - len(projects))):
            projects.append(SynthProject(len(projects), unit, dept, name, u))
    return SynthPlan(departments, units, projects)


def synth_organisations(session, plan: SynthPlan) -> dict[str, int]:
    """主管部门 and 实施单位, created where missing; returns unit name → id."""
    from sqlmodel import select

    from models.org import Department, Unit

    existing = {d.name: d for d in session.exec(select(Department).where(
        Department.name.in_([name for name, _code in plan.departments])))}
    for name, code in plan.departments:
        if name not in existing:
            existing[name] = Department(name=name, code=code)
            session.add(existing[name])
    session.flush()
    units = {u.name: u for u in session.exec(select(Unit).where(Unit.name.in_([name for name, _d in plan.units])))}
    for name, dept in plan.units:
        if name not in units:
            units[name] = Unit(name=name, department_id=existing[dept].id)
            session.add(units[name])
    session.flush()
    return {name: unit.id for name, unit in units.items()}


# --------------------------------------------------------------------------- indicators

# (一级, 二级, 三级, the target's form, its range); {v} is the number. Kinds: count (≥ a count),
# wan (≥ 万/亿 units), pct (≥ a level in %), le_level (≤ a duration), cost (≤ 万元), qual.
SYNTH_INDICATORS = (
    ("产出指标", "数量指标", "开展培训场次", "≥{v}场", "count", (4, 60)),
    ("产出指标", "数量指标", "培训人数", "≥{v}人次", "count", (200, 20000)),
    ("产出指标", "数量指标", "服务企业数量", "≥{v}家", "count", (10, 600)),
    ("产出指标", "数量指标", "发布信息数量", "≥{v}条", "count", (100, 3000)),
    ("产出指标", "数量指标", "购置设备数量", "≥{v}台", "count", (5, 200)),
    ("产出指标", "数量指标", "开展检查次数", "≥{v}次", "count", (12, 400)),
    ("产出指标", "数量指标", "覆盖服务人群", "≥{v}万人次", "wan", (1, 80)),
    ("产出指标", "质量指标", "验收合格率", "≥{v}%", "pct", (90, 100)),
    ("产出指标", "质量指标", "设备完好率", "≥{v}%", "pct", (92, 99)),
    ("产出指标", "质量指标", "数据准确率", "≥{v}%", "pct", (95, 100)),
    ("产出指标", "时效指标", "任务按时完成率", "=100%", "pct", (100, 100)),
    ("产出指标", "时效指标", "问题响应时间", "≤{v}小时", "le_level", (2, 48)),
    ("产出指标", "时效指标", "项目完成时限", "{year}年12月底前", "qual", None),
    ("产出指标", "时效指标", "资金拨付及时性", "按时", "qual", None),
    ("产出指标", "成本指标", "项目成本控制", "≤{v}万元", "cost", None),
    ("产出指标", "成本指标", "培训成本", "≤{v}万元", "cost", None),
    ("效益指标", "经济效益指标", "带动社会投资", "≥{v}亿元", "wan", (1, 50)),
    ("效益指标", "经济效益指标", "实现交易额", "≥{v}万元", "count", (500, 50000)),
    ("效益指标", "社会效益指标", "服务群众人次", "≥{v}万人次", "wan", (1, 120)),
    ("效益指标", "社会效益指标", "保障单位工作正常运转", "保障", "qual", None),
    ("效益指标", "社会效益指标", "社会知晓度", "明显提升", "qual", None),
    ("效益指标", "生态效益指标", "节能降耗", "有所改善", "qual", None),
    ("效益指标", "可持续影响指标", "长效管理机制", "建立健全", "qual", None),
    ("满意度指标", "服务对象满意度指标", "服务对象满意度", "≥{v}%", "pct", (85, 95)),
    ("满意度指标", "服务对象满意度指标", "参训人员满意度", "≥{v}%", "pct", (85, 95)),
)
# Every project has one of each kind (the brief's "every kind"); the rest is drawn.
SYNTH_REQUIRED = ("开展培训场次", "验收合格率", "项目成本控制", "覆盖服务人群", "保障单位工作正常运转",
                  "项目完成时限", "服务对象满意度", "问题响应时间")
# How an indicator goes, given how its project goes this year; how projects go, given their
# unit's habits. Lights cluster the way they do in practice: most units are fine, a few lag.
SYNTH_INDICATOR_ODDS = {"healthy": (("good", 0.925), ("lag", 0.07), ("bad", 0.005)),
                        "struggling": (("good", 0.70), ("lag", 0.23), ("bad", 0.07)),
                        "troubled": (("good", 0.45), ("lag", 0.32), ("bad", 0.23))}
SYNTH_PROJECT_ODDS = {"steady": (("healthy", 0.88), ("struggling", 0.10), ("troubled", 0.02)),
                      "uneven": (("healthy", 0.68), ("struggling", 0.26), ("troubled", 0.06)),
                      "weak": (("healthy", 0.40), ("struggling", 0.40), ("troubled", 0.20))}
SYNTH_UNIT_ODDS = (("steady", 0.62), ("uneven", 0.28), ("weak", 0.10))
SYNTH_BUDGET_ODDS = {"healthy": (("good", 0.85), ("lag", 0.12), ("bad", 0.03)),
                     "struggling": (("good", 0.55), ("lag", 0.33), ("bad", 0.12)),
                     "troubled": (("good", 0.30), ("lag", 0.40), ("bad", 0.30))}


def _synth_raw(template: tuple, rng, year: int, annual_yuan) -> str:
    _l1, _l2, _l3, form, kind, span = template
    if kind == "qual":
        return form.format(year=year)
    if kind == "cost":
        share = rng.choice((0.2, 0.3, 0.5, 0.8)) if template[2] == "培训成本" else 0.95
        return form.format(v=max(1, round(float(annual_yuan) * share / 10_000)))
    low, high = span
    if kind == "pct":
        return form.format(v=rng.choice([v for v in (85, 90, 92, 95, 96, 98, 99, 100) if low <= v <= high] or [low]))
    value = rng.randint(low, high)
    if kind == "count" and value > 100:
        value = round(value, -1)
    return form.format(v=value)


def _draw(rng, odds) -> str:
    roll, total = rng.random(), 0.0
    for name, share in odds:
        total += share
        if roll < total:
            return name
    return odds[0][0]


# --------------------------------------------------------------------------- one chunk

def synth_chunk(session, chunk: list[SynthProject], unit_ids: dict[str, int], year: int, seed: int, now,
                deadline_day: int, bands) -> dict[str, int]:
    """Write one chunk of projects with everything they carry; the caller holds the transaction.
    `bands`: the settings' rules.Thresholds, which judge every entry as record_actual does."""
    import hashlib

    from sqlalchemy import func, insert
    from sqlmodel import select

    from models.actual import Actual, ActualChange, Alert, Spending, SpendingChange
    from models.importing import ImportBatch, ProjectYearImport
    from models.indicator import Indicator
    from models.org import Department, Unit
    from models.project import Project, ProjectYear
    from services.summaries import write_summaries

    def next_id(table) -> int:
        return (session.execute(select(func.max(table.id))).scalar() or 0) + 1

    departments = dict(session.execute(select(Unit.id, Department.id).join(Department, Department.id == Unit.department_id)
                                       .where(Unit.id.in_({unit_ids[p.unit] for p in chunk}))).all())
    known = {(u, n): i for i, u, n in session.execute(
        select(Project.id, Project.unit_id, Project.name).where(Project.unit_id.in_({unit_ids[p.unit] for p in chunk})))}
    have_year = set(session.execute(select(ProjectYear.project_id).where(
        ProjectYear.year == year, ProjectYear.project_id.in_(list(known.values())))).scalars()) if known else set()
    ids = {name: next_id(table) for name, table in (("project", Project), ("py", ProjectYear), ("ind", Indicator))}
    batch = session.execute(select(ImportBatch).where(ImportBatch.file_name == f"合成数据（{year} 年度，种子 {seed}）")).scalars().first()
    if batch is None:
        batch = ImportBatch(file_name=f"合成数据（{year} 年度，种子 {seed}）",
                            file_sha256=hashlib.sha256(f"synth:{seed}:{year}".encode()).hexdigest(),
                            imported_by=SYNTH_WHO, imported_at=now, warnings=[])
        session.add(batch)
        session.flush()
    out = {"projects": 0, "skipped": 0, "indicators": 0, "actuals": 0, "spending": 0, "alerts": 0, "open_alerts": 0}
    rows: dict[str, list[dict]] = {k: [] for k in ("project", "py", "pyi", "ind", "actual", "actual_change", "spending",
                                                   "spending_change", "alert", "light_summary", "budget_summary")}
    for project in chunk:
        unit_id = unit_ids[project.unit]
        project_id = known.get((unit_id, project.name))
        if project_id in have_year:
            out["skipped"] += 1
            continue
        if project_id is None:
            project_id = ids["project"]
            ids["project"] += 1
            rows["project"].append({"id": project_id, "unit_id": unit_id, "name": project.name, "created_at": now})
        py_id = ids["py"]
        ids["py"] += 1
        made = SynthProjectYear(project, py_id, project_id, departments[unit_id], year, seed, now, deadline_day,
                                ids["ind"], batch.id, bands)
        ids["ind"] += len(made.indicators)
        for key, value in made.rows().items():
            rows[key].extend(value)
        out["projects"] += 1
        out["indicators"] += len(made.indicators)
    tables = {"project": Project, "py": ProjectYear, "pyi": ProjectYearImport, "ind": Indicator, "actual": Actual,
              "actual_change": ActualChange, "spending": Spending, "spending_change": SpendingChange, "alert": Alert}
    for key, model in tables.items():
        for start in range(0, len(rows[key]), 20_000):
            session.execute(insert(model.__table__), rows[key][start:start + 20_000])
    write_summaries(session, [r["id"] for r in rows["py"]], rows["light_summary"], rows["budget_summary"])
    if session.get_bind().dialect.name == "postgresql":
        # The ids above were given here, not drawn from the sequences: move those past them, so
        # that what is stored later (an import, a new project) does not collide.
        from sqlalchemy import text
        for table in ("project", "project_year", "indicator"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT max(id) FROM {table}))"))
    batch.forms_count += out["projects"]
    batch.new_count += out["projects"]
    session.add(batch)
    out["actuals"], out["spending"] = len(rows["actual"]), len(rows["spending"])
    out["alerts"] = len(rows["alert"])
    out["open_alerts"] = sum(1 for a in rows["alert"] if a["closed_at"] is None)
    return out


class SynthProjectYear:
    """One project's year: the form's content, the monthly entries, the alerts they raise."""

    def __init__(self, project: SynthProject, py_id: int, project_id: int, department_id: int, year: int,
                 seed: int, now, deadline_day: int, first_indicator_id: int, batch_id: int, bands):
        import random

        self.project, self.py_id, self.project_id, self.department_id = project, py_id, project_id, department_id
        self.year, self.now, self.deadline_day, self.batch_id = year, now, deadline_day, batch_id
        self.bands = bands
        self.form_rng = random.Random(f"form:{seed}:{project.index}")               # the same every year
        self.rng = random.Random(f"year:{seed}:{year}:{project.index}")
        habit = _draw(random.Random(f"unit:{seed}:{project.unit_index}"), SYNTH_UNIT_ODDS)   # the unit's, every year
        self.state = _draw(self.rng, SYNTH_PROJECT_ODDS[habit])
        self.first_indicator_id = first_indicator_id
        self._header()
        self._indicators()

    # the form ------------------------------------------------------------------------------

    def _header(self) -> None:
        from decimal import Decimal

        rng, form = self.rng, self.form_rng
        self.term_years = form.choice((1, 1, 1, 2, 3))
        self.periods = "quarterly" if form.random() < 0.03 else "monthly"
        self.annual = Decimal(round(10 ** rng.uniform(5.5, 7.5), -2))          # 30万 – 3000万 元
        central = (self.annual * Decimal(rng.choice((0, 0, 0, 10, 20, 30))) / 100).quantize(Decimal(1))
        self.funds = {"total": self.annual, "central": central, "provincial": self.annual - central,
                      "local": None, "self_raised": None, "other": None}

    def _indicators(self) -> None:
        from domain.indicators import effective_measure
        from importers import taxonomy
        from importers.values import parse_target
        from models.indicator import Indicator

        rng = self.rng
        by_name = {t[2]: t for t in SYNTH_INDICATORS}
        extra = [t for t in SYNTH_INDICATORS if t[2] not in SYNTH_REQUIRED]
        chosen = [by_name[n] for n in SYNTH_REQUIRED] + rng.sample(extra, rng.randint(10, 20) - len(SYNTH_REQUIRED))
        order = {t[2]: n for n, t in enumerate(SYNTH_INDICATORS)}
        chosen.sort(key=lambda t: order[t[2]])
        self.indicators = []
        for position, template in enumerate(chosen, start=1):
            level1, level2, level3, form, kind, _span = template
            raw = _synth_raw(template, rng, self.year, self.annual)
            target = parse_target(raw)
            period_raw = raw
            if kind in ("count", "wan") and self.term_years > 1:      # 实施期: the years' targets added up
                period_raw = form.format(v=format((target.value * self.term_years).normalize(), "f"))
            period = parse_target(period_raw)
            row = {"id": self.first_indicator_id + position - 1, "project_year_id": self.py_id, "position": position,
                   "level1": level1, "level1_std": taxonomy.standard_level1(level1)}
            for scope, t in (("period", period), ("annual", target)):
                row |= {f"{scope}_level2": level2, f"{scope}_level2_std": taxonomy.standard_level2(level2),
                        f"{scope}_level3": level3, f"{scope}_raw": t.raw, f"{scope}_kind": t.kind,
                        f"{scope}_op": t.op, f"{scope}_value": t.value, f"{scope}_unit": t.unit}
            row |= {"measure_override": None, "eval_weight": None, "eval_score": None, "retired_at": None}
            ind = Indicator(**row)
            self.indicators.append((row, ind, effective_measure(ind)))

    def form(self, department_name: str, department_code: str | None) -> dict:
        """The generated form as an importer hands it over (forms.schema.json), for storing it
        through services/importing.py instead of the bulk INSERTs (`flask demo seed`'s current year)."""
        from decimal import Decimal

        def number(value):
            return None if value is None else int(value) if value == value.to_integral_value() else float(value)

        row = self._py_row()
        indicators = []
        for ind_row, _ind, _measure in self.indicators:
            item = {"level1": ind_row["level1"]}
            for scope in ("period", "annual"):
                value = ind_row[f"{scope}_value"]
                item[scope] = {"level2": ind_row[f"{scope}_level2"], "level3": ind_row[f"{scope}_level3"],
                               "target": {"raw": ind_row[f"{scope}_raw"], "kind": ind_row[f"{scope}_kind"],
                                          "op": ind_row[f"{scope}_op"],
                                          "value": number(Decimal(value)) if value is not None else None,
                                          "unit": ind_row[f"{scope}_unit"]}}
            indicators.append(item)
        return {"year": self.year, "project_name": self.project.name, "department_code": department_code,
                "department_name": department_name, "implementing_unit": self.project.unit,
                "project_attribute": row["attribute"], "project_term": row["term"],
                "funds": {side: {source: number(row[f"{side}_{source}_yuan"])
                                 for source in ("total", "central", "provincial", "local", "self_raised", "other")}
                          for side in ("period", "annual")},
                **{name: row[name] for name in ("overview", "basis", "necessity", "measures", "plan", "goal_period",
                                                "goal_annual", "owner", "clerk", "phone")},
                "indicators": indicators, "filled_on": row["filled_on"].isoformat()}

    # the year's entries ----------------------------------------------------------------------

    def _entry_moments(self) -> dict[int, object]:
        """When each period's entries came in (UTC); a period not entered is left out."""
        from datetime import datetime, time, timedelta, timezone
        from zoneinfo import ZoneInfo

        from domain.calendar import YearCalendar

        rng, shanghai = self.rng, ZoneInfo("Asia/Shanghai")
        habit = rng.random()
        late_share = 0.35 if habit < 0.06 else 0.03           # a few units are often late
        stops_after = rng.randint(8, 11) if habit > 0.98 else 12   # a few stop reporting
        moments = {}
        cal = YearCalendar(self.year, self.periods)
        for month in cal.months:
            if month > stops_after:
                break
            end = cal.period_end(month)
            day = rng.randint(6, 15) if rng.random() < late_share else rng.randint(1, self.deadline_day)
            local = datetime.combine(end + timedelta(days=day), time(rng.randint(8, 18), rng.randint(0, 59)), shanghai)
            moment = local.astimezone(timezone.utc)
            if moment <= self.now:
                moments[month] = moment
        return moments

    def rows(self) -> dict[str, list[dict]]:
        from domain import project_year as core
        from domain.calendar import YearCalendar
        from domain.indicators import annual_target

        moments = self._entry_moments()
        out: dict[str, list[dict]] = {k: [] for k in ("project", "py", "pyi", "ind", "actual", "actual_change",
                                                      "spending", "spending_change", "alert")}
        out["py"].append(self._py_row())
        out["pyi"].append({"batch_id": self.batch_id, "project_year_id": self.py_id, "outcome": "new"})
        for row, ind, measure in self.indicators:
            out["ind"].append(row)
            series = self._actuals(ind, measure, annual_target(ind), moments)
            for month, actual in series.items():
                out["actual"].append(actual)
                out["actual_change"].append(self._change(row["id"], actual))
        spending = self._spending(moments)
        for month, row in spending.items():
            out["spending"].append(row)
            out["spending_change"].append({"project_year_id": self.py_id, "month": month, "old_amount_yuan": None,
                                           "new_amount_yuan": row["amount_yuan"], "changed_by": SYNTH_WHO,
                                           "changed_at": row["updated_at"]})
        entries = {row["id"]: {} for row, _i, _m in self.indicators}
        for actual in out["actual"]:
            entries[actual["indicator_id"]][actual["month"]] = core.Entry(actual["month"], actual["value"],
                                                                          actual["unit"], actual["assessment"])
        inputs = core.YearInputs(
            YearCalendar(self.year, self.periods, self.deadline_day),
            tuple(core.IndicatorInput(row["id"], row["level1_std"] or row["level1"], measure, annual_target(ind))
                  for row, ind, measure in self.indicators),
            entries, {m: r["amount_yuan"] for m, r in spending.items()}, self.annual, thresholds=self.bands)
        facts = core.derive(inputs)
        light_rows = core.light_summary_rows(self.py_id, facts)
        budget_rows = core.budget_summary_rows(self.py_id, facts)
        out["light_summary"], out["budget_summary"] = light_rows, budget_rows
        out["alert"] = self._alerts(facts, moments)
        return out

    def _py_row(self) -> dict:
        import hashlib
        from datetime import date

        form, p = self.form_rng, self.project
        owner = form.choice(SYNTH_SURNAMES) + form.choice(SYNTH_GIVEN)
        clerk = form.choice(SYNTH_SURNAMES) + form.choice(SYNTH_GIVEN)
        row = {"id": self.py_id, "project_id": self.project_id, "year": self.year, "department_id": self.department_id,
               "periods": self.periods, "attribute": "经常性项目" if self.term_years == 1 else "一次性项目",
               "term": f"{self.term_years}年",
               "overview": f"{p.name}由{p.unit}组织实施，用于保障{p.name[:-4] if len(p.name) > 6 else p.name}相关工作的开展。",
               "basis": "依据省委、省政府有关工作部署和部门职责。", "necessity": "为履行部门职责、完成年度重点任务所必需。",
               "measures": "严格执行财务管理制度和项目管理办法，实行专款专用。",
               "plan": "按季度推进，年底前完成全部年度任务。",
               "goal_period": f"在{self.term_years}年项目期内全面完成{p.name}各项任务。",
               "goal_annual": f"{self.year}年完成{p.name}年度各项任务，资金执行进度符合序时要求。",
               "owner": owner, "clerk": clerk, "phone": f"0351-{form.randint(2000000, 8999999)}",
               "filled_on": date(self.year - 1, form.randint(7, 10), form.randint(1, 28)),
               "form_sha256": hashlib.sha256(f"synth:{p.unit}:{p.name}:{self.year}".encode()).hexdigest(),
               "updated_at": self.now}
        for side, scale in (("period", self.term_years), ("annual", 1)):
            for source, value in self.funds.items():
                row[f"{side}_{source}_yuan"] = None if value is None else value * scale
        return row

    def _actuals(self, ind, measure: str, target, moments: dict) -> dict[int, dict]:
        """The indicator's entries, each judged by domain.rules as record_actual judges it."""
        from decimal import Decimal

        from domain import rules
        from models.actual import DEVIATION_REASONS

        rng = self.rng
        odds = SYNTH_INDICATOR_ODDS[self.state]
        profile = _draw(rng, odds)
        turn = rng.randint(4, 11) if rng.random() < 0.12 else 13     # some change course mid-year
        turned = _draw(rng, odds)
        base = {"good": rng.uniform(0.85, 1.3), "lag": rng.uniform(0.62, 0.78), "bad": rng.uniform(0.3, 0.56)}
        previous = Decimal(0)
        out = {}
        for month, moment in moments.items():
            if rng.random() < 0.006:
                continue                                  # a period someone forgot
            state = turned if month >= turn else profile
            f = rules.elapsed_share(month, self.periods)
            value = assessment = None
            if measure == rules.QUALITATIVE:
                assessment = {"good": rules.ACHIEVED if rng.random() > 0.04 else rules.PARTLY_ACHIEVED,
                              "lag": rules.PARTLY_ACHIEVED,
                              "bad": rules.NOT_ACHIEVED if rng.random() > 0.3 else rules.PARTLY_ACHIEVED}[state]
            else:
                value = self._value(measure, target, state, base, f, previous)
                previous = value if measure == rules.CUMULATIVE else previous
            judgement = rules.judge(measure, target, f=f, value=value, unit=target.unit, assessment=assessment,
                                    thresholds=self.bands)
            light = judgement.light
            reasons = [] if light == rules.GREEN else rng.sample(DEVIATION_REASONS, rng.choice((1, 1, 2)))
            out[month] = {
                "indicator_id": ind.id, "month": month, "value": value,
                "unit": target.unit if measure != rules.QUALITATIVE else None, "assessment": assessment,
                "forecast": (value / f).quantize(Decimal("0.01")) if measure == rules.CUMULATIVE and value else None,
                "forecast_assessment": assessment,          # a qualitative one expects to stay where it stands
                "deviation_reasons": reasons,
                "deviation_note": "受客观因素影响，进度有所滞后，正在加快推进。" if "其他" in reasons else None,
                "likelihood": {rules.GREEN: "确定能", rules.YELLOW: "有可能"}.get(light, rng.choice(("有可能", "完全不可能"))),
                "note": None, "completion": judgement.completion, "pace": judgement.pace, "light": light,
                "over_reason": ("年初目标按上年规模设定，本年实际成效明显提升。"
                                if rules.over_reason_required(target.op, judgement.completion, month, self.bands)
                                else None),
                "version": 1, "updated_by": SYNTH_WHO, "updated_at": moment}
        return out

    def _value(self, measure: str, target, state: str, base: dict, f, previous):
        from decimal import Decimal

        from domain import rules

        rng, t = self.rng, target.value
        whole = (target.unit or "") not in ("万人次", "亿元", "万元", "%", "小时")
        places = Decimal(1) if whole else Decimal("0.01")
        if measure == rules.CUMULATIVE:
            if target.op in ("<=", "<"):
                share = {"good": rng.uniform(0.72, 0.97), "lag": rng.uniform(1.02, 1.12), "bad": rng.uniform(1.2, 1.5)}[state]
            else:
                share = base[state] * rng.uniform(0.96, 1.04)
            value = (t * f * Decimal(str(share))).quantize(places)
            return max(value, previous)
        if target.op in ("<=", "<"):                       # a duration under a ceiling
            share = {"good": rng.uniform(0.5, 1.0), "lag": rng.uniform(1.01, 1.09), "bad": rng.uniform(1.12, 1.6)}[state]
        else:
            share = {"good": rng.uniform(1.0, 1.03), "lag": rng.uniform(0.905, 0.995), "bad": rng.uniform(0.7, 0.88)}[state]
        value = (t * Decimal(str(share))).quantize(Decimal("0.1"))
        if (target.unit or "") in ("%", "％"):
            value = min(value, Decimal(100))
            if state == "good" and value < t:
                value = t
        return value

    def _spending(self, moments: dict) -> dict[int, dict]:
        from decimal import Decimal

        from domain import rules

        rng = self.rng
        state = _draw(rng, SYNTH_BUDGET_ODDS[self.state])
        share = {"good": rng.uniform(0.85, 1.12), "lag": rng.uniform(0.63, 0.78), "bad": rng.uniform(0.3, 0.56)}[state]
        previous, out = Decimal(0), {}
        for month, moment in moments.items():
            if rng.random() < 0.004:
                continue
            f = rules.elapsed_share(month, self.periods)
            amount = min(self.annual, (self.annual * f * Decimal(str(share * rng.uniform(0.97, 1.03)))).quantize(Decimal(1)))
            amount = max(amount, previous)
            previous = amount
            out[month] = {"project_year_id": self.py_id, "month": month, "amount_yuan": amount,
                          "execution_rate": rules.execution_rate(amount, self.annual),
                          "pace": rules.budget_pace(amount, self.annual, f),
                          "light": rules.budget_light(amount, self.annual, f, self.bands),
                          "version": 1, "updated_by": SYNTH_WHO, "updated_at": moment}
        return out

    def _change(self, indicator_id: int, actual: dict) -> dict:
        from services.entry import _plain

        snapshot = {"value": _plain(actual["value"]), "unit": actual["unit"], "assessment": actual["assessment"],
                    "forecast": actual["forecast_assessment"] or _plain(actual["forecast"]),
                    "deviation_reasons": actual["deviation_reasons"], "deviation_note": actual["deviation_note"],
                    "likelihood": actual["likelihood"], "note": actual["note"], "over_reason": actual["over_reason"],
                    "light": actual["light"]}
        return {"indicator_id": indicator_id, "month": actual["month"], "changed_by": SYNTH_WHO,
                "changed_at": actual["updated_at"], "old": None, "new": snapshot}

    def _alerts(self, facts, moments: dict) -> list[dict]:
        """The alert history the product would have written, replayed in time order through
        services/alerts.py: each period's entries as they came in (an entry brings the alerts
        in line as of its day), each morning the reminder cycle ran on a day the calendar moved
        on (a month ended, a deadline passed), and once more now. `facts`: the year judged
        with every entry, of which the core reads the year as known at each moment."""
        from types import SimpleNamespace

        from domain import project_year as core
        from services import alerts

        runs = _cycle_runs(facts.calendar, alerts.local_date(self.now, {}))
        events = sorted([(moment, 1, month) for month, moment in moments.items()]
                        + [(run, 0, 0) for run in runs if run <= self.now] + [(self.now, 0, 0)])
        made, standing, through = [], [], 0
        for moment, _is_entry, month in events:
            through = max(through, month)          # the periods whose entries are in
            due = core.open_alerts(core.entered_through(facts, through), alerts.local_date(moment, {}))
            new = alerts.carry_out(alerts.reconcile({self.py_id: standing}, {self.py_id: due}), moment,
                                   SimpleNamespace)
            made += new
            standing = [row for row in standing + new if row.closed_at is None]
        return [vars(row) for row in made]


@functools.lru_cache(maxsize=16)
def _cycle_runs(cal, until) -> tuple:
    """The mornings (09:00 Asia/Shanghai, as UTC) up to the day `until` on which the daily
    reminder cycle finds the calendar moved on: a period ended, or its entry deadline passed.
    After the last deadline of the year nothing moves."""
    from datetime import datetime, time, timedelta, timezone
    from zoneinfo import ZoneInfo

    runs, day, last = [], date(cal.year, 1, 1), None
    end = min(until, cal.deadline(12) + timedelta(days=1))
    while day <= end:
        moment = cal.moment(day)
        if moment != last:
            runs.append(datetime.combine(day, time(9), ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc))
            last = moment
        day += timedelta(days=1)
    return tuple(runs)
