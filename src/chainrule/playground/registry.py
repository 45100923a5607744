"""The open sessions, one per browser tab, under unguessable ids, at most ``MAX_SESSIONS``.

>>> registry = SessionRegistry(limit=1)
>>> key = registry.open(object())
>>> registry.open(object()) is None    # full
True
>>> registry.close(key); len(registry)
0
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from .limits import MAX_SESSIONS


class SessionRegistry:
    """Sessions by id (thread-safe); the export endpoints look them up here."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self.limit = limit
        self._sessions: dict[str, Any] = {}
        self._lock = threading.Lock()

    def open(self, session: Any) -> str | None:
        """Register ``session`` and return its new id, or None when ``limit`` are open."""
        with self._lock:
            if len(self._sessions) >= self.limit:
                return None
            key = secrets.token_urlsafe(16)
            self._sessions[key] = session
            return key

    def get(self, key: str) -> Any | None:
        """The session with id ``key``, or None."""
        with self._lock:
            return self._sessions.get(key)

    def close(self, key: str) -> None:
        """Forget the session ``key`` (its tab went away)."""
        with self._lock:
            self._sessions.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)


__all__ = ["SessionRegistry"]
