"""/v1/docs in a real browser with no internet: every request that is not to the service is refused, and
the page still lists the API's operations (Swagger UI is bundled from npm, web/build.mjs), under its
Content-Security-Policy with no violation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Cell, Shots

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def test_the_api_docs_list_the_operations_with_no_network(browser: Any, cell: Cell, shots: Shots) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(LISTEN)
    outside: list[str] = []
    served: list[str] = []
    problems: list[str] = []

    def only_the_service(route: Any) -> None:
        if route.request.url.startswith(cell.url + "/"):
            served.append(route.request.url.removeprefix(cell.url))
            route.continue_()
        else:  # no network: a CDN, a validator badge, a font from the internet all fail here
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_service)
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    try:
        r = page.goto(cell.url + "/v1/docs")
        assert r is not None and r.status == 200
        csp = r.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
        page.locator(".opblock").first.wait_for(timeout=30_000)
        # every operation of the document is listed, each with its stable operationId
        listed = page.locator(".opblock").count()
        document = page.evaluate("() => fetch('/v1/openapi.json').then(r => r.json())")
        expected = sum(len(ops) for ops in document["paths"].values())
        assert listed == expected, (listed, expected)
        page.get_by_text("createOperation", exact=True).first.wait_for()
        page.get_by_text("listConflicts", exact=True).first.wait_for()
        # an operation opens and shows its responses (with the problem schema of an error)
        page.locator("#operations-operations-createOperation").click()
        page.locator("#operations-operations-createOperation .responses-table").first.wait_for()
        assert page.locator("#operations-operations-createOperation").get_by_text("application/problem+json").count()
        shots.take(page, "api-docs-offline")
        assert outside == [], outside
        assert "/v1/openapi.json" in served
        assert all(not u.startswith("http") for u in served)
        assert page.evaluate("window.__violations") == []
        assert problems == [], problems
    finally:
        context.close()
