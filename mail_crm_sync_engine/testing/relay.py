"""A loopback TCP relay a test can hold: a mail server that answers slowly, on demand.

Clients connect to the relay's port; each connection is forwarded to the target. ``pause()`` stops
what the server sends from reaching the clients (it waits in the relay and in the sockets' buffers,
as it would behind a congested link); ``resume()`` lets it through. ``pause_after(pattern)`` pauses
right after the server sent ``pattern`` (b"Logged in": after the login). What the clients send
always goes through.
"""

from __future__ import annotations

import contextlib
import socket
import threading

_CHUNK = 65536
# How much of the previous chunk is kept to find a pattern split between two reads.
_PATTERN_TAIL = 256


class Relay:
    """Start with ``start()``, stop with ``stop()``; also a context manager."""

    host = "127.0.0.1"

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.connections = 0  # accepted since start
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self._paused_once = threading.Event()
        self._trigger: bytes | None = None
        self._listener = socket.create_server((self.host, 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name=f"relay-{self.port}", daemon=True)
        self._stopped = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Relay:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped = True
        self._flowing.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> Relay:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what tests control ----------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return not self._flowing.is_set()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open) // 2

    def pause(self) -> None:
        """From now on, nothing the server sends reaches the clients."""
        self._flowing.clear()
        self._paused_once.set()

    def resume(self) -> None:
        self._trigger = None
        self._flowing.set()

    def pause_after(self, pattern: bytes) -> None:
        """Pause once the server has sent ``pattern`` to a client (that chunk goes through)."""
        self._paused_once.clear()
        self._trigger = pattern

    def wait_paused(self, timeout: float) -> bool:
        """Whether a pause (``pause()`` or one of ``pause_after``) came within ``timeout`` s."""
        return self._paused_once.wait(timeout)

    # -- the relay -------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=15)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.connections += 1
                self._open.update((client, server))
            for source, sink, downstream in ((client, server, False), (server, client, True)):
                threading.Thread(
                    target=self._pump, args=(source, sink, downstream), name="relay-pump", daemon=True
                ).start()

    def _pump(self, source: socket.socket, sink: socket.socket, downstream: bool) -> None:
        tail = b""
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data:
                    break
                if downstream:
                    self._flowing.wait()
                    if self._stopped:
                        break
                sink.sendall(data)
                if downstream and (pattern := self._trigger) and pattern in tail + data:
                    self._trigger = None
                    self.pause()
                tail = (tail + data)[-_PATTERN_TAIL:]
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            if downstream:  # the server is done: so is the connection
                with self._lock:
                    self._open.difference_update((source, sink))
                for sock in (source, sink):
                    with contextlib.suppress(OSError):
                        sock.close()
