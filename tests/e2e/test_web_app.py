"""The web app end to end, as an officer uses it: headless Chromium against the three services.

Sign in through the dialog, upload two Thanh Hóa reports through the page, watch them reach
`delivered`, read the subscriber chart (two years), click its 2023 point and find the sentence
in the trace panel, correct the 2023 value in the review queue, and see the chart follow.
A screenshot is taken at each step into `CHISO_SCREENSHOT_DIR` (default: the test's tmp dir);
with `CHISO_UPDATE_SCREENSHOTS=1` they are also copied to docs/screenshots/ for the README.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from chiso_gateway.main import create_app as create_gateway
from chiso_gateway.settings import Settings as GatewaySettings
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from tests.browser import OfflinePage
from tests.e2e.support import (
    CHART,
    SUBSCRIBERS,
    Officer,
    Shots,
    click_point,
    csp_violations,
    goto,
    review_routes,
    sign_in,
    upload_reports,
    wait_for_chart,
)
from tests.support import free_port, serving

pytestmark = pytest.mark.slow

CORRECTED = 3_535_000
ADDED = 3_342_000  # 2021's total, which a reviewer adds from the number "2021" stands beside


@pytest.fixture
def shots(tmp_path: Path) -> Shots:
    configured = os.environ.get("CHISO_SCREENSHOT_DIR")
    return Shots(Path(configured) if configured else tmp_path / "screenshots")


def download(page: Page, which: str) -> Path:
    """Press a download button and keep the file the page saves."""
    with page.expect_download() as started:
        page.locator(f"[data-download={which}]").click()
    saved = started.value
    path = Path(saved.path())
    return path.rename(path.with_name(saved.suggested_filename))


def correct_in_queue(page: Page, shots: Shots) -> None:
    goto(page, "#/review")
    item = page.locator(
        f'.queue-item[data-indicator="{SUBSCRIBERS}"][data-period="2023"][data-role="level"]'
    )
    expect(item).to_have_count(1)
    expect(item.locator(".sentence mark")).to_have_text("3.530.000")
    item.get_by_role("button", name="Sửa…").click()
    form = page.locator("#form-dialog")
    expect(form).to_be_visible()
    form.get_by_label("Giá trị").fill(str(CORRECTED))
    form.get_by_label("Ghi chú (không bắt buộc)").fill("Số liệu chính thức của Cục Thống kê")
    shots.take(page, "review-correct-form", full_page=False)
    form.get_by_role("button", name="Lưu bản sửa").click()
    expect(form).to_be_hidden()
    expect(item).to_have_count(0)  # reviewed: it leaves the queue
    shots.take(page, "review-queue-after")
    exported = download(page, "export").read_text(encoding="utf-8").splitlines()
    facts = [json.loads(line) for line in exported]
    assert [(fact["doc"], fact["value"]) for fact in facts] == [("thanh-hoa-2023.txt", CORRECTED)]


# The y-axis labels of ticks 5,000 apart around 1.3 million (a province's subscribers over two
# years), from the page's own formatter: each tick its own label.
NARROW_TICKS = """async () => {
  const charts = await import('/app/static/js/charts.js');
  const ticks = [1280000, 1285000, 1290000, 1295000].map((value) => ({value}));
  return ticks.map((tick, index) => charts.compactTick(tick.value, index, ticks));
}"""


def test_officer_uploads_traces_and_corrects(
    vietnamese_page: OfflinePage, officer: Officer, shots: Shots, tmp_path: Path
) -> None:
    offline_page = vietnamese_page
    page = offline_page.page
    page.set_default_timeout(30_000)
    blocked = csp_violations(page)
    try:
        page.goto(officer.url + "/")
        expect(page.locator("html")).to_have_attribute("lang", "vi")
        expect(page.locator("[data-gate=sign-in]")).to_be_visible()
        shots.take(page, "signed-out")

        sign_in(page, officer)
        upload_reports(page, tmp_path)
        shots.take(page, "documents-delivered")

        data = wait_for_chart(page, [3_412_500, 3_530_000])
        assert data["labels"] == ["2022", "2023"]
        ticks = [label.replace("\u00a0", " ") for label in page.evaluate(NARROW_TICKS)]
        assert ticks == ["1,28 Tr", "1,285 Tr", "1,29 Tr", "1,295 Tr"]
        card = page.locator(f'.card[data-indicator="{SUBSCRIBERS}"]')
        expect(card.locator(".value")).to_have_text("3.530.000")
        expect(card.locator(".period .badge")).to_have_text("ước tính")
        expect(card.locator(".reported")).to_contain_text("+3,4%")
        shots.take(page, "dashboard")
        summary_csv = download(page, "summary-csv")
        assert summary_csv.name.endswith(".csv")
        assert "3530000" in summary_csv.read_text(encoding="utf-8-sig")
        assert download(page, "summary-xlsx").read_bytes()[:2] == b"PK"  # a zip: XLSX

        click_point(page, 1)
        trace = page.locator("#trace-dialog")
        expect(trace).to_be_visible()
        sentence = trace.locator(".trace-version.current .sentence").first
        expect(sentence).to_contain_text("Tổng số thuê bao điện thoại trên địa bàn tỉnh năm 2023")
        expect(sentence.locator("mark")).to_have_text("3.530.000")
        expect(trace.locator(".doc-name").first).to_have_text("thanh-hoa-2023.txt")
        shots.take(page, "trace", full_page=False)
        page.keyboard.press("Escape")
        expect(trace).to_be_hidden()

        assert (offline_page.outside, offline_page.errors, blocked) == ([], [], [])
        if not review_routes(officer.url):
            pytest.skip("the gateway has no review routes yet (helper `reviews`): stopped here")
        open_document(page, shots, officer)
        correct_in_queue(page, shots)
        wait_for_chart(page, [3_412_500, CORRECTED])
        expect(card.locator(".value")).to_have_text("3.535.000")
        shots.take(page, "dashboard-after-review")
        reviewer_is_named(page, officer)

        add_missed_fact(page, shots, officer)
        data = wait_for_chart(page, [ADDED, 3_412_500, CORRECTED])
        assert data["labels"] == ["2021", "2022", "2023"]

        page.set_viewport_size({"width": 390, "height": 844})
        page.locator("h1").scroll_into_view_if_needed()
        shots.take(page, "dashboard-phone", full_page=False)
        page.locator(CHART).scroll_into_view_if_needed()
        shots.take(page, "dashboard-phone-chart", full_page=False)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll

        page.get_by_role("button", name="Switch to English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Dashboard: Thanh Hoa")
        shots.take(page, "dashboard-phone-english", full_page=False)
        assert (offline_page.outside, offline_page.errors, blocked) == ([], [], [])
    finally:
        shots.publish()


def open_document(page: Page, shots: Shots, officer: Officer) -> None:
    """The 2023 report with its facts marked; a mark's tooltip on keyboard focus. The list
    and the report name the officer who uploaded it, not the client id."""
    goto(page, "#/documents")
    row = page.locator("tr", has=page.get_by_role("link", name="thanh-hoa-2023.txt"))
    expect(row.locator(".person")).to_have_text(officer.name)
    row.get_by_role("link", name="thanh-hoa-2023.txt").click()
    uploader = page.locator("dl.meta .person")
    expect(uploader).to_have_text(officer.name)
    expect(uploader).to_have_attribute("title", f"Mã ứng dụng (client id): {officer.client_id}")
    mark = page.locator(f'#doc-text .fact[data-indicator="{SUBSCRIBERS}"][data-role="level"]')
    expect(mark).to_have_text("3.530.000")
    mark.focus()
    tip = page.locator("#fact-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("Tổng số thuê bao điện thoại")
    expect(tip).to_contain_text("ước tính")
    shots.take(page, "document-view", full_page=False)
    page.keyboard.press("Escape")
    expect(tip).to_be_hidden()


# Select the first "2021" of the document's text, as a reviewer's mouse or finger would.
SELECT_2021 = """() => {
  const text = document.getElementById('doc-text');
  const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf('2021');
    if (at >= 0) {
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + 4);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      return;
    }
  }
}"""


def reviewer_is_named(page: Page, officer: Officer) -> None:
    """After the correction, the trace panel and the report's fact say who corrected it: the
    officer's name, not the client id."""
    click_point(page, 1)
    trace = page.locator("#trace-dialog")
    expect(trace).to_be_visible()
    source = trace.locator(".trace-version.current .trace-source").first
    expect(source).to_contain_text(f"Đã sửa bởi {officer.name}")
    expect(trace).not_to_contain_text(officer.client_id)
    page.keyboard.press("Escape")
    expect(trace).to_be_hidden()
    goto(page, "#/documents")
    page.get_by_role("link", name="thanh-hoa-2023.txt").click()
    mark = page.locator(f'#doc-text .fact.reviewed[data-indicator="{SUBSCRIBERS}"]')
    mark.focus()
    expect(page.locator("#fact-tip")).to_contain_text(f"Đã sửa bởi {officer.name}")
    page.keyboard.press("Escape")


def add_missed_fact(page: Page, shots: Shots, officer: Officer) -> None:
    """A reviewer selects a number the extractor left (a year) and adds a fact for it."""
    goto(page, "#/documents")
    page.get_by_role("link", name="thanh-hoa-2022.txt").click()
    expect(page.locator("#doc-text .fact").first).to_be_visible()
    add = page.get_by_role("button", name="Thêm số liệu")
    expect(add).to_be_disabled()  # nothing selected yet
    page.evaluate(SELECT_2021)
    add.click()
    form = page.locator("#form-dialog")
    expect(form.get_by_label("Giá trị")).to_have_value("2021")  # read from the selection
    form.get_by_label("Giá trị").fill(str(ADDED))
    form.get_by_label("Kỳ", exact=True).fill("2021")
    form.get_by_label("Chỉ tiêu").select_option(SUBSCRIBERS)
    shots.take(page, "document-add-fact", full_page=False)
    form.get_by_role("button", name="Thêm số liệu").click()
    expect(form).to_be_hidden()
    added = page.locator("#doc-text .fact.reviewed")
    expect(added).to_have_text("2021")
    added.click()
    expect(page.locator("#fact-detail")).to_contain_text(f"Đã thêm bởi {officer.name}")


def test_anonymous_dashboard_keyboard_and_language(
    offline_page: OfflinePage, tmp_path: Path, indicators_db: str, gateway_db: str
) -> None:
    """With the anonymous tier on, the dashboard opens without signing in; the sign-in dialog
    works from the keyboard and says why a secret is refused; English is kept on reload."""
    page = offline_page.page
    indicators = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    with serving(create_indicators(indicators)) as indicators_url:
        settings = GatewaySettings(
            data_dir=tmp_path,
            database_url=gateway_db,
            indicators_url=indicators_url,
            ingest_url=f"http://127.0.0.1:{free_port()}",
            anonymous_read=True,
        )
        with serving(create_gateway(settings)) as url:
            page.goto(url + "/#/dashboard/38")
            expect(page.locator("h1")).to_have_text("Bảng số liệu: Thanh Hóa")
            expect(page.locator(".empty").first).to_contain_text("Chưa có số liệu nào")
            expect(page.locator("[data-gate]")).to_have_count(0)

            page.keyboard.press("Tab")
            expect(page.locator(".skip-link")).to_be_focused()
            page.locator("#sign-in").focus()
            page.keyboard.press("Enter")
            client_id = page.locator("#client-id")
            expect(client_id).to_be_focused()
            page.keyboard.press("Shift+Tab")  # focus stays in the dialog: wraps to its end
            expect(page.locator("#sign-in-dialog button[data-close]")).to_be_focused()
            page.keyboard.press("Tab")
            expect(client_id).to_be_focused()
            client_id.fill("ch_nobody")
            page.locator("#client-secret").fill("wrong")
            page.keyboard.press("Enter")
            expect(page.locator("#sign-in-error")).to_contain_text(
                "Sai mã ứng dụng hoặc khóa bí mật"
            )
            expect(page.locator("#client-secret")).to_have_value("wrong")
            page.keyboard.press("Escape")
            expect(page.locator("#sign-in-dialog")).to_be_hidden()
            expect(page.locator("#client-secret")).to_have_value("")  # never left in the page
            expect(page.locator("#sign-in")).to_be_focused()

            page.get_by_role("button", name="Switch to English").click()
            expect(page.locator("h1")).to_have_text("Dashboard: Thanh Hoa")
            page.reload()
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.locator("h1")).to_have_text("Dashboard: Thanh Hoa")
    assert (offline_page.outside, offline_page.errors) == ([], [])
