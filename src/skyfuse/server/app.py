"""The FastAPI application: API v1, the WebSocket stream, the web map, access control.

``create_app(state, config)`` builds it over a :class:`~skyfuse.server.state.LiveState`
(which the runtime fills, or a test fills by hand)::

    from skyfuse.server.app import create_app
    from skyfuse.server.state import LiveState
    state = LiveState(); state.update(rows)          # rows: TrackRows
    app = create_app(state)                          # ServerConfig() defaults
    # uvicorn.run(app, host="127.0.0.1", port=8080) or TestClient(app)

Layout: ``/api/v1/...`` (:mod:`skyfuse.server.api`), the OpenAPI schema at
``/api/v1/openapi.json`` (interactive page ``/api/v1/docs``), and ``/`` the static web map
(``static_dir``, default ``src/skyfuse/web/static/`` when it has an ``index.html``; a
plain page listing the endpoints otherwise). Static files get explicit MIME types for
``.js .mjs .css .json .pbf .woff2 .ttf .wasm .svg`` (the system's table may lack some, and
a module script with the wrong type does not run). Everything passes
:class:`~skyfuse.server.auth.AccessMiddleware` (token and request limits).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from skyfuse import __version__
from skyfuse.runtime.config import ServerConfig
from skyfuse.server.api import ApiContext, build_router
from skyfuse.server.auth import AccessMiddleware
from skyfuse.server.state import LiveState
from skyfuse.server.stream import StreamHub

__all__ = ["MIME_TYPES", "create_app", "default_static_dir"]

MIME_TYPES = {
    ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
    ".json": "application/json", ".pbf": "application/x-protobuf", ".woff2": "font/woff2",
    ".woff": "font/woff", ".ttf": "font/ttf", ".wasm": "application/wasm",
    ".svg": "image/svg+xml", ".png": "image/png", ".html": "text/html",
    ".geojson": "application/geo+json", ".map": "application/json",
}
"""File suffix → Content-Type of the static files."""

_FALLBACK = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>skyfuse</title></head>
<body><h1>skyfuse {version}</h1>
<p>The web map is not installed in this copy; the live API is:</p>
<ul>
<li><a href="/api/v1/tracks">/api/v1/tracks</a> — live tracks</li>
<li><a href="/api/v1/sources">/api/v1/sources</a> — feeds</li>
<li><a href="/api/v1/sensors">/api/v1/sensors</a> — sensors</li>
<li>/api/v1/history, /api/v1/tracks/ID, WebSocket /api/v1/stream</li>
<li><a href="/api/v1/openapi.json">/api/v1/openapi.json</a> — the schema</li>
</ul></body></html>
"""


def default_static_dir() -> Path:
    """``skyfuse/web/static`` inside the installed package."""
    return Path(__file__).resolve().parent.parent / "web" / "static"


def _register_mime_types() -> None:
    for suffix, kind in MIME_TYPES.items():
        mimetypes.add_type(kind, suffix)


def create_app(state: LiveState, config: ServerConfig | None = None, *,
               history_path: str | None = None, hub: StreamHub | None = None) -> FastAPI:
    """The application over ``state``; ``history_path`` is the store for
    ``/api/v1/history`` and long trails (None: 503 / live trails only)."""
    cfg = config or ServerConfig()
    hub = hub or StreamHub(state, interval_s=cfg.ws_interval_s, max_clients=cfg.max_clients)
    app = FastAPI(title="skyfuse", version=__version__,
                  description="Live air-surveillance picture: tracks, history, feeds. "
                              "API version 1; see docs/api.md.",
                  openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs",
                  redoc_url=None)
    ctx = ApiContext(state=state, hub=hub, config=cfg, history_path=history_path)
    app.include_router(build_router(ctx))
    app.state.live = state
    app.state.hub = hub
    app.state.api = ctx
    static = Path(cfg.static_dir) if cfg.static_dir else default_static_dir()
    if (static / "index.html").is_file():
        _register_mime_types()
        app.mount("/", StaticFiles(directory=static, html=True), name="static")
    else:
        page = _FALLBACK.format(version=__version__)

        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        async def fallback() -> HTMLResponse:
            return HTMLResponse(page)

    app.add_middleware(AccessMiddleware, token=cfg.token or None,
                       max_url_bytes=cfg.max_url_bytes)
    return app
