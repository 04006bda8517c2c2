"""The web map's built static files (MapLibre GL page, offline basemap, fonts).

The sources are the npm project in ``web/`` at the repository root; ``scripts/build-web.sh``
rebuilds this package's ``static/`` folder from them (the built files are committed, so
installing skyfuse needs no npm). The server mounts :data:`STATIC_DIR` at ``/``; the page
then talks to ``/api/v1`` (tracks, one track with its trail, history, sources, sensors)
and ``WS /api/v1/stream``. ``docs/map.md`` describes the page.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["INDEX_HTML", "STATIC_DIR"]

STATIC_DIR: Path = Path(__file__).resolve().parent / "static"
"""Folder of the built page: ``index.html``, ``app.js``, ``basemap/``, ``fonts/`` …"""

INDEX_HTML: Path = STATIC_DIR / "index.html"
"""The map page itself."""
