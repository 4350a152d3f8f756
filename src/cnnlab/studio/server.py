"""The studio's ASGI app: the JSON API, the package's static front end, and nothing else.

Only files inside the package's ``static/`` folder are served (Starlette's StaticFiles refuses
paths that leave it); every error, including an unknown path and a bug, is answered as JSON
without a traceback.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles

from cnnlab.errors import CnnlabError
from cnnlab.studio.api import ROUTES
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.http import ApiError, json_error
from cnnlab.studio.uploads import UploadStore

STATIC = Path(__file__).parent / "static"
LOG = logging.getLogger("cnnlab.studio")
# The pages load nothing from elsewhere: scripts, styles and images come from this server only.
_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                                       "style-src 'self'; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store"}


def page_names() -> list[str]:
    """The pages of the navigation bar, in order: the ``PAGES`` list that static/shell.js holds
    (tests and the screenshot script read it here, so a new page is covered by both)."""
    found = re.search(r"export const PAGES = (\[[^\]]*\]);", (STATIC / "shell.js").read_text())
    return json.loads(found.group(1))


async def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers=_HEADERS)


async def _api_not_found(request: Request) -> Response:
    # The catch-all matches every method, so a known path with a wrong method lands here too.
    if any(route.matches(request.scope)[0] is Match.PARTIAL for route in ROUTES):
        return json_error(405, f"{request.method} is not allowed on {request.url.path}")
    return json_error(404, f"no API endpoint {request.url.path}")


async def _api_error(request: Request, exc: Exception) -> Response:
    return json_error(exc.status, exc.message)


async def _user_error(request: Request, exc: Exception) -> Response:
    return json_error(400, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    message = {404: f"not found: {request.url.path}",
               405: f"{request.method} is not allowed on {request.url.path}"}
    return json_error(exc.status_code, message.get(exc.status_code, str(exc.detail)))


async def _bug(request: Request, exc: Exception) -> Response:
    # A bug, not the user's fault: log it here, keep the traceback out of the answer.
    LOG.error("studio: %s %s failed", request.method, request.url.path, exc_info=exc)
    return json_error(500, f"internal error ({type(exc).__name__}); the server log has details")


class _Static(StaticFiles):
    """The package's assets with the same security headers as the page."""

    async def get_response(self, path: str, scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(_HEADERS)
        return response


def create_app(config: StudioConfig | None = None) -> Starlette:
    """The studio as an ASGI app (run it with uvicorn; test it with Starlette's TestClient)."""
    config = config or StudioConfig()
    api_methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    routes = [*ROUTES,
              Route("/api/{rest:path}", _api_not_found, methods=api_methods),
              Route("/", _index, methods=["GET"]),
              Mount("/static", _Static(directory=STATIC, follow_symlink=False), name="static")]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=config.trusted_hosts())],
        exception_handlers={ApiError: _api_error, CnnlabError: _user_error,
                            HTTPException: _http_error, Exception: _bug})
    app.state.config = config
    app.state.uploads = UploadStore(config.uploads_kept)
    return app
