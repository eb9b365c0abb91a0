"""The web app against axe-core's WCAG 2.0 and 2.1 A and AA rules, in headless Chromium.

Every page an officer sees, in each state a person reaches it in (signed out, the sign-in
dialog with its error, the dashboard with a comparison, the trace panel, the reports with the
upload form, a document with a fact's tooltip and details, the review queue, the correction
and rejection dialogs, the queue led by a data-quality flag, the dialog that explains one,
the data quality page), in Vietnamese and in English, and the dashboard on a phone (390x844).
Every violation fails the test with its rule, impact, help and the selectors of the elements
at fault. axe's best practices (landmarks, heading order, ...) are held to as well.

axe-core is a pinned test asset (scripts/vendor-assets.toml -> tests/e2e/vendor/axe-core/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.browser import OfflinePage
from tests.e2e.support import (
    CHART,
    CHART_DATA,
    FLAG,
    QUALITY_REPORTS,
    SUBSCRIBERS,
    Officer,
    click_point,
    csp_violations,
    goto,
    sign_in,
    upload_reports,
    wait_for_chart,
    wait_for_flag,
)

pytestmark = pytest.mark.slow

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Not WCAG success criteria, but what a screen reader's user moves by: every content in a
# landmark, headings in order, one main, unique landmark names.
BEST_PRACTICE = ["best-practice"]
# Each violation with what a person needs to find and fix it.
RUN_AXE = """async (tags) => {
  const result = await window.axe.run(document, {runOnly: {type: 'tag', values: tags}});
  const violations = result.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    url: violation.helpUrl,
    nodes: violation.nodes.map((node) => ({
      target: node.target.map(String).join(' '),
      summary: node.failureSummary,
    })),
  }));
  return {violations, passed: result.passes.reduce((sum, rule) => sum + rule.nodes.length, 0)};
}"""
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
LANGUAGES = ("vi", "en")


@dataclass
class Audit:
    """axe run over one page, state after state; what it found, by state."""

    page: Page
    source: str = field(default_factory=lambda: AXE.read_text(encoding="utf-8"))
    found: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    states: list[str] = field(default_factory=list)
    passed: int = 0  # rule-element checks that passed: axe did look

    def check(self, state: str) -> None:
        # Injected through DevTools (`evaluate`), not as a <script>: the page's
        # Content-Security-Policy (script-src 'self', nothing inline) refuses an inline script,
        # as it should, and a CSP-bypassing context would test a page with no policy. What
        # `evaluate` runs is not the page's script, so the policy stays whole for the page.
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(self.source)
        self.states.append(state)
        for tags in (WCAG, BEST_PRACTICE):
            result: dict[str, Any] = self.page.evaluate(RUN_AXE, tags)
            self.passed += result["passed"]
            if result["violations"]:
                self.found[f"{state} [{', '.join(tags)}]"] = result["violations"]

    def counts(self) -> dict[str, int]:
        """Elements at fault per rule, over all states."""
        totals: dict[str, int] = {}
        for violations in self.found.values():
            for violation in violations:
                totals[violation["id"]] = totals.get(violation["id"], 0) + len(violation["nodes"])
        return dict(sorted(totals.items()))

    def report(self) -> str:
        lines = [f"axe found violations (elements per rule: {self.counts()}):"]
        for state, violations in self.found.items():
            lines.append(f"== {state}")
            for violation in violations:
                lines.append(
                    f"  {violation['id']} ({violation['impact']}): {violation['help']}"
                    f" <{violation['url']}>"
                )
                for node in violation["nodes"]:
                    lines.append(f"    - {node['target']}")
                    for detail in (node["summary"] or "").splitlines():
                        lines.append(f"        {detail.strip()}")
        return "\n".join(lines)


def toggle_language(page: Page, lang: str) -> None:
    if page.locator("html").get_attribute("lang") != lang:
        page.locator("#lang-toggle").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def signed_out(page: Page, audit: Audit, lang: str) -> None:
    toggle_language(page, lang)
    expect(page.locator("[data-gate=sign-in]")).to_be_visible()
    audit.check(f"{lang}: signed out")
    page.locator("#sign-in").click()
    expect(page.locator("#client-id")).to_be_focused()
    # A modal dialog makes the page behind it inert, so axe looks at the dialog alone.
    audit.check(f"{lang}: sign-in dialog open")
    page.locator("#sign-in-form button[type=submit]").click()  # nothing filled in
    expect(page.locator("#sign-in-error")).to_be_visible()
    audit.check(f"{lang}: sign-in dialog with its error")
    page.keyboard.press("Escape")
    expect(page.locator("#sign-in-dialog")).to_be_hidden()


def dashboard(page: Page, audit: Audit, lang: str) -> None:
    goto(page, "#/dashboard/38")
    page.wait_for_function(f"() => ({CHART_DATA})({CHART!r})?.values.length >= 2")
    # A second province beside Thanh Hóa: the comparison's chart, table and downloads shown.
    page.locator(".compare-form input[name=areas]:not(:checked)").first.check()
    page.locator(".compare-form button[type=submit]").click()
    expect(page.locator(".compare-result table")).to_be_visible()
    audit.check(f"{lang}: dashboard with a comparison")
    page.set_viewport_size(PHONE)
    audit.check(f"{lang}: dashboard on a 390x844 phone")
    page.set_viewport_size(DESKTOP)
    click_point(page, 1)
    trace = page.locator("#trace-dialog")
    expect(trace.locator(".trace-version.current .sentence mark").first).to_have_text("3.530.000")
    audit.check(f"{lang}: trace panel open")
    page.keyboard.press("Escape")
    expect(trace).to_be_hidden()


def documents(page: Page, audit: Audit, lang: str) -> None:
    goto(page, "#/documents")
    expect(page.locator("#upload-file")).to_be_visible()
    expect(page.locator("table.documents tbody tr")).to_have_count(2)
    audit.check(f"{lang}: reports with the upload form")
    page.locator("table.documents a", has_text="thanh-hoa-2023.txt").click()
    mark = page.locator(f'#doc-text .fact[data-indicator="{SUBSCRIBERS}"][data-role="level"]')
    hover_onto_tip(page, mark)
    mark.click()  # the tooltip shown and the details pinned beside the text
    expect(page.locator("#fact-tip")).to_be_visible()
    expect(page.locator("#fact-detail [data-action=correct]")).to_be_visible()
    audit.check(f"{lang}: a document with a fact's tooltip and details")


def hover_onto_tip(page: Page, mark: Locator) -> None:
    """WCAG 1.4.13, which axe cannot see: a tooltip shown on hover stays while the pointer
    moves onto it (to read it, or magnify it), and Escape dismisses it where it is."""
    tip = page.locator("#fact-tip")
    mark.hover()
    expect(tip).to_be_visible()
    box = tip.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(800)  # twice the page's grace before a tip left alone hides
    expect(tip).to_be_visible()
    page.keyboard.press("Escape")
    expect(tip).to_be_hidden()


def review(page: Page, audit: Audit, lang: str) -> None:
    goto(page, "#/review")
    items = page.locator(".queue-item")
    expect(items.first).to_be_visible()
    expect(items.first.locator(".sentence mark")).to_be_visible()
    audit.check(f"{lang}: review queue")
    items.first.locator("[data-action=correct]").click()
    form = page.locator("#form-dialog")
    expect(form.locator("#fact-value")).to_be_focused()
    audit.check(f"{lang}: correction dialog open")
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()
    items.first.locator("[data-action=reject]").click()
    expect(form.locator("#confirm-note")).to_be_visible()
    audit.check(f"{lang}: rejection dialog open")
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()


def quality(page: Page, audit: Audit, lang: str) -> None:
    """The queue led by a flag (its badge, message and figures), the explain dialog, and the
    data quality page with its counts."""
    goto(page, "#/review")
    flag = page.locator(FLAG)
    expect(flag.locator(".flag-figure .sentence mark").first).to_be_visible()
    audit.check(f"{lang}: review queue led by a data-quality flag")
    flag.locator("[data-action=explain]").click()
    form = page.locator("#form-dialog")
    expect(form.locator("#confirm-note")).to_be_visible()
    audit.check(f"{lang}: explain dialog open")
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()
    goto(page, "#/quality")
    expect(page.locator("table.flags tbody tr").first).to_be_visible()
    audit.check(f"{lang}: data quality page")


def test_every_page_meets_wcag_21_aa(
    vietnamese_page: OfflinePage, officer: Officer, tmp_path: Path
) -> None:
    page = vietnamese_page.page
    page.set_default_timeout(30_000)
    blocked = csp_violations(page)
    audit = Audit(page)
    page.goto(officer.url + "/")
    for lang in LANGUAGES:
        signed_out(page, audit, lang)
    toggle_language(page, "vi")
    sign_in(page, officer)
    upload_reports(page, tmp_path)
    wait_for_chart(page, [3_412_500, 3_530_000])
    for lang in LANGUAGES:
        toggle_language(page, lang)
        dashboard(page, audit, lang)
        documents(page, audit, lang)
        review(page, audit, lang)
    toggle_language(page, "vi")
    upload_reports(page, tmp_path, QUALITY_REPORTS)
    wait_for_flag(page)
    for lang in LANGUAGES:
        toggle_language(page, lang)
        quality(page, audit, lang)
    assert len(audit.states) == 28
    assert audit.passed > 1000
    assert not audit.found, audit.report()
    # axe ran inside the page's own policy, which blocked nothing the app does.
    assert (vietnamese_page.outside, vietnamese_page.errors, blocked) == ([], [], [])
