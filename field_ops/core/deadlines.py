"""A silent PostgreSQL must not hang a request: client-side deadlines on top of the server's.

`statement_timeout` only helps while the server still runs, and TCP keepalives only while its
host does: a server that is stopped (SIGSTOP, a frozen VM) keeps its sockets open and answers
neither. So every statement, and the pool's liveness ping, runs under a deadline kept by one
watchdog thread; past it the watchdog shuts the connection's socket down, the driver raises
`OperationalError` at once, and the request answers 503 problem+json.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

log = logging.getLogger(__name__)


class Watchdog:
    def __init__(self, tick_seconds: float = 0.1) -> None:
        self._tick = tick_seconds
        self._deadlines: dict[int, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def arm(self, dbapi_connection: Any, seconds: float) -> None:
        with self._lock:
            self._deadlines[id(dbapi_connection)] = (time.monotonic() + seconds, dbapi_connection)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="db-deadlines", daemon=True)
                self._thread.start()

    def disarm(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._deadlines.pop(id(dbapi_connection), None)

    def _run(self) -> None:
        while True:
            time.sleep(self._tick)
            now = time.monotonic()
            with self._lock:
                expired = [key for key, (deadline, _) in self._deadlines.items() if deadline <= now]
                overdue = [self._deadlines.pop(key)[1] for key in expired]
            for dbapi_connection in overdue:
                cut_off(dbapi_connection)


def cut_off(dbapi_connection: Any) -> None:
    """Shut the connection's socket down so a blocked call returns with an error now."""
    try:
        fd = dbapi_connection.pgconn.socket
        sock = socket.socket(fileno=os.dup(fd))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()
        log.warning("database did not answer in time: connection cut off")
    except Exception:  # noqa: BLE001 - already closed, or nothing to cut
        log.debug("nothing to cut off", exc_info=True)


watchdog = Watchdog()
