"""labsock's own web server: the reference a student's server and HTTP client are compared with.

    server = labsock.serve_web("web", port=6789)              # one request at a time
    server = labsock.serve_web("web", port=6789, threads=True)   # a thread per connection
    server.log                                                    # each request and its status
    server.stop()

It serves the files of one folder and nothing outside it (no `..`, no link leading out), on
127.0.0.1 unless told otherwise, one request per connection (it answers with `Connection:
close`, as the textbook's server does).
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from labsock.logic.errors import LabsockError
from labsock.logic.http import HttpError, RequestParser, content_type, response_bytes
from labsock.net.lifecycle import ThreadOnPort, background_thread
from labsock.net.log import MessageLog
from labsock.net.sockets import server_address, tcp_listener, tcp_tune

READ_TIMEOUT = 10.0  # a connection that sends nothing for this long is closed
MAX_FILE = 16 * 1024 * 1024
NOT_FOUND = b"<html><body><h1>404 Not Found</h1></body></html>\n"


def path_in_folder(folder: Path, target: str) -> Path | None:
    """The file a request's target names inside folder, or None when it is not a file there.

    The target is decoded (%2e%2e is ..) before it is judged, a segment `..` is refused outright,
    and the resolved path (links followed) must still lie inside the folder."""
    path = unquote(urlsplit(target).path)
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." or "\\" in p or "\0" in p for p in parts):
        return None
    root = folder.resolve()
    found = root.joinpath(*parts) if parts else root / "index.html"
    try:
        found = found.resolve()
    except (OSError, RuntimeError):
        return None
    if not found.is_relative_to(root) or not found.is_file():
        return None
    return found


class WebServer(ThreadOnPort):
    kind = "web server"
    protocol = "tcp"

    def __init__(self, folder=".", port: int = 6789, host: str = "127.0.0.1", *, threads=False):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise LabsockError(
                f"{str(folder)!r} is not a folder: give the folder whose files the server serves."
            )
        self.host, self._requested_port = server_address(host, port)
        self.port = self._requested_port
        self.threads = bool(threads)
        self.log = MessageLog()
        self.what = f"labsock's web server on port {self.port}"
        self._listener: socket.socket | None = None
        self._wake_r = self._wake_w = None
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._handlers: list[threading.Thread] = []

    def _begin(self) -> None:
        self._listener = tcp_listener(self.host, self._requested_port)
        self.port = self._listener.getsockname()[1]
        self.what = f"labsock's web server on port {self.port}"
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = background_thread(self._serve, f"labsock-web-{self.port}")

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ, "accept")
            selector.register(self._wake_r, selectors.EVENT_READ, "wake")
            while True:
                for key, _ in selector.select():
                    if key.data == "wake":
                        return
                    try:
                        connection, client = self._listener.accept()
                    except OSError:
                        continue
                    if self.threads:
                        thread = background_thread(
                            lambda c=connection, a=client: self._handle(c, a),
                            f"labsock-web-{self.port}-{client[1]}",
                        )
                        self._handlers = [t for t in self._handlers if t.is_alive()] + [thread]
                    else:
                        self._handle(connection, client)

    def _handle(self, connection: socket.socket, client) -> None:
        with self._open_lock:
            self._open.add(connection)
        try:
            tcp_tune(connection)
            connection.settimeout(READ_TIMEOUT)
            request = self._read_request(connection, client)
            if request is not None:
                self._answer(connection, client, request)
        except OSError:
            pass
        finally:
            with self._open_lock:
                self._open.discard(connection)
            connection.close()

    def _read_request(self, connection, client):
        parser = RequestParser(max_body=64 * 1024)
        while True:
            data = connection.recv(65536)
            if not data:
                return None
            try:
                requests = parser.feed(data)
            except HttpError as exc:
                self.log.append(time.time(), client, data[:200], error=str(exc))
                connection.sendall(response_bytes(400, str(exc).encode() + b"\n", "text/plain"))
                return None
            if requests:
                return requests[0]

    def _answer(self, connection, client, request) -> None:
        found = path_in_folder(self.folder, request.target) if request.method == "GET" else None
        if request.method != "GET":
            answer = response_bytes(405, b"Only GET is served here.\n", "text/plain")
        elif found is None or found.stat().st_size > MAX_FILE:
            answer = response_bytes(404, NOT_FOUND)
        else:
            answer = response_bytes(200, found.read_bytes(), content_type(found.name))
        status = answer.split(b"\r\n", 1)[0].decode("ascii")
        self.log.append(time.time(), client, request.head.raw, reply=status)
        connection.sendall(answer)

    def _end(self) -> None:
        if self._thread is None:
            return
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        with self._open_lock:
            for connection in self._open:  # wakes a handler blocked in recv (close would not)
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._thread.join()
        for thread in self._handlers:
            thread.join()
        self._thread = None
        for sock in (self._listener, self._wake_r, self._wake_w):
            sock.close()
        self.log.close()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        kind = "a thread per connection" if self.threads else "one request at a time"
        return f"<labsock web server on {self.url()} ({kind}), {state}, serving {self.folder}>"


def serve_web(folder=".", port: int = 6789, host: str = "127.0.0.1", *, threads=False):
    """Start labsock's web server on folder's files; returns it once it listens."""
    return WebServer(folder, port, host, threads=threads).start()
