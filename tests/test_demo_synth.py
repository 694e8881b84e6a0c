"""`flask demo synth`: realistic synthetic data, the same for the same seed, with the lights,
alerts and summaries the real rules would have produced (commands/demo.py)."""
from __future__ import annotations

import random
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from conftest import make_app
from dbs import drop_database

LATER = datetime(2024, 3, 1, 2, 0, tzinfo=timezone.utc)     # the year 2023 is over: every month is in


def synth(tmp_path, name: str, *args: str):
    (tmp_path / name).mkdir()
    app = make_app(tmp_path / name, CLOCK=lambda: LATER)
    result = app.test_cli_runner().invoke(args=["demo", "synth", *args])
    assert result.exit_code == 0, result.output
    return app, result.output


def dispose(app) -> None:
    app.extensions["engine"].dispose()
    drop_database(app.config["DATABASE_URL"])


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Twenty projects of 2023, seed 5 (generated once for the module's read-only tests)."""
    app, output = synth(tmp_path_factory.mktemp("synth"), "a", "--projects", "20", "--year", "2023", "--seed", "5")
    yield app, output
    dispose(app)


@pytest.fixture
def synthesize(tmp_path):
    """`synth` for one test, its databases dropped afterwards."""
    made_here = []

    def run(name: str, *args: str):
        app, output = synth(tmp_path, name, *args)
        made_here.append(app)
        return app, output
    yield run
    for app in made_here:
        dispose(app)


def content(app) -> dict:
    """Everything the data says, without the ids the database happened to give."""
    from models import (Actual, Alert, Department, Indicator, Project, ProjectYear, Spending, Unit)
    with Session(app.extensions["engine"]) as s:
        names = {p.id: (p.name, s.get(Unit, p.unit_id).name) for p in s.exec(select(Project))}
        pys = {py.id: names[py.project_id] for py in s.exec(select(ProjectYear))}
        inds = {i.id: (pys[i.project_year_id], i.annual_level3) for i in s.exec(select(Indicator))}
        return {
            "departments": sorted((d.name, d.code) for d in s.exec(select(Department))),
            "units": sorted(u.name for u in s.exec(select(Unit))),
            "years": sorted((pys[py.id], py.annual_total_yuan, py.periods, py.owner) for py in s.exec(select(ProjectYear))),
            "indicators": sorted((inds[i.id], i.annual_raw, i.period_raw, i.level1) for i in s.exec(select(Indicator))),
            "actuals": sorted((inds[a.indicator_id], a.month, a.value, a.assessment, a.light, a.updated_at)
                              for a in s.exec(select(Actual))),
            "spending": sorted((pys[x.project_year_id], x.month, x.amount_yuan, x.light) for x in s.exec(select(Spending))),
            "alerts": sorted((pys[a.project_year_id], inds[a.indicator_id] if a.indicator_id else (("", ""), "预算"), a.kind, a.month,
                              a.light, a.opened_at, a.closed_at) for a in s.exec(select(Alert))),
        }


def test_it_prints_what_it_made(made):
    _app, output = made
    assert "主管部门 1 个，实施单位 2 个，项目 20 个" in output
    assert "用时" in output and "实际值" in output and "预警" in output


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(made, synthesize):
    app, _ = made
    again, _ = synthesize("b", "--projects", "20", "--year", "2023", "--seed", "5")
    other, _ = synthesize("c", "--projects", "20", "--year", "2023", "--seed", "6")
    first = content(app)
    assert content(again) == first
    assert content(other)["indicators"] != first["indicators"]
    assert len(first["years"]) == 20 and len(first["units"]) == 2


def test_projects_carry_indicators_of_every_kind(made):
    from importers.values import parse_target
    app, _ = made
    data = content(app)
    per_project: dict = {}
    for (project, _level3), raw, _period_raw, _level1 in data["indicators"]:
        per_project.setdefault(project, []).append(parse_target(raw))
    for project, targets in per_project.items():
        assert 10 <= len(targets) <= 20, project
        units = {t.unit for t in targets}
        assert {"%", "万元"} <= units and units & {"万人次", "亿元"}, project
        assert any(t.op == ">=" and t.unit not in ("%",) for t in targets)             # counts ≥
        assert any(t.op == "<=" and t.unit == "万元" for t in targets)                  # costs ≤ 万元
        assert any(t.kind == "qualitative" and not t.is_date for t in targets)        # 保障, 按时 …
        assert any(t.is_date for t in targets)                                         # a date target
    names = [name for name, _code in data["departments"]]
    assert all(name.startswith("山西省") and name.endswith(("厅", "局", "委员会")) for name in names)


def test_stored_lights_are_what_the_rules_give(made):
    """A sample of actuals and spending judged again by domain.rules, as record_actual does."""
    from models import Actual, Indicator, ProjectYear, Spending
    from domain import rules
    from domain.indicators import annual_target, effective_measure
    app, _ = made
    with Session(app.extensions["engine"]) as s:
        actuals = s.exec(select(Actual)).all()
        for actual in random.Random(1).sample(actuals, 300):
            ind = s.get(Indicator, actual.indicator_id)
            py = s.get(ProjectYear, ind.project_year_id)
            judged = rules.judge(effective_measure(ind), annual_target(ind), f=rules.elapsed_share(actual.month, py.periods),
                                 value=actual.value, unit=actual.unit, assessment=actual.assessment)
            assert actual.light == judged.light
            for stored, exact in ((actual.completion, judged.completion), (actual.pace, judged.pace)):
                assert (stored is None) == (exact is None) and (exact is None or abs(stored - exact) < Decimal("1e-9"))
            assert bool(actual.deviation_reasons) == (actual.light != "green")
        for row in s.exec(select(Spending)).all():
            py = s.get(ProjectYear, row.project_year_id)
            f = rules.elapsed_share(row.month, py.periods)
            assert row.light == rules.budget_light(row.amount_yuan, py.annual_total_yuan, f)
        lights = [a.light for a in actuals]
    share = {light: lights.count(light) / len(lights) for light in ("green", "yellow", "red")}
    assert share["green"] > 0.7 and 0.03 < share["yellow"] < 0.25 and 0 < share["red"] < 0.1


def test_alerts_are_those_the_entries_would_have_left_open(made):
    """The year replayed through services/alerts.py (each entry, each reminder cycle) leaves what
    the core says should stand now: an open light alert exactly when the latest entry is yellow
    or red, with that light; an open overdue alert only while the latest due period is missing;
    an open over alert (blue) exactly when the latest entry is 超额; and a history of alerts opened and closed as the year went."""
    from domain import rules
    from models import Actual, Alert, Indicator, ProjectYear, Spending
    app, _ = made
    with Session(app.extensions["engine"]) as s:
        open_alerts = s.exec(select(Alert).where(Alert.closed_at.is_(None))).all()
        light_open = {(a.project_year_id, a.indicator_id): a.light for a in open_alerts if a.kind == "light"}
        overdue_open = {(a.project_year_id, a.indicator_id) for a in open_alerts if a.kind == "overdue"}
        over_open = {(a.project_year_id, a.indicator_id) for a in open_alerts if a.kind == "over" and a.light == "blue"}
        assert len(light_open) + len(overdue_open) + len(over_open) == len(open_alerts)     # at most one of each kind
        assert over_open
        for ind in s.exec(select(Indicator)).all():
            latest = s.exec(select(Actual).where(Actual.indicator_id == ind.id).order_by(Actual.month.desc())).first()
            key = (ind.project_year_id, ind.id)
            expected = latest.light if latest and latest.light in ("yellow", "red") else None
            assert light_open.get(key) == expected, ind.annual_level3
            over = latest is not None and latest.light != "grey" and \
                rules.is_over(ind.annual_op, latest.completion, latest.pace)
            assert (key in over_open) == over, ind.annual_level3
            py = s.get(ProjectYear, ind.project_year_id)
            last_period = 12
            assert (key in overdue_open) == (latest is None or latest.month < last_period), ind.annual_level3
        for py in s.exec(select(ProjectYear)).all():
            latest = s.exec(select(Spending).where(Spending.project_year_id == py.id)
                            .order_by(Spending.month.desc())).first()
            expected = latest.light if latest and latest.light in ("yellow", "red") else None
            assert light_open.get((py.id, None)) == expected
        closed = s.exec(select(Alert).where(Alert.closed_at.is_not(None))).all()
        assert closed and all(a.closed_at >= a.opened_at for a in closed)
        assert {a.kind for a in closed} == {"light", "overdue", "over"}


def test_the_summaries_written_in_bulk_equal_a_rebuild(made):
    from models.summary import BudgetSummary, LightSummary
    from services.summaries import rebuild_all_summaries
    app, _ = made

    def state():
        with Session(app.extensions["engine"]) as s:
            return (sorted(tuple(r.model_dump().values()) for r in s.exec(select(LightSummary))),
                    sorted(tuple(r.model_dump().values()) for r in s.exec(select(BudgetSummary))))

    written = state()
    assert written[0] and written[1]
    with Session(app.extensions["engine"]) as s:
        rebuild_all_summaries(s)
        s.flush()
        rebuilt = (sorted(tuple(r.model_dump().values()) for r in s.exec(select(LightSummary))),
                   sorted(tuple(r.model_dump().values()) for r in s.exec(select(BudgetSummary))))
        s.rollback()
    assert rebuilt == written


def test_the_overview_reads_the_synthetic_year(made):
    from reads.overview import overview
    from reads.report_filters import AsOf, ReportFilters
    from models.user import User
    app, _ = made
    with Session(app.extensions["engine"]) as s:
        admin = User(username="x", role="admin", password_hash="-", created_at=LATER)
        rep = overview(s, admin, ReportFilters(year=2023), AsOf.of(2023, date(2024, 3, 1), {}))
    assert rep.totals.projects == 20 and len(rep.departments) == 1 and len(rep.departments[0].units) == 2
    c = rep.totals.counts
    assert c.indicators == c.green + c.yellow + c.red + c.grey and c.green > c.yellow > c.red
    assert rep.totals.budget.execution_rate is not None


def test_running_it_again_adds_nothing_and_another_year_reuses_the_projects(synthesize):
    app, _ = synthesize("d", "--projects", "20", "--year", "2023", "--seed", "5")
    result = app.test_cli_runner().invoke(args=["demo", "synth", "--projects", "20", "--year", "2023", "--seed", "5"])
    assert "项目 0 个（已存在而跳过 20 个）" in result.output
    result = app.test_cli_runner().invoke(args=["demo", "synth", "--projects", "20", "--year", "2022", "--seed", "5"])
    assert result.exit_code == 0 and "项目 20 个" in result.output
    from models import Project, ProjectYear
    with Session(app.extensions["engine"]) as s:
        assert len(s.exec(select(Project)).all()) == 20
        assert len(s.exec(select(ProjectYear)).all()) == 40


def test_what_comes_after_it_gets_fresh_ids(synthesize):
    """Synth writes its own ids in bulk; an import afterwards (PostgreSQL: from the sequences)
    must not collide with them."""
    from conftest import seed_forms, store_forms
    from models import Indicator, Project, ProjectYear
    app, _ = synthesize("e", "--projects", "12", "--year", "2023", "--seed", "3")
    store_forms(app, seed_forms())
    with Session(app.extensions["engine"]) as s:
        assert len(s.exec(select(Project)).all()) == 15
        assert len(s.exec(select(ProjectYear)).all()) == 15
        assert len({i.id for i in s.exec(select(Indicator)).all()}) == len(s.exec(select(Indicator)).all())


@pytest.mark.parametrize("as_of", [date(2023, 1, 20), date(2023, 3, 3), date(2023, 7, 31), date(2023, 8, 6),
                                   date(2023, 12, 31)])
def test_the_overview_and_the_project_page_agree_on_every_light(made, as_of):
    """Two readers of the same rule: the summary tables (overview) and indicator_states (project
    page, API). For every synthetic project they must count the same lights on any date."""
    from collections import Counter

    from models import ProjectYear, User
    from reads.project_year import budget_state, indicator_states
    from reads.overview import project_lines
    from reads.report_filters import AsOf, ReportFilters
    app, _ = made
    admin = User(username="x", role="admin", password_hash="", created_at=LATER)
    with app.app_context(), Session(app.extensions["engine"]) as s:
        moment = AsOf.of(2023, as_of, app.config)
        lines = {line.project_year_id: line for line in project_lines(s, admin, ReportFilters(year=2023), moment)}
        years = s.exec(select(ProjectYear).where(ProjectYear.year == 2023)).all()
        assert len(lines) == len(years) == 20
        for py in years:
            page = Counter(state.light for state in indicator_states(s, py, as_of))
            counts = lines[py.id].counts
            assert (counts.green, counts.yellow, counts.red, counts.grey) == \
                (page["green"], page["yellow"], page["red"], page["grey"]), (py.id, as_of)
            assert lines[py.id].budget_light == budget_state(s, py, as_of).light, (py.id, as_of)
