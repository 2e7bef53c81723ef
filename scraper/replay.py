"""A real HTTP server on 127.0.0.1 that replays recorded source payloads in their exact format.

The demo and the tests crawl it through the production fetcher; only the host differs. Routes
are matched on method and path (and, where a route names them, query parameters), so a paged
source can be served page by page. It answers ``/robots.txt`` (allow all unless told otherwise)
and honours ``If-None-Match`` with ``304``, as real boards with ETags do.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Route:
    method: str
    path: str
    body: bytes
    content_type: str = "application/json"
    status: int = 200
    query: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


class ReplayServer:
    """``with ReplayServer(routes) as server: server.url`` → ``http://127.0.0.1:PORT``."""

    def __init__(self, routes: list[Route], robots_txt: str = "User-agent: *\nAllow: /\n"):
        self.routes = routes
        self.robots_txt = robots_txt
        self.requests: list[tuple[str, str]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def match(self, method: str, target: str) -> Route | None:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        candidates = [r for r in self.routes if r.method == method and r.path == parts.path]
        # The route that names the most matching query parameters wins; unnamed ones are ignored.
        best = [r for r in candidates if all(query.get(k) == v for k, v in r.query.items())]
        return max(best, key=lambda r: len(r.query), default=None)

    def __enter__(self) -> "ReplayServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                server.requests.append((method, self.path))
                if urlsplit(self.path).path == "/robots.txt":
                    return self._reply(200, "text/plain", server.robots_txt.encode())
                route = server.match(method, self.path)
                if route is None:
                    return self._reply(404, "application/json", b'{"error": "not found"}')
                if route.status == 200 and self.headers.get("If-None-Match") == route.etag:
                    return self._reply(304, route.content_type, b"", etag=route.etag)
                self._reply(route.status, route.content_type, route.body, etag=route.etag)

            def _reply(self, status: int, content_type: str, body: bytes, etag: str | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, format: str, *args: object) -> None:
                pass  # the crawl reports what matters

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()


def routes_from_manifest(manifest: dict, root: Path) -> Iterator[Route]:
    """Routes declared in a snapshot manifest: ``[[route]] method, path, file, content_type, query``."""
    for entry in manifest.get("route", []):
        yield Route(
            method=entry.get("method", "GET"),
            path=entry["path"],
            body=(root / entry["file"]).read_bytes(),
            content_type=entry.get("content_type", "application/json"),
            status=entry.get("status", 200),
            query={k: str(v) for k, v in entry.get("query", {}).items()},
        )
