"""A data-quality flag end to end, as an officer meets it: headless Chromium against the three
services. Two Thanh Hóa reports that contradict each other (2020 states +9,5% on 2019; the
totals give +1%) are uploaded through the page; the review queue shows the flag first, with
its badge, the rule's message and each figure in its sentence; the Data quality page counts
it; the officer accepts the 2020 total, and the flag leaves the queue, resolved in the
officer's name. Screenshots `quality-NN-*.png` (CHISO_UPDATE_SCREENSHOTS=1: into
docs/screenshots/).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser import OfflinePage
from tests.e2e.support import (
    FLAG,
    QUALITY_REPORTS,
    SUBSCRIBERS,
    Officer,
    Shots,
    csp_violations,
    goto,
    sign_in,
    upload_reports,
    wait_for_flag,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def shots(tmp_path: Path) -> Shots:
    configured = os.environ.get("CHISO_SCREENSHOT_DIR")
    return Shots(Path(configured) if configured else tmp_path / "screenshots", "quality-")


def test_officer_resolves_a_flag_in_the_review_queue(
    vietnamese_page: OfflinePage, officer: Officer, shots: Shots, tmp_path: Path
) -> None:
    offline_page = vietnamese_page
    page = offline_page.page
    page.set_default_timeout(30_000)
    blocked = csp_violations(page)
    try:
        page.goto(officer.url + "/")
        sign_in(page, officer)
        upload_reports(page, tmp_path, QUALITY_REPORTS)

        flag = wait_for_flag(page)
        expect(flag).to_have_count(1)
        expect(page.locator(".queue-item").first).to_have_attribute("data-rule", "change_vs_levels")
        expect(flag.locator(".flag-badge")).to_be_visible()
        expect(flag.locator(".flag-message")).to_contain_text("9,5")
        expect(flag.locator(".flag-where")).to_contain_text("năm 2020")
        stated = flag.locator('.flag-figure[data-part="stated"]')
        expect(stated.locator(".sentence")).to_contain_text("Tổng số thuê bao trên toàn mạng")
        expect(stated.locator(".sentence mark")).to_have_text("9,5")
        level = flag.locator('.flag-figure[data-part="level"]')
        expect(level.locator(".sentence mark")).to_have_text("1.010.000")
        expect(level.locator("a")).to_have_text("thanh-hoa-2020.txt")
        previous = flag.locator('.flag-figure[data-part="previous"]')
        expect(previous.locator("a")).to_have_text("thanh-hoa-2019.txt")
        # Its figures are not listed again among the unreviewed facts.
        expect(page.locator(".queue-item:not(.flag-item)")).to_have_count(0)
        expect(page.locator(".queue-status")).to_contain_text("1 cảnh báo số liệu đang mở")
        shots.take(page, "review-flag")

        # the dashboard's card of the figure says the checks doubt it
        goto(page, "#/dashboard/38")
        card_flag = page.locator(f'.card[data-indicator="{SUBSCRIBERS}"] .card-flag')
        expect(card_flag).to_have_attribute("data-rule", "change_vs_levels")
        expect(card_flag).to_contain_text("9,5")

        goto(page, "#/quality")
        expect(page.locator("h1")).to_have_text("Chất lượng số liệu")
        row = page.locator("table.flags tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Thanh Hóa")
        by_indicator = page.locator(f'table.counts tr[data-code="{SUBSCRIBERS}"] td')
        expect(by_indicator).to_have_text("1")
        shots.take(page, "data-quality")

        goto(page, "#/review")
        flag = page.locator(FLAG)
        flag.locator('.flag-figure[data-part="level"] [data-action=accept]').click()
        expect(page.locator("#notice")).to_have_text("Đã chấp nhận số liệu và đóng cảnh báo.")
        expect(flag).to_have_count(0)  # resolved: it leaves the queue
        shots.take(page, "review-flag-resolved")

        resolved = resolved_flags(officer)
        assert [(item["rule"], item["resolution"]["action"]) for item in resolved] == [
            ("change_vs_levels", "accept")
        ]
        assert resolved[0]["resolution"]["by"] == officer.client_id
        goto(page, "#/dashboard/38")
        expect(page.locator(f'.card[data-indicator="{SUBSCRIBERS}"] .value')).to_be_visible()
        expect(card_flag).to_have_count(0)  # resolved: the card no longer warns
        goto(page, "#/review")
        expect(page.locator("h1")).to_have_text("Duyệt số liệu")
        expect(page.locator(".queue, .empty").first).to_be_visible()
        expect(page.locator(FLAG)).to_have_count(0)  # and stays resolved
        assert (offline_page.outside, offline_page.errors, blocked) == ([], [], [])
    finally:
        shots.publish()


def resolved_flags(officer: Officer) -> list[dict[str, Any]]:
    token = httpx.post(
        f"{officer.url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(officer.client_id, officer.secret),
    ).json()["access_token"]
    answer = httpx.get(
        f"{officer.url}/v1/quality",
        params={"status": "resolved"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data
