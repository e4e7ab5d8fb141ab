"""The HTTP session every Vibes client shares: one per process, sized for its threads.

Connections to Vibes are reused across clients and calls; a forked worker gets its own
(a child must not share its parent's sockets).
"""

from __future__ import annotations

import os
import threading

import requests
from requests.adapters import HTTPAdapter

DEFAULT_POOL_SIZE = 10
"""Connections kept open to Vibes per session: requests' own default, enough for one thread."""

_sessions: dict[int, requests.Session] = {}
_sessions_pid: int | None = None
_sessions_lock = threading.Lock()


def get_session(pool_size: int = DEFAULT_POOL_SIZE) -> requests.Session:
    """The process-wide session for up to ``pool_size`` threads calling at once.

    One session per pool size and process, created on first use and again after a fork (a
    child must not share its parent's sockets). The sync's threads ask for a pool as large
    as their number, so none waits for a connection; every other caller shares the
    default one.
    """
    global _sessions_pid
    pool = max(DEFAULT_POOL_SIZE, pool_size)
    with _sessions_lock:
        if _sessions_pid != os.getpid():
            _sessions.clear()
            _sessions_pid = os.getpid()
        session = _sessions.get(pool)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[pool] = session
        return session
