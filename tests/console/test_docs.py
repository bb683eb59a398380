"""/docs in a real browser: Swagger UI renders the gateway's API from the gateway's own files,
with no request to another origin (an ops centre's network may reach nothing else)."""

from __future__ import annotations

from tests.console.conftest import Browsing
from tests.gateway.serving import Served


async def test_docs_render_without_leaving_the_gateway(served: Served, browsing: Browsing) -> None:
    page = browsing.page
    await page.goto(f"{served.url}/docs")
    await page.wait_for_selector(".swagger-ui .info .title:has-text('CityVitals gateway')")
    await page.wait_for_selector(".opblock-tag-section")  # the operations are listed
    assert f"{served.url}/openapi.json" in browsing.requests
    outside = [u for u in browsing.requests if not u.startswith(f"{served.url}/")]
    assert outside == []
