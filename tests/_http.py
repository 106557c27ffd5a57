"""A real HTTP server on 127.0.0.1 with Range support, a byte counter and failure modes.

``serve(folder)`` starts it in a thread and yields the server; ``server.url(name)`` is a file's
URL, ``server.bytes_sent`` counts the body bytes sent, ``server.mode`` switches behaviour:
``"ok"``, ``"drop"`` (send half of each body, then close the connection), ``"drop-late"``
(the same for ranges starting at or after ``server.late``), ``"stall"``
(send the headers, then nothing, holding the connection until ``reset()`` or the end), ``"norange"``
(ignore Range: 200 with the whole file). ``server.routes`` maps extra paths to callables
returning ``(status, headers, body)`` (the fake DANDI API).
"""

from __future__ import annotations

import contextlib
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def _serve(self, head: bool):
        server: RangeServer = self.server  # type: ignore[assignment]
        server.requests.append((self.command, self.path, self.headers.get("Range")))
        if server.fail_next > 0:  # a transient server error
            server.fail_next -= 1
            self._send(503, {}, b"" if head else b"busy", 4)
            return
        route = server.routes.get(self.path.split("?", 1)[0])
        if route is not None:
            status, headers, body = route(self)
            self._send(status, headers, b"" if head else body, len(body))
            return
        target = server.folder / self.path.split("?", 1)[0].lstrip("/")
        if not target.is_file():
            self._send(404, {}, b"" if head else b"not found", 9)
            return
        size = target.stat().st_size
        headers = {
            "ETag": f'"{target.stat().st_mtime_ns}-{size}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/x-hdf5",
        }
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if match and server.mode != "norange":
            first = int(match.group(1))
            last = min(int(match.group(2) or size - 1), size - 1)
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        else:
            first, last, status = 0, size - 1, 200
        length = last - first + 1
        if head:
            self._send(status, headers, b"", length)
            return
        with open(target, "rb") as handle:
            handle.seek(first)
            body = handle.read(length)
        if server.mode == "stall" and first > 0:
            self._send_headers(status, headers, length)
            server.release.wait(60)  # hold the connection, send nothing, until reset()
            self.close_connection = True
            return
        dropping = server.mode == "drop" or (server.mode == "drop-late" and first >= server.late)
        if dropping and length > 1:
            self._send_headers(status, headers, length)
            self.wfile.write(body[: length // 2])
            server.bytes_sent += length // 2
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            return
        self._send(status, headers, body, length)

    def _send_headers(self, status, headers, length):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, status, headers, body: bytes, length: int):
        self._send_headers(status, headers, length)
        if body:
            self.wfile.write(body)
            self.server.bytes_sent += len(body)  # type: ignore[attr-defined]


class RangeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, folder):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.folder = Path(folder)
        self.mode = "ok"
        self.bytes_sent = 0
        self.requests: list = []
        self.routes: dict = {}
        self.release = threading.Event()
        self.fail_next = 0  # answer this many requests with 503 first
        self.late = 1 << 20  # "drop-late": only ranges from this byte on are dropped

    def handle_error(self, request, client_address):  # a client that hung up: expected here
        pass

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def reset(self, mode: str = "ok") -> None:
        self.release.set()  # let stalled handlers go
        self.release = threading.Event()
        self.mode = mode
        self.fail_next = 0
        self.bytes_sent = 0
        self.requests.clear()


@contextlib.contextmanager
def serve(folder):
    """Serve ``folder`` on 127.0.0.1 (a free port) for the duration of the block."""
    server = RangeServer(folder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
