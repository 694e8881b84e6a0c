"""A phone (390 × 844): every main page of every role fits the screen — no sideways scroll of the
page (a wide table scrolls inside its own box or reflows) — and the top bar's 菜单 opens the
sections, one of which is followed. Served with `flask demo seed`'s year of work ("today"
2023-08-10), so each page has its entries, budget, 调减, 目标调整, monitoring round and 整改; the
import review is reached by uploading the seed's forms as the admin.

Under the app's own Content-Security-Policy; any console or JavaScript error fails the test.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from conftest import SEED_PDF
from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)
from test_demo_seed import PASSWORD, person

expect = playwright_api.expect

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
AUGUST_10 = datetime(2023, 8, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

# The pages checked, per role ({p}: each of the demo's three projects, {r}: the 整改 item,
# {u}: a user). Pages a role may not open (403) are not theirs and are left out.
COMMON = ("/projects", "/projects/{p}", "/projects/{p}/evaluation", "/projects/{p}/monitoring/2023-07",
          "/reports/overview", "/reports/projects/{p}", "/reports/alerts", "/monitoring", "/rectifications",
          "/rectifications/{r}", "/exports", "/account")
PAGES = {
    "tianbao": ("/", *COMMON, "/bulk", "/imports/new"),
    "shenhe": ("/", *COMMON),
    "admin": ("/", *COMMON, "/bulk", "/imports/new", "/admin/users", "/admin/users/new", "/admin/users/{u}",
              "/admin/reminders", "/admin/reminders/outbox"),
}


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def hrefs(page, pattern: str) -> list[str]:
    found = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.getAttribute('href'))")
    return sorted({m.group(0) for h in found if (m := re.match(pattern, h))})


@pytest.fixture
def demo(live_server):
    app = live_server.app
    app.config["CLOCK"] = lambda: AUGUST_10.astimezone(timezone.utc)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    for name in PAGES:
        assert runner.invoke(args=["users", "password", name, "--password", PASSWORD]).exit_code == 0
    return live_server


@pytest.mark.parametrize("role", list(PAGES))
def test_every_main_page_fits_a_phone(demo, page, role):
    page.set_viewport_size(PHONE)
    sign_in(page, demo, person(demo.app, role))
    page.goto(f"{demo.url}/projects")
    projects = hrefs(page, r"/projects/\d+")
    assert len(projects) == 3
    page.goto(f"{demo.url}/rectifications?state=all")
    [rectification] = hrefs(page, r"/rectifications/\d+")
    users = []
    if role == "admin":
        page.goto(f"{demo.url}/admin/users")
        users = hrefs(page, r"/admin/users/\d+$")
    checked, too_wide = [], []
    for pattern in PAGES[role]:
        for project in (projects if "{p}" in pattern else projects[:1]):
            path = pattern.format(p=project.rsplit("/", 1)[1], r=rectification.rsplit("/", 1)[1],
                                  u=users[0].rsplit("/", 1)[1] if users else "")
            response = page.goto(demo.url + path)
            assert response.status == 200, path
            checked.append(path)
            if (width := page_width(page)) > PHONE["width"]:
                too_wide.append(f"{path}: {width} px")
    assert too_wide == [], "wider than the phone:\n" + "\n".join(too_wide)
    assert len(checked) >= len(PAGES[role])
    # the project page's entry rows are cards: the name, then the light, one card per indicator
    page.goto(demo.url + projects[0])
    card = page.locator("tbody.entry").first
    expect(card.locator("thead")).to_have_count(0)
    box, light = card.locator("th.name").bounding_box(), card.locator(".light-cell").bounding_box()
    assert light["y"] >= box["y"] + box["height"] - 1 and light["x"] == box["x"]     # under the name, not beside it
    assert page.problems == [], "\n".join(page.problems)


def test_the_menu_opens_on_a_phone_and_leads_to_a_section(demo, page):
    page.set_viewport_size(PHONE)
    sign_in(page, demo, person(demo.app, "tianbao"))
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav).to_be_hidden()
    expect(page.locator(".whoami")).to_be_hidden()         # the long name no longer runs over the title
    page.locator(".nav-toggle-label").click()
    expect(nav).to_be_visible()
    expect(page.locator(".whoami")).to_contain_text("填报人（演示）")
    links = nav.get_by_role("link")
    first, last = links.first.bounding_box(), links.last.bounding_box()
    assert last["y"] > first["y"] and first["width"] > 300           # one section per line, the screen's width
    assert page_width(page) <= PHONE["width"]
    nav.get_by_role("link", name="报表", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("绩效监控总览")
    expect(nav).to_be_hidden()                                        # a new page starts folded
    assert page_width(page) <= PHONE["width"]

    # at 1366 px the sections are in the top bar as before, with no 菜单
    page.set_viewport_size({"width": 1366, "height": 900})
    expect(nav).to_be_visible()
    expect(page.locator(".nav-toggle-label")).to_be_hidden()
    assert page.problems == [], "\n".join(page.problems)


def test_the_import_review_fits_a_phone(demo, page):
    page.set_viewport_size(PHONE)
    sign_in(page, demo, person(demo.app, "admin"))
    page.goto(f"{demo.url}/imports/new")
    page.set_input_files("input[name=files]", str(SEED_PDF))
    page.get_by_role("button", name="上传并解析").click()
    page.wait_for_url(re.compile(r"/imports/[0-9a-f]{32}$"))
    expect(page.get_by_role("heading", name="核对解析结果", exact=True)).to_be_visible(timeout=60_000)
    assert page_width(page) <= PHONE["width"]
    assert page.problems == [], "\n".join(page.problems)


@pytest.mark.parametrize("path", ["/projects/{p}/evaluation/print?year=2023", "/projects/{p}/monitoring/print?period=2023-07"])
def test_a_printable_form_keeps_its_a4_width_on_a_phone_and_scrolls_sideways_in_its_box(demo, page, path):
    """The 自评表 and the 监控表 are A4 forms: on a phone their columns keep their width (a
    column a character wide would print 1-12月未填报 one character a line) and the sheet scrolls
    sideways inside its own box, not the page."""
    page.set_viewport_size(PHONE)
    sign_in(page, demo, person(demo.app, "shenhe"))
    page.goto(f"{demo.url}/projects")
    project = hrefs(page, r"/projects/\d+")[0].rsplit("/", 1)[1]
    assert page.goto(demo.url + path.format(p=project)).status == 200
    assert page_width(page) <= PHONE["width"]
    widths = page.eval_on_selector_all("table.sheet", "tables => tables.map(t => t.getBoundingClientRect().width)")
    assert widths and min(widths) >= 600, widths                # 170 mm and more, not squeezed to the phone
    sheet = page.locator(".print-sheet")
    assert sheet.evaluate("s => s.scrollWidth > s.clientWidth")  # it scrolls inside its box
    assert page.problems == [], "\n".join(page.problems)
