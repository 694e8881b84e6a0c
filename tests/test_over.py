"""超额 (DOMAIN.md §8, issue 13.4): a `>=` indicator far ahead of its target or of the year's
pace is marked 超额, in blue beside its light, which stays green; the entry of the year's last
period at r >= 1.3 (configurable) needs a reason, through the API and on the page; every page
and export that shows an indicator's light shows the mark beside it."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from conftest import csrf_token, signed_in, text_of
from test_api import Api, year_of

SPECIAL = "招商引资专项经费"
FIRMS = "参展企业数量"              # ≥70家
REASON = "目标按上年规模设定偏低，本年展会扩大"


@pytest.fixture
def api(seeded, personas):
    return Api(seeded, personas.manager_a)


def annual(project: dict, indicator_id: int) -> dict:
    return next(i for i in project["indicators"] if i["id"] == indicator_id and i["scope"] == "annual")


# --------------------------------------------------------------------------- the API

def test_100_firms_against_70_in_july_is_over_and_stays_green(seeded, api):
    py, ids = year_of(seeded, SPECIAL)
    answer = api.put(f"/indicators/{ids[FIRMS]}/actuals/2023-07", {"value": 100, "unit": "家"})
    assert answer.status_code == 200
    ind = answer.get_json()
    assert ind["over"] is True and ind["light"] == "green"
    assert round(ind["completion"], 4) == 1.4286
    shown = annual(api.get(f"/projects/{py}", as_of="2023-08-06").get_json(), ids[FIRMS])
    assert shown["over"] is True and shown["light"] == "green"
    # 45 in July is on pace (p = 1.10) but not 超额
    assert api.put(f"/indicators/{ids[FIRMS]}/actuals/2023-07", {"value": 45, "version": 1}).get_json()["over"] is False


def test_the_years_last_entry_at_130_percent_needs_a_reason(seeded, api):
    py, ids = year_of(seeded, SPECIAL)
    url = f"/indicators/{ids[FIRMS]}/actuals/2023-12"
    refused = api.put(url, {"value": 100, "unit": "家"})
    assert refused.status_code == 422
    assert refused.get_json() == {"error": "年度最后一期完成率为142.86%，达到130%以上（超额），请填写超额原因"
                                           "（如目标设定偏低，或实际成效提升）", "field": "over_reason"}
    assert annual(api.get(f"/projects/{py}", as_of="2024-01-31").get_json(), ids[FIRMS])["actual"] is None
    assert api.put(url, {"value": 100, "over_reason": "  "}).status_code == 422        # blank is no reason
    accepted = api.put(url, {"value": 100, "unit": "家", "over_reason": REASON})
    assert accepted.status_code == 200
    ind = accepted.get_json()
    assert ind["over"] is True and ind["light"] == "green" and ind["actual"]["over_reason"] == REASON


@pytest.mark.parametrize("period, value", [("2023-11", 100), ("2023-12", 90)])
def test_before_the_last_period_or_below_130_percent_no_reason_is_asked(seeded, api, period, value):
    _py, ids = year_of(seeded, SPECIAL)
    answer = api.put(f"/indicators/{ids[FIRMS]}/actuals/{period}", {"value": value})
    assert answer.status_code == 200 and answer.get_json()["over"] is True      # 90/70 = 1.29: still 超额


def test_the_reason_threshold_is_a_setting(seeded, api):
    seeded.config["OVER_BANDS"] = {"mark": 1.2, "reason": 1.5}
    _py, ids = year_of(seeded, SPECIAL)
    assert api.put(f"/indicators/{ids[FIRMS]}/actuals/2023-12", {"value": 100}).status_code == 200
    assert api.put(f"/indicators/{ids[FIRMS]}/actuals/2023-12", {"value": 110, "version": 1}).status_code == 422


def test_a_ceiling_or_a_qualitative_indicator_is_never_over(seeded, api):
    _py, ids = year_of(seeded, SPECIAL)
    cost = api.put(f"/indicators/{ids['业务成本']}/actuals/2023-12", {"value": 1000, "unit": "万元"})
    assert cost.status_code == 200 and cost.get_json()["over"] is False


# --------------------------------------------------------------------------- the project page

NOW = datetime(2024, 1, 3, 2, 0, tzinfo=timezone.utc)


def page_post(client, project: int, indicator: int, **data):
    token = csrf_token(client, f"/projects/{project}?year=2023&period=2023-12")
    return client.post(f"/indicators/{indicator}/actual", headers={"HX-Request": "true"},
                       data={"csrf_token": token, "period": "2023-12", "version": "0", **data})


def test_the_page_form_asks_for_the_reason_and_shows_the_blue_mark(seeded, personas):
    seeded.config["CLOCK"] = lambda: NOW
    _py, ids = year_of(seeded, SPECIAL)
    clerk = signed_in(seeded, personas.manager_a)
    page = clerk.get(f"/projects/{personas.project_a}?year=2023&period=2023-12").get_data(as_text=True)
    assert f'id="f{ids[FIRMS]}-over_reason"' in page and "全年完成率达130%及以上时必填" in page
    refused = page_post(clerk, personas.project_a, ids[FIRMS], value="100", unit="家")
    assert refused.status_code == 422
    row = refused.get_data(as_text=True)
    assert "请填写超额原因" in row and 'aria-invalid="true" aria-describedby="f%d-over_reason-error"' % ids[FIRMS] in row
    saved = page_post(clerk, personas.project_a, ids[FIRMS], value="100", unit="家", over_reason=REASON)
    assert saved.status_code == 200
    text = text_of(saved.get_data(as_text=True))
    assert "绿 超额" in text and f'value="{REASON}"' in saved.get_data(as_text=True)
    assert 'class="over-mark"' in saved.get_data(as_text=True)
    # a reader sees the mark and the reason
    reader = signed_in(seeded, personas.supervisor_a).get(f"/projects/{personas.project_a}?year=2023&period=2023-12")
    assert f"超额原因：{REASON}" in text_of(reader.get_data(as_text=True))


def test_the_page_asks_nothing_of_months_before_december(seeded, personas):
    seeded.config["CLOCK"] = lambda: NOW
    _py, ids = year_of(seeded, SPECIAL)
    clerk = signed_in(seeded, personas.manager_a)
    page = clerk.get(f"/projects/{personas.project_a}?year=2023&period=2023-11").get_data(as_text=True)
    assert f'id="f{ids[FIRMS]}-over_reason"' not in page


# --------------------------------------------------------------------------- wherever a light is shown

AUGUST = datetime(2023, 8, 6, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def july_over(seeded, personas, api):
    """July: 参展企业数量 100 of ≥70家 (超额, green) and 参展面积 400 of ≥500 (p = 1.37: 超额 by pace)."""
    seeded.config["CLOCK"] = lambda: AUGUST
    py, ids = year_of(seeded, SPECIAL)
    assert api.put(f"/indicators/{ids[FIRMS]}/actuals/2023-07", {"value": 100}).status_code == 200
    assert api.put(f"/indicators/{ids['参展面积']}/actuals/2023-07", {"value": 400}).get_json()["over"] is True
    assert api.put(f"/indicators/{ids['参加活动场次']}/actuals/2023-07", {"value": 1, "deviation_reasons": ["其他"]}
                   ).get_json()["over"] is False
    return py, ids


def marked(html: str, anchor: str) -> str:
    """The markup of the row with that id."""
    start = html.index(f'id="{anchor}"')
    return html[start:html.index("</tr>", start)]


def test_the_project_page_marks_each_over_row(seeded, personas, july_over):
    _py, ids = july_over
    page = signed_in(seeded, personas.supervisor_a).get(f"/projects/{personas.project_a}?year=2023&period=2023-07")
    html = page.get_data(as_text=True)
    assert 'class="over-mark"' in marked(html, f"ind-{ids[FIRMS]}")
    assert 'class="over-mark"' in marked(html, f"ind-{ids['参展面积']}")
    assert 'class="over-mark"' not in marked(html, f"ind-{ids['参加活动场次']}")


def test_the_history_page_and_the_report_drill_down_mark_it(seeded, personas, july_over):
    _py, ids = july_over
    reader = signed_in(seeded, personas.supervisor_a)
    history = text_of(reader.get(f"/indicators/{ids[FIRMS]}/history?period=2023-07").get_data(as_text=True))
    assert "截至7月 · 绿 超额" in history
    report = reader.get(f"/reports/projects/{personas.project_a}?year=2023&as_of=2023-08-06").get_data(as_text=True)
    assert "绿 超额" in text_of(marked(report, f"ind-{ids[FIRMS]}"))
    assert "超额" not in text_of(marked(report, f"ind-{ids['参加活动场次']}"))


def test_the_monitoring_sheet_marks_it_in_print_and_in_xlsx(seeded, personas, july_over):
    import io

    from openpyxl import load_workbook
    reader = signed_in(seeded, personas.supervisor_a)
    printed = text_of(reader.get(f"/projects/{personas.project_a}/monitoring/print?period=2023-07")
                      .get_data(as_text=True))
    assert re.search(r"参展企业数量 ≥70家 ≥100家 截至2023年7月：\S+ 100家", printed) and "绿超额" in printed.replace(" ", "")
    ws = load_workbook(io.BytesIO(reader.get(f"/projects/{personas.project_a}/monitoring.xlsx?period=2023-07").data),
                       rich_text=True).worksheets[0]
    rows = {ws.cell(r, 3).value: r for r in range(1, ws.max_row + 1)}
    firms = ws.cell(rows[FIRMS], 9)
    assert str(firms.value) == "绿（超额）" and firms.fill.fgColor.rgb.endswith("C6EFCE")   # the light's green
    assert [block.font.color.rgb for block in firms.value if block.text == "（超额）"] == ["000B5CAD"]
    assert ws.cell(rows["参加活动场次"], 9).value != "绿（超额）"


def test_the_workbench_lists_what_is_over(seeded, personas, july_over):
    _py, ids = july_over
    home = signed_in(seeded, personas.manager_a).get("/")
    text = text_of(home.get_data(as_text=True))
    assert "超额完成 2 项" in text
    assert "绿 超额 招商引资专项经费 参展企业数量 ≥70家 142.86% 244.90% 2023年7月" in text
    assert "参展面积 ≥500平方米 80.00% 137.14% 2023年7月" in text
    assert "请核实目标是否设定偏低" in text


# --------------------------------------------------------------------------- the over alert

def open_over_alerts(api, project_year: int) -> list[dict]:
    return [a for a in api.get("/alerts", year=2023).get_json()["alerts"]
            if a["kind"] == "over" and a["project_id"] == project_year]


def test_an_over_alert_opens_at_pace_120_percent_and_closes_when_an_entry_brings_it_below(seeded, api):
    seeded.config["CLOCK"] = lambda: AUGUST
    py, ids = year_of(seeded, SPECIAL)
    url = f"/indicators/{ids[FIRMS]}/actuals/2023-07"
    # 48 of ≥70家 in July: p = 48 / (70 · 7/12) = 1.176, on pace but not 超额: no over alert
    assert api.put(url, {"value": 48}).get_json()["over"] is False
    assert open_over_alerts(api, py) == []
    # 49: p = 1.2 exactly, 超额
    assert api.put(url, {"value": 49, "version": 1}).get_json()["over"] is True
    [alert] = open_over_alerts(api, py)
    assert (alert["indicator_id"], alert["light"], alert["period"], alert["closed_at"]) == \
        (ids[FIRMS], "blue", "2023-07", None)
    # an entry brings it below: the alert closes (kept, with closed_at), and no red/yellow stands for it
    assert api.put(url, {"value": 45, "version": 2}).get_json()["over"] is False
    assert open_over_alerts(api, py) == []
    closed = [a for a in api.get("/alerts", year=2023, state="closed").get_json()["alerts"] if a["id"] == alert["id"]]
    assert closed and closed[0]["closed_at"] is not None
    assert not [a for a in api.get("/alerts", year=2023).get_json()["alerts"] if a["indicator_id"] == ids[FIRMS]]


def test_the_alert_list_shows_over_alerts_in_blue_labelled_and_filterable(seeded, personas, july_over):
    _py, ids = july_over
    reader = signed_in(seeded, personas.supervisor_a)
    html = reader.get("/reports/alerts?year=2023").get_data(as_text=True)
    assert '<option value="over">超额</option>' in html
    rows = re.findall(r'<tr class="alert-(\w+)">(.*?)</tr>', html, flags=re.S)
    over = [text_of(row) for light, row in rows if light == "blue"]
    assert sorted(over) == sorted(f"超额 灯仍为绿 {SPECIAL} 2023年度 {name} 山西省投资促进局 "
                                  f"216-山西省商务厅 7月 2023-08-06 历史 · 查看" for name in (FIRMS, "参展面积"))
    assert all('class="over-mark"' in row for light, row in rows if light == "blue")
    assert [light for light, _row in rows][-2:] == ["blue", "blue"]             # after red, yellow and overdue
    # counted as 超额, never as a red or yellow light
    count = text_of(html[html.index('<p class="count">'):html.index("</p>", html.index('<p class="count">'))])
    assert "红灯 1 条" in count and "超额 2 条" in count, count
    only = reader.get("/reports/alerts?year=2023&kind=over").get_data(as_text=True)
    assert [light for light, _row in re.findall(r'<tr class="alert-(\w+)">(.*?)</tr>', only, flags=re.S)] == ["blue"] * 2
    assert "共 2 条" in text_of(only)


def test_the_digest_lists_over_indicators_in_a_section_for_information(seeded, personas, july_over):
    from sqlmodel import Session, select

    from models.outbox import OutboxMessage
    from test_reminders_cycle import set_emails
    set_emails(seeded, personas)
    sent = seeded.test_cli_runner().invoke(args=["reminders", "send", "--now", "2023-08-07T09:00"])
    assert sent.exit_code == 0, sent.output
    with Session(seeded.extensions["engine"]) as session:
        [mail] = session.exec(select(OutboxMessage).where(OutboxMessage.user_id == personas.supervisor_a.id)).all()
    assert "每周汇总：" in mail.subject and mail.subject.endswith("红灯1项，超额2项")
    text = mail.text_body
    section = text[text.index("【超额完成（仅供参考）】"):]
    assert "以下2项指标的完成率或序时进度比达到120%以上（超额），灯仍为绿，无需处理" in section
    assert f"  · {FIRMS}｜2023年7月｜超额（灯为绿）" in section and "  · 参展面积｜2023年7月｜超额（灯为绿）" in section
    assert "参加活动场次" not in section and "红灯" not in section
    assert text.index("【每周汇总") < text.index("【超额完成（仅供参考）】")
    assert "超额完成（仅供参考）</h2>" in mail.html_body and "color:#0b5cad" in mail.html_body
