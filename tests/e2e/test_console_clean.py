"""Every page a demo user reaches, in Chromium under the portal's strict CSP: no CSP violation, no script error.

The data is the demo's own: `manage.py demo` runs with PORTAL_BASE_URL at the live server, as `make demo`
sets it from PORT, so its printed links and its e-mails are checked on the way. Then one demo login per
role walks every page its menus and pages link to, and demo users do what those pages do with htmx and
Bootstrap: the login page with a wrong password and with a stale form, the dashboard's period switch and
the back button, searches and filters, a new request's portfolio list, marking a notification read,
asking for a signing code (twice, the second time too early), enrolling and using a second factor, the
menus at phone width, and the error pages. The Swagger page is left out by design (the middleware
relaxes its CSP there); Django admin is walked for the back office.
"""

import base64
import re
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from django.db.models import F
from django_otp.oath import TOTP
from playwright.sync_api import BrowserContext, Page, expect

from clients.models import Client
from portal.notifications.models import OutboxMessage
from portal.shell.demo import DEMO_PASSWORD
from signing.models import SigningCodeSend

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# One login per role of the demo cast (the others share these pages); the back office also walks admin.
ROLE_LOGINS = ["backoffice@example.com", "manager@example.com", "broker1@example.com", "client1@example.com"]

# Chromium reports a CSP violation in the console in words that change between versions; the DOM event
# does not, so every violation is also written to the console by the page itself, with its directive.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "?") +
                " in " + e.sourceFile + ":" + e.lineNumber + " " + (e.sample || ""));
});
"""

# Not pages: downloads, files (bank files are XML), JSON, the API (Swagger is exempt by design), the language switch (a form).
NOT_A_PAGE = re.compile(
    r"(\.csv$|\.pdf$|\.json$|\.xml$|/download/|/attachments/\d+/$|^/api/|^/static/|^/healthz|^/i18n/|/logout/)"
)
# Admin pages are many and alike: the index, each list and each form once, no history or delete screens.
ADMIN_SKIPPED = re.compile(r"^/admin/.*/(history|delete)/|^/admin/(r|logout|password_change|jsi18n)/")


class Console:
    """Console errors, CSP violations and uncaught script errors of one browser context."""

    def __init__(self, context: BrowserContext):
        self.problems: list[str] = []
        self.expected_failures: set[str] = set()  # URLs that answer an error status on purpose
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("page", self.watch)
        for page in context.pages:
            self.watch(page)

    def watch(self, page: Page) -> None:
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.add(f"{page.url}: script error: {error}"))

    def add(self, problem: str) -> None:
        print(problem)  # shown with the failure, also when a later step of the journey fails first
        self.problems.append(problem)

    def _console(self, page: Page, message) -> None:
        text = message.text
        csp = "Content Security Policy" in text or text.startswith("CSP violation")
        if message.type != "error" and not csp:
            return
        url = message.location.get("url", "")
        if text.startswith("Failed to load resource") and url in self.expected_failures:
            return
        self.add(f"{page.url}: console {message.type}: {text} ({url})")

    def expect_failure(self, url: str) -> None:
        self.expected_failures.add(url)


def shape(path: str) -> str:
    """Pages that differ only by ids are one page to walk."""
    return re.sub(r"\d+", "N", path)


def walk(page: Page, console: Console, base: str, start: str, *, admin: bool = False) -> list[str]:
    """Open every page reachable by links from `start`, once per shape; return the paths opened."""
    queue, seen, opened = [start], set(), []
    while queue:
        path = queue.pop(0)
        if shape(path) in seen:
            continue
        seen.add(shape(path))
        if path.startswith("/admin/"):
            # Django admin links a read-only foreign key to its admin page without asking whether the
            # reader may open it; such a page answers the portal's 403 (which is checked like any page).
            console.expect_failure(base + path)
        response = page.goto(base + path)
        page.wait_for_load_state("load")
        if path.startswith("/admin/") and response.status == 403:
            continue
        assert response.status == 200, f"{path} answered {response.status}"
        opened.append(path)
        hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        for href in hrefs:
            target = urlsplit(urljoin(page.url, href))
            if f"{target.scheme}://{target.netloc}" != base or NOT_A_PAGE.search(target.path):
                continue
            if target.path.startswith("/admin/") and (not admin or ADMIN_SKIPPED.search(target.path)):
                continue
            queue.append(target.path)
    return opened


def new_login(browser, base: str, email: str) -> tuple[Page, Console]:
    """A fresh browser context logged in as the demo user, with its console watched from the login page on."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    console = Console(context)
    page = context.new_page()
    log_in(page, base, email, DEMO_PASSWORD)
    expect(page.get_by_test_id("user-menu")).to_have_text(email)
    return page, console


def totp_now(secret: str) -> str:
    secret = secret.replace(" ", "").upper()
    return f"{TOTP(base64.b32decode(secret + '=' * (-len(secret) % 8))).token():06d}"


def test_the_demo_links_to_where_it_runs_and_no_page_logs_a_csp_violation_or_script_error(
    browser, live_server, settings, demo
):
    base = live_server.url
    problems: list[str] = []

    # What the demo printed and sent points at this server only (never at a literal port 8000).
    assert ":8000" not in demo
    assert set(re.findall(r"https?://[^/\s']+", demo)) == {base}
    assert f"Log in at {base}/accounts/login/" in demo
    sent = [text for pair in OutboxMessage.objects.values_list("body", "html_body") for text in pair]
    links = {link for text in sent for link in re.findall(r"https?://[^/\s\"'<>]+", text)}
    assert links == {base}, "every e-mail link leads to this server"
    assert not [text for text in sent if ":8000" in text]

    # The login page, a refused password, and a form sent after the session's cookie is gone.
    context = browser.new_context(locale="en-GB")
    console = Console(context)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("E-mail").fill("broker1@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.context.clear_cookies()
    console.expect_failure(f"{base}/accounts/login/")  # the CSRF refusal is a 403
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="The form has expired")).to_be_visible()
    problems += console.problems
    context.close()

    # Every role walks every page it can reach.
    walked = {}
    for email in ROLE_LOGINS:
        page, console = new_login(browser, base, email)
        walked[email] = walk(page, console, base, urlsplit(page.url).path, admin=email == "backoffice@example.com")
        problems += console.problems
        page.context.close()
    assert {"/client/", "/client/sign/", "/client/documents/", "/client/adviser/"} <= set(walked["client1@example.com"])
    assert "/commissions/" in walked["broker1@example.com"] and "/reports/" in walked["broker1@example.com"]
    assert "/profile/api-keys/" in walked["broker1@example.com"]
    assert "/broker/team/" in walked["manager@example.com"]
    assert "/backoffice/" in walked["backoffice@example.com"]  # the work inbox, and a signed request from it
    assert any(path.startswith("/signing/backoffice/") for path in walked["backoffice@example.com"])
    assert any(path.startswith("/admin/") for path in walked["backoffice@example.com"])

    # broker1: the dashboard's period switch (htmx, pushed into history) and back again.
    page, console = new_login(browser, base, "broker1@example.com")
    page.locator("a[hx-get='?period=YTD']").click()
    expect(page).to_have_url(re.compile(r"\?period=YTD$"))
    page.locator("a[hx-get='?period=1M']").click()
    expect(page).to_have_url(re.compile(r"\?period=1M$"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"\?period=YTD$"))
    expect(page.locator("a[hx-get='?period=YTD']")).to_have_class(re.compile("active"))
    expect(page.locator("canvas[data-chart]")).to_have_attribute("data-drawn", "true")
    # Menus (Bootstrap), then searches and filters (htmx).
    page.get_by_test_id("language-menu").click()
    expect(page.locator(".dropdown-menu.show")).to_be_visible()
    page.get_by_test_id("user-menu").click()
    expect(page.get_by_role("link", name="Security")).to_be_visible()
    page.goto(f"{base}/broker/clients/")
    with page.expect_response(lambda r: "/broker/clients/?" in r.url):
        page.locator("#id_q").fill("Schmidt")
    expect(page).to_have_url(re.compile(r"q=Schmidt"))
    page.goto(f"{base}/signing/requests/")
    with page.expect_response(lambda r: "/signing/requests/?" in r.url):
        page.locator("#id_q").fill("Transfer")
    page.goto(f"{base}/signing/requests/new/")
    page.get_by_test_id("kind-fund_transfer").click()
    with page.expect_response(lambda r: "/signing/requests/accounts/" in r.url):
        page.locator("#id_recipient").select_option(index=1)
    expect(page.locator("#id_portfolio_reference option")).not_to_have_count(0)
    page.goto(f"{base}/commissions/")
    page.get_by_test_id("statement-table").get_by_role("link").first.click()
    page.locator("#id_kind").select_option(index=1)
    with page.expect_response(lambda r: "kind=" in r.url):
        page.locator("form[hx-get] button[type=submit]").click()
    page.goto(f"{base}/notifications/")
    unread = page.locator("[data-testid=notification][data-unread=true]").first
    notification_id = unread.get_attribute("id")
    unread.locator("button[type=submit]").click()
    expect(page.locator(f"#{notification_id}")).not_to_have_attribute("data-unread", "true")
    # At phone width: the collapsed menu opens.
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{base}/broker/")
    page.locator(".navbar-toggler").click()
    expect(page.get_by_test_id("role-nav")).to_be_visible()
    problems += console.problems
    page.context.close()

    # client1 asks for the signing code, then once more too early: the refusal is shown in the panel.
    # The demo sent client1 a code a moment ago; it is made older than the minute between two codes.
    SigningCodeSend.objects.update(created_at=F("created_at") - timedelta(minutes=2))
    page, console = new_login(browser, base, "client1@example.com")
    page.goto(f"{base}/client/sign/")
    rows = page.get_by_role("main").locator("a[href^='/client/sign/']")
    for href in rows.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        page.goto(base + href)
        if page.get_by_test_id("request-code").count():
            break
    else:
        pytest.fail("the demo gives client1 a request to sign")
    code_url = f"{base}{urlsplit(page.url).path}code/"
    with page.expect_response(code_url) as sent:
        page.get_by_test_id("request-code").click()
    assert sent.value.status == 200
    expect(page.get_by_test_id("code-status")).to_have_attribute("data-delivery", "sent")
    console.expect_failure(code_url)
    with page.expect_response(code_url) as refused:
        page.get_by_test_id("request-code").click()
    assert refused.value.status == 400
    expect(page.get_by_test_id("code-panel").get_by_role("alert")).to_be_visible()  # only a refusal has one
    page.get_by_test_id("role-nav").locator("a[href='/notifications/dev-outbox/']").click()
    expect(page.locator("[data-testid=outbox-message][data-channel=sms]").first).to_be_visible()
    problems += console.problems
    page.context.close()

    # broker2 turns on a second factor, then logs in with it.
    page, console = new_login(browser, base, "broker2@example.com")
    page.goto(f"{base}/accounts/2fa/setup/")
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.locator("#id_token").fill(totp_now(secret))
    page.locator("form button[type=submit].btn-primary").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.goto("about:blank")  # the old page stops polling first: a late answer must not set a cookie
    page.context.clear_cookies()
    log_in(page, base, "broker2@example.com", DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/verify/"))
    page.locator("#id_token").fill("000000")
    page.locator("form button[type=submit].btn-primary").click()
    expect(page.locator(".invalid-feedback")).to_be_visible()
    problems += console.problems
    page.context.close()

    # Error pages: Django's debug 404 in the demo, the portal's own 404 and 403 without DEBUG.
    page, console = new_login(browser, base, "broker3@example.com")
    foreign_client = Client.objects.filter(advisor__email="broker1@example.com").first()
    for debug in (True, False):
        settings.DEBUG = debug
        for path, status in (
            (f"/broker/clients/{foreign_client.pk}/", 404),
            ("/no-such-page/", 404),
            ("/client/sign/", 403),
            ("/client/", 404),
        ):
            console.expect_failure(base + path)
            assert page.goto(base + path).status == status
    problems += console.problems
    page.context.close()

    assert problems == []
