"""The WebSocket conversation with one tab: checked messages in, snapshots and errors out.

What the server sends, each a JSON object with a ``type``:

- ``hello``: the session id (for the export links) and the catalog (data sets, features,
  activations with their formulas, optimisers, limits, the default setup);
- ``data``: the training and test points (after every new setup or reset);
- ``state``: a ``Session.snapshot`` plus ``running`` — while training, at most one per
  ``TRAIN_SLICE_SECONDS``;
- ``explanation``: the answer to an ``explain`` message (``Session.explain``: backpropagation
  at one point, the numbers of ``chainrule.explain``);
- ``notice``: a sentence the page shows as information (a new network started at epoch 0);
- ``error``: a message the page shows; the connection stays open;
- ``full`` (sent by the server, not here): the tab cap is reached; the connection closes.

Training runs in a worker thread (``asyncio.to_thread``), one slice at a time, so the server
keeps answering every tab while a network trains. The conversation needs only an object with
``receive()`` and ``send_text()`` (Starlette's ``WebSocket``), not the web libraries themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import replace
from typing import Any, TypeVar

from .. import activations
from .datasets import DATASETS, MAX_CLASSES, MAX_UPLOAD_BYTES, OWN
from .features import FEATURES
from .limits import DEFAULT_CAPS, TRAIN_SLICE_SECONDS, Caps
from .messages import (
    OPTIMIZERS,
    REGULARIZATIONS,
    Message,
    MessageError,
    Setup,
    default_setup,
    parse_message,
)
from .session import Session, TrainingFailed

#: what the page says when a change of the data, the features, the layers, the optimiser or the
#: seed started a new network (a learning-rate, penalty or batch-size change keeps the weights)
RESTART_NOTICE = (
    "New network at epoch 0: the data, the features, the layers, the optimizer or "
    "the seed changed. (The learning rate, the regularization and the batch size "
    "change without a reset.)"
)


def catalog(caps: Caps = DEFAULT_CAPS) -> dict[str, Any]:
    """The choices the page offers and the limits it must respect (the server's ``caps``)."""
    return {
        "datasets": list(DATASETS),
        "own_dataset": OWN,
        "max_upload_bytes": MAX_UPLOAD_BYTES,
        "max_classes": MAX_CLASSES,
        "features": [{"name": f.name, "label": f.label} for f in FEATURES.values()],
        "activations": [
            {"name": name, "formula": activations.get(name).formula} for name in activations.names()
        ],
        "optimizers": list(OPTIMIZERS),
        "regularizations": list(REGULARIZATIONS),
        "limits": caps.limits(),
        "defaults": default_setup(caps).as_dict(),
    }


_T = TypeVar("_T")


def _field(message: Message, value: _T | None, name: str) -> _T:
    """A field that ``parse_message`` always sets for this kind of message."""
    if value is None:
        raise MessageError(f"a {message.kind!r} message has no {name}")
    return value


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class Connection:
    """One tab's conversation: runs until the tab closes the WebSocket."""

    def __init__(self, socket: Any, session: Session, key: str, caps: Caps = DEFAULT_CAPS) -> None:
        self.socket = socket
        self.caps = caps
        self.session = session
        self.key = key
        self.running = False
        self.closed = False
        self._trainer: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()

    # ------------------------------------------------------------------ sending
    async def send(self, payload: dict[str, Any]) -> None:
        """Send one JSON message (dropped quietly once the tab has gone)."""
        if self.closed:
            return
        text = json.dumps(payload, allow_nan=False, separators=(",", ":"))
        async with self._send_lock:
            try:
                await self.socket.send_text(text)
            except Exception:  # the socket closed under us: stop talking and training
                self.closed = True
                self.running = False

    async def error(self, text: str) -> None:
        await self.send({"type": "error", "message": text})

    async def notice(self, text: str) -> None:
        await self.send({"type": "notice", "message": text})

    async def send_data(self) -> None:
        points = await asyncio.to_thread(self.session.points)
        await self.send({"type": "data", **points})

    async def send_state(self) -> None:
        snapshot = await asyncio.to_thread(self.session.snapshot)
        await self.send({"type": "state", "running": self.running, **snapshot})

    # ------------------------------------------------------------------ the conversation
    async def run(self) -> None:
        """Greet the tab, then answer its messages until it disconnects."""
        await self.send({"type": "hello", "session": self.key, "catalog": catalog(self.caps)})
        await self.send_data()
        await self.send_state()
        try:
            while not self.closed:
                event = await self.socket.receive()
                if event.get("type") == "websocket.disconnect":
                    break
                raw = event.get("text")
                await self.handle(raw if raw is not None else event.get("bytes"))
        finally:
            self.closed = True
            await self.stop()

    async def handle(self, raw: Any) -> None:
        """Check one message and act on it; a bad one gets an error, nothing else changes."""
        try:
            message = parse_message(raw, self.caps)
        except MessageError as problem:
            await self.error(str(problem))
            return
        try:
            await self._dispatch(message)
        except TrainingFailed as problem:
            await self.stop()
            await self.error(str(problem))
            await self.send_state()

    async def _dispatch(self, message: Message) -> None:
        if message.kind == "start":
            self.start()
            return
        if message.kind == "select":
            await asyncio.to_thread(self.session.select, _field(message, message.layer, "layer"))
            await self.send_state()
            return
        if message.kind == "probe":
            await asyncio.to_thread(self.session.set_probe, _field(message, message.point, "point"))
            await self.send_state()
            return
        if message.kind == "explain":
            try:
                view = await asyncio.to_thread(
                    self.session.explain, _field(message, message.point, "point"), message.label
                )
            except ValueError as problem:  # a class the data does not have
                await self.error(str(problem))
                return
            await self.send({"type": "explanation", **view})
            return
        if message.kind in ("setup", "link"):
            setup, problems = _field(message, message.setup, "setup"), message.problems
            if message.kind == "link" and setup.dataset == OWN and self.session.own_data is None:
                setup = replace(setup, dataset=Setup().dataset)
                problems = (
                    *problems,
                    "dataset: a link cannot carry your CSV; upload it again in this tab",
                )
            await self.configure(setup)
            if problems:
                await self.error(
                    f"The link's {_plural(len(problems), 'bad field')} "
                    f"took the default: {'; '.join(problems)}. Every "
                    "other field of the link was kept."
                )
            return
        await self.stop()
        if message.kind == "reset":
            await asyncio.to_thread(self.session.reset)
            await self.send_data()
        elif message.kind == "step":
            await asyncio.to_thread(self.session.train, _field(message, message.epochs, "epochs"))
        await self.send_state()

    async def configure(self, setup: Setup) -> None:
        """A new setup: training goes on when only the training settings changed; otherwise a
        new network at epoch 0, paused, and a notice that says why."""
        was_running = self.running
        await self.stop()
        previous = self.session.setup
        try:
            restarted = await asyncio.to_thread(self.session.configure, setup)
        except ValueError as problem:  # the own CSV chosen but none uploaded
            await self.error(str(problem))
            await self.send_state()
            return
        if restarted:
            await self.send_data()
            if setup != previous:
                await self.notice(RESTART_NOTICE)
        elif was_running:
            self.start()
        await self.send_state()

    # ------------------------------------------------------------------ training
    def start(self) -> None:
        """Train in the background, sending a state after every slice, until paused."""
        if self.running or self.closed:
            return
        self.running = True
        self._trainer = asyncio.create_task(self._train())

    async def stop(self) -> None:
        """Pause: let the slice under way finish, then stop."""
        self.running = False
        trainer, self._trainer = self._trainer, None
        if trainer is not None:
            with contextlib.suppress(Exception):
                await trainer

    async def _train(self) -> None:
        try:
            while self.running and not self.closed:
                await asyncio.to_thread(self.session.train_for, TRAIN_SLICE_SECONDS)
                if self.session.finished:
                    self.running = False
                await self.send_state()
        except TrainingFailed as problem:
            self.running = False
            await self.error(str(problem))
            await self.send_state()


__all__ = ["catalog", "Connection", "RESTART_NOTICE"]
