"""What the web app's browser tests share: the officer's suite, two Thanh Hóa reports, a
Chromium context held to 127.0.0.1, and the steps every test takes (sign in, upload, wait for
the dashboard). The fixtures built on these are in tests/e2e/conftest.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Locator, Page, Request, Route, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from chiso.admin import create_client, gateway_settings
from chiso.suite import Suite, SuiteConfig
from tests.browser import OfflinePage, is_local
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIBERS = "telecom.subscribers.total"
# Two reports written for these tests (figures illustrative), one per year, each with the total
# subscribers sentence and a few other metrics.
REPORTS = {
    "thanh-hoa-2022.txt": (
        "BÁO CÁO KẾT QUẢ CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH THANH HÓA NĂM 2022\n\n"
        "I. BƯU CHÍNH, VIỄN THÔNG\n"
        "Tổng số thuê bao điện thoại trên địa bàn tỉnh năm 2022 đạt 3.412.500 thuê bao, "
        "tăng 2,1% so với năm 2021. Toàn tỉnh có 6.840 trạm BTS đang hoạt động. Doanh thu "
        "dịch vụ viễn thông năm 2022 đạt 4.215 tỷ đồng.\n\n"
        "II. CHÍNH QUYỀN SỐ\n"
        "Tỷ lệ hồ sơ trực tuyến toàn trình năm 2022 đạt 41,5%.\n"
    ),
    "thanh-hoa-2023.txt": (
        "BÁO CÁO KẾT QUẢ CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH THANH HÓA NĂM 2023\n\n"
        "I. BƯU CHÍNH, VIỄN THÔNG\n"
        "Tổng số thuê bao điện thoại trên địa bàn tỉnh năm 2023 ước đạt 3.530.000 thuê bao, "
        "tăng 3,4% so với năm 2022. Toàn tỉnh có 7.105 trạm BTS đang hoạt động. Doanh thu "
        "dịch vụ viễn thông năm 2023 ước đạt 4.480 tỷ đồng.\n\n"
        "II. CHÍNH QUYỀN SỐ\n"
        "Tỷ lệ hồ sơ trực tuyến toàn trình năm 2023 đạt 52,3%.\n"
    ),
}
# Two more reports of Thanh Hóa, of years the others leave alone, that contradict each other:
# 2020 states +9,5% on 2019, while the two years' totals give +1%. Indicators' checks raise a
# data-quality flag (`change_vs_levels`) on them, which leads the review queue.
QUALITY_REPORTS = {
    "thanh-hoa-2019.txt": (
        "BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH THANH HÓA NĂM 2019\n\n"
        "Tổng số thuê bao trên toàn mạng năm 2019 đạt 1.000.000 thuê bao.\n"
    ),
    "thanh-hoa-2020.txt": (
        "BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH THANH HÓA NĂM 2020\n\n"
        "Tổng số thuê bao trên toàn mạng năm 2020 đạt 1.010.000 thuê bao, tăng 9,5% so với "
        "năm 2019.\n"
    ),
}
FLAG = '.flag-item[data-rule="change_vs_levels"]'
CHART = f'figure[data-indicator="{SUBSCRIBERS}"] canvas'
# The chart's labels and values, read from Chart.js itself.
CHART_DATA = """(selector) => {
  const canvas = document.querySelector(selector);
  const chart = canvas && window.Chart.getChart(canvas);
  return chart ? {labels: chart.data.labels, values: chart.data.datasets[0].data} : null;
}"""
# Where a point is drawn, in page coordinates, from the chart's own scales.
POINT_AT = """([selector, index]) => {
  const canvas = document.querySelector(selector);
  const chart = window.Chart.getChart(canvas);
  const box = canvas.getBoundingClientRect();
  const value = chart.data.datasets[0].data[index];
  return {x: box.left + chart.scales.x.getPixelForValue(index),
          y: box.top + chart.scales.y.getPixelForValue(value)};
}"""


# The officer's name in the client register: the page shows it where it would show the id.
OFFICER_NAME = "Nguyễn Văn An"


@dataclass
class Officer:
    url: str
    client_id: str
    secret: str
    name: str = OFFICER_NAME


class Shots:
    """Numbered screenshots of each step; `prefix` sets a test's pictures apart from
    another's in docs/screenshots/ (`quality-01-...`)."""

    def __init__(self, directory: Path, prefix: str = "") -> None:
        self.directory = directory
        self.prefix = prefix
        self.taken: list[Path] = []
        directory.mkdir(parents=True, exist_ok=True)

    def take(self, page: Page, name: str, *, full_page: bool = True) -> None:
        path = self.directory / f"{self.prefix}{len(self.taken) + 1:02d}-{name}.png"
        # The passing notice (a toast) would sit over whatever is under it in the picture.
        page.evaluate("document.getElementById('notice').classList.remove('shown')")
        page.screenshot(path=str(path), full_page=full_page)
        self.taken.append(path)

    def publish(self) -> None:
        if os.environ.get("CHISO_UPDATE_SCREENSHOTS") != "1":
            return
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        # a step renamed or gone leaves no stale picture (of this test's: not another's)
        for old in target.glob(f"{self.prefix}[0-9][0-9]-*.png"):
            old.unlink()
        for path in self.taken:
            shutil.copy2(path, target / path.name)


@contextlib.contextmanager
def officer_suite(
    tmp_path: Path, ingest_db: str, indicators_db: str, gateway_db: str
) -> Iterator[Officer]:
    """The three services on free ports, and an officer of Thanh Hóa who may read, upload
    and review."""
    config = SuiteConfig(
        data_dir=tmp_path,
        gateway_port=free_port(),
        ingest_port=free_port(),
        indicators_port=free_port(),
        database_urls={"ingest": ingest_db, "indicators": indicators_db, "gateway": gateway_db},
        log_level="INFO",
        # Re-read the data revision at once, so the dashboard shows a review without waiting.
        extra_env={"CHISO_GATEWAY_REVISION_CHECK_SECONDS": "0"},
    )
    new = create_client(
        OFFICER_NAME,
        ["indicators:read", "documents:write", "facts:review"],
        "stttt-thanh-hoa",
        gateway_settings(tmp_path, gateway_db),
        area="38",
    )
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        created = pool.submit(asyncio.run, new).result()
    with Suite(config, log_dir=tmp_path / "logs"):
        yield Officer(config.url("gateway"), created.client_id, created.client_secret)


@contextlib.contextmanager
def local_page(browser: Browser, **context: Any) -> Iterator[OfflinePage]:
    """A fresh page in a context of its own (`context`: Playwright's new_context options)
    whose every request to a host other than 127.0.0.1 is refused and recorded."""
    opened = browser.new_context(service_workers="block", **context)
    page = opened.new_page()
    offline = OfflinePage(page)

    def guard(route: Route, request: Request) -> None:
        if is_local(request.url):
            route.continue_()
        else:
            offline.outside.append(request.url)
            route.abort("blockedbyclient")

    opened.route("**/*", guard)
    page.on("pageerror", lambda error: offline.errors.append(str(error)))
    try:
        yield offline
    finally:
        opened.close()


def csp_violations(page: Page) -> list[str]:
    """What the Content-Security-Policy blocks on the page (nothing should be)."""
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return blocked


def goto(page: Page, route: str) -> None:
    """Open one of the app's hash routes (`#/documents`) on the page's own origin."""
    page.goto(page.url.split("#")[0] + route)


def sign_in(page: Page, officer: Officer) -> None:
    """Through the dialog, as the page shows it in Vietnamese."""
    page.get_by_role("button", name="Đăng nhập").first.click()
    dialog = page.locator("#sign-in-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Mã ứng dụng (client id)").fill(officer.client_id)
    dialog.get_by_label("Khóa bí mật (client secret)").fill(officer.secret)
    dialog.get_by_role("button", name="Đăng nhập").click()
    expect(dialog).to_be_hidden()
    # The header names the officer (GET /v1/me), the client id in its tooltip.
    who = page.locator("#who")
    expect(who).to_have_text(f"Đã đăng nhập: {officer.name}")
    expect(who).to_have_attribute("title", f"Mã ứng dụng (client id): {officer.client_id}")


def upload_reports(page: Page, folder: Path, reports: dict[str, str] = REPORTS) -> None:
    """The reports (both Thanh Hóa reports unless told) through the Vietnamese upload form,
    waited for until delivered."""
    paths = []
    for name, text in reports.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    goto(page, "#/documents")
    page.get_by_label("Tệp báo cáo").set_input_files(paths)
    page.get_by_role("button", name="Tải lên").click()
    for name in reports:
        line = page.locator(f'.upload-line[data-filename="{name}"] [data-status]')
        expect(line).to_have_attribute("data-status", "delivered", timeout=90_000)
        expect(line).to_have_text("Đã đưa vào số liệu")


def chart_data(page: Page) -> dict[str, Any] | None:
    result: dict[str, Any] | None = page.evaluate(CHART_DATA, CHART)
    return result


def wait_for_chart(page: Page, values: list[float], timeout: float = 60) -> dict[str, Any]:
    """The subscriber chart once it, and the card of its latest value, show `values`; the
    dashboard is opened again (as a person would come back to it) until the services have
    caught up (a review reaches indicators a moment after it is saved, maybe between the
    dashboard's reads)."""
    latest = f"{values[-1]:,}".replace(",", ".")
    card = page.locator(f'.card[data-indicator="{SUBSCRIBERS}"] .value')
    deadline = time.monotonic() + timeout
    while True:
        goto(page, "#/review")
        goto(page, "#/dashboard/38")
        # Not there yet: tried again until the deadline.
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(
                f"() => ({CHART_DATA})({CHART!r})?.values.length >= {len(values)}", timeout=5000
            )
        data = chart_data(page)
        shown = card.text_content() if card.count() else None
        if data is not None and data["values"] == values and shown == latest:
            return data
        assert time.monotonic() < deadline, f"the dashboard shows {data} and {shown}"
        time.sleep(0.5)


def click_point(page: Page, index: int) -> None:
    page.locator(CHART).scroll_into_view_if_needed()
    point = page.evaluate(POINT_AT, [CHART, index])
    page.mouse.click(point["x"], point["y"])


def review_routes(url: str) -> bool:
    """Whether this gateway has the review queue (an unknown path answers 404)."""
    return httpx.get(url + "/v1/reviews/queue").status_code != 404


def wait_for_flag(page: Page, timeout: float = 60) -> Locator:
    """The review queue once it shows the flag of `QUALITY_REPORTS` (indicators checks the
    numbers as they arrive, a moment after the reports are delivered)."""
    flag = page.locator(FLAG)
    deadline = time.monotonic() + timeout
    while True:
        goto(page, "#/dashboard/38")
        goto(page, "#/review")
        with contextlib.suppress(PlaywrightTimeout):
            flag.first.wait_for(timeout=5000)
            return flag
        assert time.monotonic() < deadline, "the review queue shows no flag"
