"""Every console page in real Chromium, in both languages, at desk (1280 px) and phone (390 px)
width: a full-page screenshot of each under .data/screenshots/console/<page>-<lang>-<width>.png,
and on each the basics an operator relies on: fields named, images described, nothing wider
than the phone, the page in the chosen language, breaches marked in words and not only in
colour. Then the same console used with the keyboard alone. One served app and one browser for
the module (harness: tests/support/browser.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import playwright.async_api as playwright_api
import pytest
import yaml
from temporalio.testing import WorkflowEnvironment

from config import DEFAULT_POLICY_FILE
from console.i18n import catalogue
from db.migrate import upgrade
from tests.support.api_harness import order_body
from tests.support.browser import Site, served, shot
from tests.support.builders import FULL_PICK, SHIP

LOCALES = ("en", "zh-CN")
WIDTHS = (1280, 390)
expect = playwright_api.expect

# What the DOM has to say about itself on every page (see the module docstring).
AUDIT_JS = """() => {
  const shown = el => { const s = getComputedStyle(el);
    return s.display !== 'none' && s.visibility !== 'hidden' && el.getClientRects().length > 0; };
  const named = el => (el.labels && [...el.labels].some(l => l.textContent.trim()))
    || (el.getAttribute('aria-label') || '').trim()
    || (el.getAttribute('aria-labelledby') || '').split(/\\s+/).some(id => {
         const ref = id && document.getElementById(id); return ref && ref.textContent.trim(); });
  const fields = [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden');
  const brief = el => el.outerHTML.slice(0, 140);
  return {
    fields: fields.filter(shown).length,
    unlabelled: fields.filter(el => !named(el)).map(brief),
    nameless_buttons: [...document.querySelectorAll('button, summary')]
      .filter(b => !b.textContent.trim() && !b.getAttribute('aria-label')).map(brief),
    no_alt: [...document.querySelectorAll('img')].filter(i => !i.hasAttribute('alt')).map(brief),
    colour_only: [...document.querySelectorAll('.breached, .card.overdue')]
      .filter(el => ![...el.querySelectorAll('.badge')].some(b => b.textContent.trim()))
      .map(brief),
    scroll_width: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    lang: document.documentElement.lang,
    text: document.body.innerText,
  };
}"""


@dataclass
class World:
    site: Site
    late: str  # a key-account order that missed its confirmation: breached, escalated
    late_esc: str
    other_esc: str  # a second escalation, left for the keyboard test to acknowledge
    other: str


def fast_policies(path: Path) -> Path:
    """The shipped policies plus `fast`: key-account terms, confirmation due within 2 s."""
    data = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    data["policies"]["fast"] = dict(data["policies"]["key_account"], confirm_within="PT2S")
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


async def escalation_of(site: Site, order_id: str) -> dict[str, Any]:
    for _ in range(120):
        got = await site.http.get("/v1/escalations", params={"order_id": order_id},
                                  headers={"Authorization": f"Bearer {site.keys['admin']}"})
        assert got.status_code == 200, got.text
        if got.json()["items"]:
            return got.json()["items"][0]
        await asyncio.sleep(0.25)
    raise AssertionError(f"no escalation opened for {order_id}")


async def events(site: Site, order_id: str, *steps: tuple[str, dict]) -> None:
    for type_, data in steps:
        resp = await site.post(f"/v1/orders/{order_id}/events", {
            "event_id": f"ev-{order_id}-{type_}", "type": type_,
            "occurred_at": datetime.now(UTC).isoformat(), "data": data})
        assert resp.status_code == 200, resp.text


@pytest.fixture(scope="module")
async def world(dev_env: WorkflowEnvironment,
                tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("pages")
    url = f"sqlite:///{tmp / 'waybill.db'}"
    upgrade(url)
    async with served(dev_env, url, f"tq-pages-{tmp.name}", tmp,
                      sla_policies=fast_policies(tmp / "policies.yaml")) as site:
        late = order_body(tier="key_account", sla_policy="fast")
        late["customer"]["name"] = "上海华东医药配送中心 (East China Pharma Distribution)"
        other = order_body(sla_policy="fast")
        shipped, received = order_body(), order_body(tier="key_account")
        for body in (late, other, shipped, received):
            assert (await site.post("/v1/orders", body)).status_code == 201
        await events(site, shipped["order_id"], ("confirmed", {}), ("picked", FULL_PICK),
                     ("shipped", SHIP))
        late_esc = await escalation_of(site, late["order_id"])
        other_esc = await escalation_of(site, other["order_id"])
        # A real timeline on the breached order: an operator's note after the breach.
        note = await site.post(f"/v1/orders/{late['order_id']}/events", {
            "event_id": "ev-note-late", "type": "note",
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"text": "Warehouse short-staffed today; customer told to expect a call."}},
            role="operator")
        assert note.status_code == 200, note.text
        yield World(site=site, late=late["order_id"], late_esc=late_esc["id"],
                    other_esc=other_esc["id"], other=other["order_id"])


def pages(w: World) -> list[tuple[str, str, str]]:
    """(name, path, a catalogue key whose words the page shows) for each signed-in page."""
    return [
        ("board", "/console/board", "board_title"),
        ("order", f"/console/orders/{w.late}", "timeline_title"),
        ("escalations", "/console/escalations", "esc.queue_title"),
        ("escalation", f"/console/escalations/{w.late_esc}", "esc.ladder_title"),
        ("new-order", "/console/orders/new", "new.title"),
        ("audit", f"/console/audit/orders/{w.late}", "audit.history_title"),
        ("preferences", "/console/preferences", "preferences_title"),
        ("kpis", "/console/kpis", "kpi.trend_title"),
        ("follow-up-report", "/console/reports/follow-up-monthly", "fur.problems_title"),
    ]


async def check(page, name: str, locale: str, width: int, key: str) -> dict[str, Any]:
    """Screenshot the page, then hold it to the basics; returns what the DOM reported."""
    await page.wait_for_load_state("load")
    await shot(page, f"{name}-{locale}-{width}")
    got = await page.evaluate(AUDIT_JS)
    words = catalogue(locale)
    where = f"{name} in {locale} at {width} px"
    assert got["lang"] == locale, where
    assert words[key] in got["text"], f"{where}: {words[key]!r} missing"
    other = catalogue("en" if locale == "zh-CN" else "zh-CN")
    assert other[key] not in got["text"], f"{where}: shows the other language"
    assert not got["unlabelled"], f"{where}: fields without a label: {got['unlabelled']}"
    assert not got["nameless_buttons"], f"{where}: {got['nameless_buttons']}"
    assert not got["no_alt"], f"{where}: images without alt: {got['no_alt']}"
    assert not got["colour_only"], f"{where}: breached only by colour: {got['colour_only']}"
    assert got["viewport"] == width
    assert got["scroll_width"] <= width + 1, f"{where}: {got['scroll_width']} px wide"
    return got


async def test_every_page_in_both_languages_at_desk_and_phone_width(world: World,
                                                                    browser) -> None:  # noqa: F811
    site = world.site
    for locale in LOCALES:
        words = catalogue(locale)
        context = await browser.new_context(locale=locale,
                                            viewport={"width": WIDTHS[0], "height": 900})
        page = await context.new_page()
        for width in WIDTHS:
            await page.set_viewport_size({"width": width, "height": 900})
            await page.goto(f"{site.base}/console/sign-in")
            await check(page, "sign-in", locale, width, "sign_in_title")
        await page.get_by_label(words["api_key_label"]).fill(site.keys["admin"])
        await page.get_by_test_id("sign-in").click()
        await page.wait_for_selector("#board")

        for width in WIDTHS:
            await page.set_viewport_size({"width": width, "height": 900})
            for name, path, key in pages(world):
                await page.goto(f"{site.base}{path}")
                got = await check(page, name, locale, width, key)
                if name == "board":
                    card = page.locator(f'[data-order="{world.late}"]')
                    # issue 18 §4: the card says overdue now, not "ever breached"
                    await expect(card.locator(".breach-badge")).to_have_text(
                        words["board.badge_overdue"])
                    # what is late and by how long, not only the next (unbreached) deadline
                    overdue = words["overdue_by"].split("{")[0].strip() or \
                        words["overdue_by"].split("}")[-1].strip()
                    await expect(card.get_by_test_id("overdue")).to_contain_text(
                        words["deadline.confirm_late"])
                    await expect(card.get_by_test_id("overdue")).to_contain_text(overdue)
                    await expect(card.locator(".deadline")).to_be_visible()
                    assert got["fields"] >= 4
                elif name == "order":
                    await expect(page.locator(".summary .breach-badge")).to_have_text(
                        words["badge_breached"])
                    # the breach and its escalation come before the order's other details
                    above = await page.evaluate(
                        "() => document.getElementById('h-deadlines').getBoundingClientRect().top"
                        " < document.getElementById('h-progress').getBoundingClientRect().top")
                    assert above, f"order in {locale} at {width}: deadlines buried"
                    await expect(page.get_by_test_id("timeline")).to_contain_text(
                        "Warehouse short-staffed today")
                elif name == "escalations":
                    row = page.locator(f'tr[data-escalation="{world.late_esc}"]')
                    await expect(row).to_contain_text(words["esc.level_n"].format(level=2))
                    await expect(row.get_by_test_id("esc-ack")).to_be_visible()
                elif name == "kpis":
                    # every chart an image named by its title; its numbers one click away
                    names = await page.locator('svg[role="img"]').evaluate_all(
                        "els => els.map(e => document.getElementById("
                        "e.getAttribute('aria-labelledby')).textContent.trim())")
                    assert len(names) == 6 and all(names), names
                    table = page.get_by_test_id("kpi-trend-table")
                    await expect(table).to_be_hidden()
                    await page.locator("#trend-numbers summary").click()
                    await expect(table).to_be_visible()
                    await expect(table.locator("tr[data-week]")).to_have_count(8)
                    await check(page, "kpis-table", locale, width, "kpi.col_week")
                elif name == "follow-up-report":
                    # last month by default, its headline and downloads; the nav says where
                    await expect(page.get_by_test_id("fur-headline")).to_be_visible()
                    await expect(page.get_by_test_id("fur-csv")).to_be_visible()
                    await expect(page.locator('nav a[aria-current="page"]')).to_have_text(
                        words["fur.nav"])
                elif name == "audit":
                    await expect(page.get_by_test_id("audit-timeline")
                                 .locator('tr[data-type="sla_breach"]')).to_be_visible()
            # The form sent empty: every field's error beside it, in the viewer's language.
            await page.goto(f"{site.base}/console/orders/new")
            await page.get_by_test_id("new-submit").click()
            # (issue 18: the summary also lists each error, linked to its field)
            await expect(page.get_by_test_id("new-errors")).to_contain_text(
                words["new.errors_summary"])
            await check(page, "new-order-errors", locale, width, "new.errors_summary")
            invalid = await page.locator('[aria-invalid="true"]').evaluate_all(
                "els => els.map(e => [e.id, e.getAttribute('aria-describedby'),"
                " !!document.getElementById(e.getAttribute('aria-describedby'))])")
            assert invalid and all(found for _, _, found in invalid), invalid
        await context.close()


async def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until the focused element matches `selector`; the focus must be visible."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        outline = await page.evaluate(
            "sel => { const el = document.activeElement;"
            " if (!el || !el.matches(sel)) return null; const s = getComputedStyle(el);"
            " return [s.outlineStyle, s.outlineWidth]; }", selector)
        if outline is not None:
            style, thickness = outline
            assert style != "none" and thickness != "0px", f"{selector}: focus not visible"
            return
    raise AssertionError(f"Tab never reached {selector}")


async def test_an_operator_signs_in_acknowledges_and_opens_an_order_by_keyboard_alone(
        world: World, browser) -> None:  # noqa: F811
    site = world.site
    context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{site.base}/console/board")  # not signed in: the sign-in page

    await tab_to(page, ".skip")
    await tab_to(page, "#api_key")
    await page.keyboard.type(site.keys["operator"])
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#board")

    await tab_to(page, 'nav a[href="/console/escalations"]')
    await page.keyboard.press("Enter")
    row = page.locator(f'tr[data-escalation="{world.other_esc}"]')
    await expect(row.get_by_test_id("esc-ack-cell")).to_contain_text("Not acknowledged")
    await tab_to(page, f'tr[data-escalation="{world.other_esc}"] [data-testid="esc-ack"]')
    await page.keyboard.press("Enter")
    await expect(row.get_by_test_id("esc-ack-cell")).to_contain_text("web-operator at")

    await tab_to(page, 'nav a[href="/console/board"]')
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#board")
    await tab_to(page, f'[data-order="{world.other}"] a.order-link')
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("timeline")).to_contain_text("Order created")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(world.other)
    await context.close()

