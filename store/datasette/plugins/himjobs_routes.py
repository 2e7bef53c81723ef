"""Datasette routes himjobs adds: feeds at stable URLs and the charts page.

- ``/-/feeds/jobs.atom``, ``/-/feeds/jobs.rss``, ``/-/feeds/jobs.json``: the query string holds the filters
  (role, seniority, arrangement, state, ...); rendered by ``feeds.web.feed_response``.
- ``/-/charts``: server-rendered SVG charts of the jobs view (store/charts.py).

Both read only the one database Datasette serves (the public one).
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


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/-/feeds/jobs\.(?P<fmt>atom|rss|json)$", feed),
        (r"^/-/charts$", charts),
    ]
