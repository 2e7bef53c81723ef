"""Datasette routes himjobs adds: feeds at stable URLs and the charts page.

- ``/-/feeds/jobs.atom``, ``/-/feeds/jobs.rss``, ``/-/feeds/jobs.json``: the query string holds the filters
  (role, seniority, arrangement, state, ...); rendered by ``feeds.web.feed_response``.
- ``/-/charts``: server-rendered SVG charts of the jobs view (store/charts.py).
- ``/-/unsubscribe?token=…``: the digests' unsubscribe link. GET shows a confirm button (mail scanners
  follow GET links); POST unsubscribes, which is also what a mail client's RFC 8058 one-click sends.

Feeds and charts read only the one database Datasette serves (the public one). The unsubscribe route
alone reaches the private database, by token, through store.subscribers; it never shows an address.
"""

from __future__ import annotations

import asyncio
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from store.charts import QUERIES, render_charts


def _public_database(datasette: Any) -> Any:
    served = [db for db in datasette.databases.values() if db.path and not db.is_memory]
    return served[0]


async def feed(datasette: Any, request: Any) -> Response:
    from feeds.web import feed_response  # imported here: the feeds package is optional for the rest

    fmt = request.url_vars["fmt"]
    params = {key: request.args.get(key) for key in request.args}
    status, content_type, body = await asyncio.to_thread(
        feed_response, _public_database(datasette).path, params, fmt
    )
    return Response(body, status=status, content_type=content_type)


async def charts(datasette: Any, request: Any) -> Response:
    db = _public_database(datasette)
    results = {name: [dict(r) for r in (await db.execute(sql)).rows] for name, sql in QUERIES.items()}
    svgs = render_charts(results)
    page = await datasette.render_template(
        "himjobs_charts.html", {"charts": svgs, "database": db.name}, request=request
    )
    return Response.html(page)


_UNSUBSCRIBE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Unsubscribe - himjobs</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto;">{body}</body></html>"""


async def unsubscribe(datasette: Any, request: Any) -> Response:
    import html
    import os

    from store.subscribers import open_private_db, unsubscribe_token

    token = request.args.get("token") or ""
    if not token:
        return Response.html(_UNSUBSCRIBE_PAGE.format(body="<p>This unsubscribe link is incomplete.</p>"), status=400)
    if request.method != "POST":
        form = (f'<form method="post" action="/-/unsubscribe?token={html.escape(token, quote=True)}">'
                '<p>Stop the daily himjobs digest?</p><button type="submit">Unsubscribe</button></form>')
        return Response.html(_UNSUBSCRIBE_PAGE.format(body=form))
    path = os.environ.get("HIMJOBS_PRIVATE_DB")
    found = bool(path) and os.path.exists(path) and await asyncio.to_thread(
        lambda: unsubscribe_token(open_private_db(path), token) is not None)
    if not found:
        return Response.html(_UNSUBSCRIBE_PAGE.format(body="<p>This unsubscribe link is not valid (already used, or mistyped).</p>"), status=404)
    return Response.html(_UNSUBSCRIBE_PAGE.format(body="<p>You are unsubscribed. No more digests will be sent.</p>"))


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/-/feeds/jobs\.(?P<fmt>atom|rss|json)$", feed),
        (r"^/-/charts$", charts),
        (r"^/-/unsubscribe$", unsubscribe),
    ]


@hookimpl
def skip_csrf(scope: dict[str, Any]) -> bool:
    # A one-click unsubscribe POST comes from a mail client, which has no CSRF token to send.
    return scope.get("path") == "/-/unsubscribe"
