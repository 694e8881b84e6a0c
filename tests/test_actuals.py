"""Recording actuals and spending: stored results, history, conflicts, alerts (DOMAIN.md §3–§6)."""
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from importers import parse_file
from models import ActualChange, Alert, Indicator, ProjectYear
from models.actual import ActualInput, EntryError, StaleEdit
from services.entry import Context, record_actual, record_spending
from reads.project_year import budget_state, indicator_states
from models.db import get_session, transaction
from services.importing import apply_import

SEED = Path(__file__).parent / "fixtures" / "seed_forms.pdf"
NOW = datetime(2023, 8, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def session(app):
    with app.app_context():
        s = get_session()
        with transaction(s):
            apply_import(s, parse_file(SEED).forms, file_name="seed.pdf", file_sha256="0" * 64, who="测试", now=NOW,
                         reorganise=True)
        yield s


def project(session, name="招商引资专项经费"):
    from models import Project
    return session.exec(select(ProjectYear).join(Project, Project.id == ProjectYear.project_id)
                        .where(Project.name == name)).one()


def indicator(session, py, level3):
    return session.exec(select(Indicator).where(Indicator.project_year_id == py.id,
                                                Indicator.annual_level3 == level3)).one()


def enter(session, py, level3, month=7, who="填报人甲", **data):
    with transaction(session):
        return record_actual(session, indicator(session, py, level3), py, 2023, month, ActualInput(**data),
                             Context(who, NOW))


def test_the_worked_example_is_stored_with_its_lights(session):
    py = project(session)
    reasons = {"deviation_reasons": ["其他"]}
    cases = [("参展企业数量", {"value": 35}, "green", "0.857"),
             ("参展面积", {"value": 200, **reasons}, "yellow", "0.686"),
             ("业务成本", {"value": 2500, "unit": "万元", **reasons}, "yellow", None),
             ("投资者满意度", {"value": 93, **reasons}, "yellow", None),
             ("签约项目到位资金", {"value": 300, "unit": "亿元", **reasons}, "yellow", "0.643")]
    for level3, data, light, pace in cases:
        actual = enter(session, py, level3, **data)
        assert actual.light == light, level3
        if pace:
            assert round(actual.pace, 3) == Decimal(pace)
    assert round(enter(session, py, "投资者满意度", value=93, deviation_reasons=["其他"]).completion, 3) == Decimal("0.979")
    with transaction(session):
        spent = record_spending(session, py, 2023, 7, 15_000_000, Context("填报人甲", NOW))
    assert spent.light == "yellow" and round(spent.pace, 3) == Decimal("0.695")


def test_cost_entered_in_yuan_is_the_same_as_in_wan_yuan(session):
    py = project(session)
    a = enter(session, py, "业务成本", value=25_000_000, unit="元", deviation_reasons=["经费保障"])
    assert a.light == "yellow"


def test_a_reason_is_required_when_not_green_and_nothing_is_stored_without_it(session):
    py = project(session)
    with pytest.raises(EntryError, match="偏差原因"):
        enter(session, py, "参展面积", value=200)
    assert session.exec(select(ActualChange)).all() == []


@pytest.mark.parametrize("data,message", [
    ({"value": -1}, "负数"),
    ({"value": 35, "unit": "人次"}, "不是同一种单位"),
    ({}, "请填写实际值"),
])
def test_bad_values_are_refused_in_chinese(session, data, message):
    with pytest.raises(EntryError, match=message):
        enter(session, project(session), "参展企业数量", **data)


def test_letters_and_nan_are_not_numbers():
    for bad in ("abc", "NaN", "inf", "1e3"):
        with pytest.raises(ValueError):
            ActualInput(value=bad)


def test_the_input_model_takes_a_forecast_of_the_indicators_kind():
    """全年预计 (DOMAIN.md §3): an assessment for a qualitative indicator, a number for any other."""
    from pydantic import ValidationError
    qualitative, cumulative = {"measure": "qualitative"}, {"measure": "cumulative"}
    assert ActualInput.model_validate({"forecast": " 部分达成 "}, context=qualitative).forecast == "部分达成"
    assert ActualInput.model_validate({"forecast": "1,200"}, context=cumulative).forecast == Decimal(1200)
    assert ActualInput.model_validate({"forecast": ""}, context=qualitative).forecast is None
    for raw, context, message in (("90", qualitative, "定性指标的全年预计应为：达成、部分达成、未达成"),
                                  (90, qualitative, "定性指标的全年预计应为：达成、部分达成、未达成"),
                                  ("基本达成", qualitative, "定性指标的全年预计应为：达成、部分达成、未达成"),
                                  ("达成", cumulative, "“达成”只用于定性指标，本指标的全年预计应为数字")):
        with pytest.raises(ValidationError, match=message):
            ActualInput.model_validate({"forecast": raw}, context=context)
    assert ActualInput(forecast="未达成").forecast == "未达成"      # the indicator not known yet: checked on entry


def test_an_entry_keeps_a_forecast_of_its_kind_only(session):
    service = project(session, "招商引资业务经费")
    actual = enter(session, service, "保障招商活动开展", assessment="达成", forecast="部分达成")
    assert (actual.forecast_assessment, actual.forecast) == ("部分达成", None)
    with pytest.raises(EntryError, match="定性指标的全年预计应为"):
        enter(session, service, "保障招商活动开展", assessment="达成", forecast=90, version=1)
    with pytest.raises(EntryError, match="只用于定性指标"):
        enter(session, project(session), "参展企业数量", value=35, forecast="达成")
    actual = enter(session, project(session), "参展企业数量", value=35, forecast=70)
    assert (actual.forecast, actual.forecast_assessment) == (Decimal(70), None)


def test_periods_outside_the_year_or_the_quarter_are_refused(session):
    py = project(session)
    ind = indicator(session, py, "参展企业数量")
    for year, month, message in ((2023, 13, "月份"), (2024, 1, "不在项目的 2023 年度内")):
        with pytest.raises(EntryError, match=message):
            record_actual(session, ind, py, year, month, ActualInput(value=1), Context("x", NOW))
    py.periods = "quarterly"
    with pytest.raises(EntryError, match="按季度"):
        record_actual(session, ind, py, 2023, 7, ActualInput(value=1), Context("x", NOW))


def test_qualitative_indicators_take_an_assessment(session):
    py = project(session, "招商引资业务经费")
    assert enter(session, py, "保障招商活动开展", assessment="达成").light == "green"
    with pytest.raises(EntryError, match="完成情况"):
        enter(session, py, "保障招商活动开展", assessment="还行")


def test_every_change_is_kept_and_a_stale_edit_is_refused(session):
    py = project(session)
    first = enter(session, py, "参展企业数量", value=35, who="甲")
    second = enter(session, py, "参展企业数量", value=40, who="乙", version=first.version)
    assert second.version == 2
    with pytest.raises(StaleEdit, match="乙"):
        enter(session, py, "参展企业数量", value=41, who="丙", version=1)
    changes = session.exec(select(ActualChange).order_by(ActualChange.id)).all()
    assert [(c.changed_by, (c.old or {}).get("value"), c.new["value"]) for c in changes] == [("甲", None, 35), ("乙", 35, 40)]


def open_alerts_of(session, py, level3) -> list[tuple]:
    ind = indicator(session, py, level3)
    return [(a.kind, a.light, a.month)
            for a in session.exec(select(Alert).where(Alert.indicator_id == ind.id, Alert.closed_at.is_(None)))]


def test_alerts_open_on_yellow_and_close_on_green(session):
    py = project(session)
    assert open_alerts_of(session, py, "参展面积") == [("overdue", "grey", 6)]    # imported on 1 August: June is missing
    enter(session, py, "参展面积", value=200, deviation_reasons=["其他"])
    assert open_alerts_of(session, py, "参展面积") == [("light", "yellow", 7)]    # July's entry is the one judged
    enter(session, py, "参展面积", value=300)            # p = 300 / (500 · 7/12) = 1.03: green, not 超额
    assert open_alerts_of(session, py, "参展面积") == []
    enter(session, py, "参展面积", value=500)            # the year's target by July: p = 1.71, 超额 (DOMAIN §8)
    assert open_alerts_of(session, py, "参展面积") == [("over", "blue", 7)]
    assert ("overdue", "grey", 6) in open_alerts_of(session, py, "参展企业数量")  # the entry synced its project year


def test_overdue_alerts_after_the_deadline_close_when_the_actual_arrives(session):
    from services.alerts import sync
    py = project(session, "网络运行维护费")       # nothing entered all year
    # imported on 1 August: July is not due before the 5th, so June is overdue for six indicators and the budget
    assert {a.month for a in open_overdue(session, py)} == {6} and len(open_overdue(session, py)) == 7
    with transaction(session):
        assert sync(session, [py.id], date(2023, 8, 5), NOW, {}) == 0    # July still in time
    assert {a.month for a in open_overdue(session, py)} == {6}
    with transaction(session):
        assert sync(session, [py.id], date(2023, 8, 6), NOW, {}) == 0    # the same alerts, now for July
    assert {a.month for a in open_overdue(session, py)} == {7} and len(open_overdue(session, py)) == 7
    with transaction(session):
        assert sync(session, [py.id], date(2023, 8, 7), NOW, {}) == 0    # idempotent
    enter(session, py, "官方网站更新消息数量", value=120)     # ≥200条: on pace (p = 1.03), not 超额
    with transaction(session):
        sync(session, [py.id], date(2023, 8, 7), NOW, {})
    assert len(open_overdue(session, py)) == 6      # five indicators and the budget
    assert len(session.exec(select(Alert).where(Alert.project_year_id == py.id)).all()) == 7    # moved on, none anew


def open_overdue(session, py) -> list[Alert]:
    return session.exec(select(Alert).where(Alert.project_year_id == py.id, Alert.closed_at.is_(None),
                                            Alert.kind == "overdue")).all()


def test_state_as_of_a_date_is_grey_past_the_deadline_without_an_actual(session):
    py = project(session)
    enter(session, py, "参展企业数量", month=6, value=30)
    states = {s.indicator.annual_level3: s for s in indicator_states(session, py, date(2023, 7, 20))}
    assert states["参展企业数量"].light == "green" and states["参展面积"].light == "grey"
    states = {s.indicator.annual_level3: s for s in indicator_states(session, py, date(2023, 8, 3))}
    assert states["参展企业数量"].light == "green"      # July is not due before 5 August
    states = {s.indicator.annual_level3: s for s in indicator_states(session, py, date(2023, 8, 6))}
    assert states["参展企业数量"].light == "grey"       # July's actual is missing past its deadline
    assert budget_state(session, py, date(2023, 8, 6)).light == "grey"


def test_evaluation_scores_and_qualitative_band(session):
    from reads.self_evaluation import project_evaluation
    from services.self_evaluation import set_evaluator_score
    py = project(session, "招商引资业务经费")
    for level3, data in (("会议服务次数", {"value": 100}), ("保障招商活动开展", {"assessment": "部分达成", "deviation_reasons": ["其他"]}),
                         ("项目按时完成", {"assessment": "达成"}), ("成本指标", {"value": 70, "unit": "万元"}),
                         ("对我省招商引资的作用", {"assessment": "达成"}), ("服务投诉率", {"value": 5}),
                         ("服务对象满意度", {"value": 90})):
        enter(session, py, level3, month=12, **data)
    with transaction(session):
        record_spending(session, py, 2023, 12, 771_100, Context("x", NOW))
    result = project_evaluation(session, py, date(2024, 1, 10))
    # 产出 50 over 4 indicators (12.5 each): 部分达成 is suggested at its band's middle, 70 % = 8.75, and
    # 达成 at 90 % = 11.25; 效益's 达成 at 90 % of 15 = 13.5; the rest full
    assert result.levels == {"产出指标": 50, "效益指标": 30, "满意度指标": 10}
    assert result.budget_score == 10 and result.total == Decimal("93.5") and result.grade == "优"
    assert [s.score for s in result.suggested] == [Decimal("8.75"), Decimal("11.25"), Decimal("13.5")]
    ind = indicator(session, py, "保障招商活动开展")
    with pytest.raises(EntryError, match="部分达成"):
        set_evaluator_score(session, py, ind, 11, date(2024, 1, 10))   # 88 % of 12.5: outside 60–80 %
    with pytest.raises(EntryError, match="不含10.00分"):
        set_evaluator_score(session, py, ind, 10, date(2024, 1, 10))   # 80 %: the excluded upper edge
    with transaction(session):
        set_evaluator_score(session, py, ind, 8, date(2024, 1, 10))
    assert project_evaluation(session, py, date(2024, 1, 10)).total == Decimal("92.75")


def test_an_entry_tells_the_sessions_object_of_its_row_what_it_stored(session):
    """An entry writes its row with its own statements, not through the session: an object of
    that row the session already holds shows the stored values afterwards, with nothing left
    to flush, and a fresh read agrees."""
    from models import Actual
    py = project(session)
    first = enter(session, py, "参展企业数量", value=35)
    held = session.get(Actual, first.id)
    assert (held.value, held.version) == (Decimal("35"), 1)
    again = enter(session, py, "参展企业数量", value=40, version=1, note="更正")
    assert (again.id, again.version) == (first.id, 2)
    assert (held.value, held.version, held.note, held.light) == (Decimal("40"), 2, "更正", again.light)
    assert not session.dirty
    session.expire_all()
    stored = session.get(Actual, first.id)
    assert (stored.value, stored.version, stored.note) == (Decimal("40"), 2, "更正")


def test_two_first_entries_of_one_period_at_once_leave_one_and_tell_the_other(session, monkeypatch):
    """The unique key of a period's row lets one first entry in; the other, which found no row
    under its lock because the first had not committed yet, is told as for a stale edit, and
    nothing of it is stored."""
    import services.entry as entry
    py = project(session)
    enter(session, py, "参展企业数量", value=35)
    ind = indicator(session, py, "参展企业数量")
    changes = len(session.exec(select(ActualChange).where(ActualChange.indicator_id == ind.id)).all())
    monkeypatch.setattr(entry, "locked_rows", lambda *args, **kwargs: [])    # what the second writer saw
    with pytest.raises(StaleEdit):
        with transaction(session):
            record_actual(session, ind, py, 2023, 7, ActualInput(value=50), Context("填报人乙", NOW))
    monkeypatch.undo()
    session.expire_all()
    stored = session.exec(select(entry.Actual).where(entry.Actual.indicator_id == ind.id)).all()
    assert [(a.month, a.value, a.updated_by) for a in stored] == [(7, Decimal("35"), "填报人甲")]
    assert len(session.exec(select(ActualChange).where(ActualChange.indicator_id == ind.id)).all()) == changes
