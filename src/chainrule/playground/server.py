"""The playground's web server: the page, its WebSocket, the exports (Starlette + uvicorn).

Routes:

- ``GET /`` — the page; ``/static/...`` — its script and style sheet, shipped in the package;
- ``GET /api/catalog`` — the choices and limits as JSON;
- ``WS /ws`` — one session per connection (``Connection``), at most ``caps.max_sessions``;
- ``GET /export/{session}/model.npz`` and ``/export/{session}/snippet.py`` — the trained model
  file (``model.save``) and the Python that reproduces the run;
- ``POST /upload/{session}`` — the tab's own CSV (at most ``MAX_UPLOAD_BYTES``), read by
  ``chainrule.datasets.load_csv``; a JSON answer with its rows and classes, or its problem.

Safety: it binds 127.0.0.1 unless told otherwise; requests must name a local host (the
``Host`` header, against DNS rebinding) and WebSockets must come from the page's own origin;
session ids are random, so only the tab that owns a session can export it; every response
carries a content security policy that allows only the server's own files.

This module needs the ``web`` extra (``pip install "chainrule[web]"``).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from .connection import Connection, catalog
from .datasets import MAX_UPLOAD_BYTES
from .limits import DEFAULT_CAPS, MAX_FRAME_BYTES, Caps
from .messages import default_setup
from .registry import SessionRegistry
from .session import Session

STATIC = Path(__file__).parent / "static"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
#: WebSocket close code: the server is at its session limit ("try again later")
TRY_AGAIN_LATER = 1013
#: WebSocket close code: a policy violation (a foreign origin)
POLICY_VIOLATION = 1008


class SecurityHeaders:
    """ASGI middleware adding ``SECURITY_HEADERS`` to every HTTP response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(
                    (name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()
                )
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ---------------------------------------------------------------------- handlers
async def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html")


async def _catalog(request: Request) -> Response:
    return JSONResponse(catalog(request.app.state.caps))


def _session_or_404(request: Request) -> Session | None:
    return request.app.state.sessions.get(request.path_params["key"])


async def _export_model(request: Request) -> Response:
    session = _session_or_404(request)
    if session is None:
        return PlainTextResponse("no such session (the tab was closed?)", status_code=404)
    content = await asyncio.to_thread(session.model_file)
    return Response(
        content,
        media_type="application/octet-stream",
        headers={"content-disposition": 'attachment; filename="playground-model.npz"'},
    )


async def _export_snippet(request: Request) -> Response:
    session = _session_or_404(request)
    if session is None:
        return PlainTextResponse("no such session (the tab was closed?)", status_code=404)
    return PlainTextResponse(
        session.snippet(), headers={"content-disposition": 'inline; filename="playground_run.py"'}
    )


async def _upload(request: Request) -> Response:
    session = _session_or_404(request)
    if session is None:
        return JSONResponse({"error": "no such session (the tab was closed?)"}, status_code=404)
    content = bytearray()
    async for chunk in request.stream():
        content.extend(chunk)
        if len(content) > MAX_UPLOAD_BYTES:  # stop reading: the cap is the point
            return JSONResponse(
                {"error": f"the CSV is larger than the limit of {MAX_UPLOAD_BYTES:,} bytes"},
                status_code=413,
            )
    caps: Caps = request.app.state.caps
    try:
        answer = await asyncio.to_thread(session.upload, bytes(content), caps.max_samples)
    except ValueError as problem:
        return JSONResponse({"error": str(problem)}, status_code=400)
    return JSONResponse(answer)


def _same_origin(websocket: WebSocket) -> bool:
    """True without an Origin header (not a browser) or with the page's own origin."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    return origin is None or origin in (f"http://{host}", f"https://{host}")


async def _socket(websocket: WebSocket) -> None:
    if not _same_origin(websocket):
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    sessions: SessionRegistry = websocket.app.state.sessions
    caps: Caps = websocket.app.state.caps
    session = await asyncio.to_thread(Session, default_setup(caps))
    key = sessions.open(session)
    if key is None:
        await websocket.send_json(
            {
                "type": "full",
                "message": (
                    f"Server full: the playground serves at most {sessions.limit} tabs at "
                    "once. Close "
                    "one, then reload this page."
                ),
            }
        )
        await websocket.close(code=TRY_AGAIN_LATER, reason="server full")
        return
    try:
        await Connection(websocket, session, key, caps).run()
    finally:
        sessions.close(key)


# ---------------------------------------------------------------------- the app
def allowed_hosts(host: str) -> list[str]:
    """The Host header values accepted when bound to ``host`` (any for 0.0.0.0 or ::)."""
    if host in ("0.0.0.0", "::", ""):
        return ["*"]
    return sorted({*LOCAL_HOSTS, "[::1]", host})


def create_app(
    hosts: list[str] | None = None,
    sessions: SessionRegistry | None = None,
    caps: Caps = DEFAULT_CAPS,
) -> Starlette:
    """The playground's ASGI application, under ``caps`` (the registry holds at most
    ``caps.max_sessions`` tabs unless ``sessions`` is given)."""
    app = Starlette(
        routes=[
            Route("/", _index),
            Route("/api/catalog", _catalog),
            Route("/export/{key}/model.npz", _export_model),
            Route("/export/{key}/snippet.py", _export_snippet),
            Route("/upload/{key}", _upload, methods=["POST"]),
            WebSocketRoute("/ws", _socket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=hosts or list(LOCAL_HOSTS)),
            Middleware(SecurityHeaders),
        ],
    )
    app.state.sessions = (
        sessions if sessions is not None else SessionRegistry(limit=caps.max_sessions)
    )
    app.state.caps = caps
    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); OSError when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(64)
    except OSError:
        listener.close()
        raise
    listener.set_inheritable(True)
    return listener


def make_server(app: Starlette, log_level: str = "warning") -> uvicorn.Server:
    """A uvicorn server for ``app`` whose WebSocket frames are capped at MAX_FRAME_BYTES."""
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="off",
        ws="websockets-sansio",
        ws_max_size=MAX_FRAME_BYTES,
    )
    return uvicorn.Server(config)


def url_for(host: str, port: int) -> str:
    """The page's address for a server bound to (host, port)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    shown = "[::1]" if shown == "::" else shown
    return (
        f"http://[{shown}]:{port}/"
        if ":" in shown and not shown.startswith("[")
        else (f"http://{shown}:{port}/")
    )


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = False,
    announce: Callable[[str], Any] = print,
    caps: Caps = DEFAULT_CAPS,
) -> None:
    """Run the playground until Ctrl-C; ``announce`` gets the URL line."""
    listener = bind(host, port)
    port = listener.getsockname()[1]
    server = make_server(create_app(allowed_hosts(host), caps=caps))
    url = url_for(host, port)
    announce(f"chainrule playground: {url}  (Ctrl-C to stop)")
    if host not in LOCAL_HOSTS:
        announce(f"warning: bound to {host}: other machines on the network can reach it")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    server.run(sockets=[listener])


__all__ = [
    "allowed_hosts",
    "bind",
    "create_app",
    "LOCAL_HOSTS",
    "make_server",
    "POLICY_VIOLATION",
    "SECURITY_HEADERS",
    "SecurityHeaders",
    "serve",
    "STATIC",
    "TRY_AGAIN_LATER",
    "url_for",
]
