"""The API's page for people, `/docs` (Swagger UI), served whole by this service: prison and
council networks often reach no CDN, and FastAPI's own page loads its script from one (a blank
page there).

The script and styles come from the fastapi-offline package (see pyproject.toml), mounted at
`ASSETS`. The page's Content-Security-Policy lets it load from this host only, so a page that
reached for another host would fail in every browser, not only offline.

There is no `/redoc`: ReDoc's sidebar always loads its maker's logo from their CDN."""

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
# Where fastapi-offline keeps Swagger UI's built files inside its package.
PACKAGE_ASSETS = ("fastapi_offline", "static")


def _policy(html: str) -> str:
    """This host only; the page's own inline script allowed by its hash. Swagger UI sets style
    attributes as it renders, hence inline styles."""
    inline = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in inline
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _page(response: HTMLResponse) -> HTMLResponse:
    html = bytes(response.body).decode()
    return HTMLResponse(html, headers={"content-security-policy": _policy(html)})


def install_docs(app: FastAPI) -> None:
    """Serve `/docs` (FastAPI's own turned off with `docs_url=None, redoc_url=None`) from this
    service's own assets. The page does not change while the process runs: made once."""
    assert app.openapi_url is not None
    app.mount(ASSETS, StaticFiles(packages=[PACKAGE_ASSETS]), name="docs-assets")
    swagger = _page(
        get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )
    )

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return swagger
