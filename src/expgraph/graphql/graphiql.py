"""GraphiQL served by expgraph itself: every asset from the package, none from a CDN.

``GET /graphql`` from a browser (``Accept: text/html``) answers :func:`page`; the
page loads only same-origin files under ``graphql/static/`` (:func:`static_mount`),
by paths relative to ``/graphql``, so it also works behind a proxy that serves the
API under a path prefix. ``static/graphiql/`` holds React, GraphiQL and its explorer
plugin as published on npm, copied by ``scripts/vendor-graphiql`` from the versions
locked in ``scripts/graphiql/package-lock.json`` (``MANIFEST.json`` lists each file's
package, version and SHA-256; never edit them by hand). ``static/expgraph-graphiql.js``
is ours: it starts GraphiQL with the explorer plugin, the headers editor and
subscriptions over a WebSocket at the page's own URL (graphql-transport-ws, which
GraphiQL's bundle includes).

The page's Content-Security-Policy allows scripts, styles and connections to this
origin only (plus the WebSocket to the same host), so nothing can come from elsewhere.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/graphql/static"  # where static_mount serves STATIC_DIR

DEFAULT_QUERY = """\
# expgraph's GraphiQL: every file of this page comes from this server (no CDN).
#
# Run a query with Ctrl-Enter or the run button. The Explorer (left bar) builds
# queries by clicking; the Docs (book icon) describe every type and field.
#
# Authentication: when the server runs with EXPGRAPH_AUTH_ENABLED=true, open the
# "Headers" tab below and send your API key (createApiKey) or session token (login):
#   {"Authorization": "Bearer <key or token>"}
# Headers stay in this tab only, unless you turn on "Persist headers" in the settings.
#
# Subscriptions (executionUpdates) run over a WebSocket at this same URL.

query FirstExperiments {
  experiments(first: 10) {
    totalCount
    edges {
      node {
        id
        name
        kind
        status
        createdAt
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""

_STYLES = ("graphiql/graphiql.min.css", "graphiql/plugin-explorer.css")
_SCRIPTS = (
    "graphiql/react.production.min.js",
    "graphiql/react-dom.production.min.js",
    "graphiql/graphiql.min.js",
    "graphiql/plugin-explorer.umd.js",
    "expgraph-graphiql.js",
)
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def content_security_policy(host: str | None) -> str:
    """Same-origin only. ``'self'`` covers the WebSocket in current browsers; the
    ``ws://``/``wss://`` source of the request's own host (when it is a plain
    host[:port]) is there for those that do not read it so."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            # GraphiQL's editors set style attributes; its fonts are data: URLs in its CSS.
            "style-src 'self' 'unsafe-inline'",
            "font-src 'self' data:",
            "img-src 'self' data:",
            f"connect-src 'self'{sockets}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'self'",
        )
    )


def page(request: Request) -> HTMLResponse:
    """The GraphiQL page for ``GET /graphql``."""
    prefix = "graphql/static/"  # relative to /graphql: keeps a proxy's path prefix
    config = json.dumps({"defaultQuery": DEFAULT_QUERY}).replace("<", "\\u003c")
    styles = "".join(f'\n    <link rel="stylesheet" href="{prefix}{s}" />' for s in _STYLES)
    scripts = "".join(f'\n    <script src="{prefix}{s}"></script>' for s in _SCRIPTS)
    html = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>expgraph GraphiQL</title>
    <link rel="icon" href="data:," />{styles}
    <style>
      body {{ margin: 0; height: 100vh; overflow: hidden; }}
      #graphiql {{ height: 100vh; }}
    </style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL...</div>
    <script id="expgraph-graphiql-config" type="application/json">{config}</script>{scripts}
  </body>
</html>
"""
    headers = {
        "Content-Security-Policy": content_security_policy(request.headers.get("host")),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }
    return HTMLResponse(html, headers=headers)


def static_mount() -> Mount:
    """The page's files, public (no credential needed) like the page itself."""
    return Mount(STATIC_PATH, app=StaticFiles(directory=STATIC_DIR), name="graphiql-static")
