"""/docs: Swagger UI from the gateway's own copy (swagger-ui-dist), not from a CDN, so the API's
documentation opens on an isolated ops-centre network."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from gateway.routes.console import console_files, installed

router = APIRouter(include_in_schema=False)
VENDOR = "/console/assets/vendor/"


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    installed(console_files(request))
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{request.app.title} - API",
        swagger_js_url=VENDOR + "swagger-ui-bundle.js",
        swagger_css_url=VENDOR + "swagger-ui.css",
        swagger_favicon_url=VENDOR + "swagger-favicon.png",
        # No online validator: it would send the document to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
