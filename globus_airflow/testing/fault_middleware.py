"""The ASGI layer that carries out injected faults: errors, latency, dropped connections and holds.

It wraps the whole application, outside Starlette's own middleware, because
dropping a connection needs uvicorn's transport and only the raw ``send``
callable leads to it. Latency and holds wait with ``await``, so a delayed or
held request does not block the event loop or other requests.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
from collections.abc import Callable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from globus_airflow.testing.documents import error_body
from globus_airflow.testing.faults import (
    ErrorSpec,
    FaultHandle,
    FaultRegistry,
    HoldHandle,
    default_error_code,
    route_names_for,
)

logger = logging.getLogger(__name__)

DISCONNECT_TIMEOUT = 5.0
"""Seconds to wait for uvicorn to notice a connection this layer closed."""


def _transport_of(send: Send) -> asyncio.Transport:
    """Return the transport of uvicorn's connection from its raw ``send`` callable.

    NOTE: this relies on uvicorn's ``RequestResponseCycle.send`` being a bound
    method of an object with a ``transport`` attribute, true of its httptools
    and h11 protocols in uvicorn 0.30 to 0.55 at least.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    # uvloop's transports do not derive from asyncio.BaseTransport, so check for abort().
    if not callable(getattr(transport, "abort", None)):
        raise RuntimeError("cannot drop the connection: the ASGI server is not uvicorn or it wrapped send")
    return transport  # type: ignore[no-any-return]


async def _drop_connection(send: Send, receive: Receive) -> None:
    """Close the connection without a response, then wait until uvicorn notices the close.

    Waiting for ``http.disconnect`` keeps uvicorn from sending a 500
    of its own when the application returns without a response.
    """
    _transport_of(send).abort()

    async def drain() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(drain(), DISCONNECT_TIMEOUT)
    except TimeoutError:
        logger.warning("uvicorn did not report the dropped connection within %s s", DISCONNECT_TIMEOUT)


def _client_closed(send: Send) -> bool:
    """Return whether the client closed its end, even if the event loop has not read the close yet.

    A test that kills a client process and then releases a hold at once can
    get ahead of the event loop, so this peeks at the socket itself: a
    readable end of stream means the client is gone.
    """
    try:
        transport = _transport_of(send)
    except RuntimeError:
        return False
    if transport.is_closing():
        return True
    connection_socket = transport.get_extra_info("socket")
    if connection_socket is None:
        return False
    try:
        with socket.socket(fileno=os.dup(connection_socket.fileno())) as probe:
            peeked = probe.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return peeked == b""


def _retry_after_header(seconds: float) -> str:
    # globus-sdk parses Retry-After as whole seconds, so round up.
    return str(math.ceil(seconds))


class FaultInjection:
    """ASGI middleware that applies the faults of a :class:`FaultRegistry` to matching requests.

    Faults fire in registration order. Latency and holds before processing
    delay the request and let it go on. An error or a dropped connection
    ends it before the application sees it. Holds and drops with
    ``after_processing`` act once the application has built its response,
    which is kept back until then.

    ``count_request`` is called with ``"METHOD /path"`` for each request that
    a fault answers or drops before processing, as the service's stats count
    the answers of request hooks.
    """

    def __init__(self, app: ASGIApp, *, registry: FaultRegistry, count_request: Callable[[str], None]) -> None:
        self.app = app
        self.registry = registry
        self.count_request = count_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        route_names = route_names_for(scope["method"], scope["path"])
        fired = self.registry.select(route_names) if route_names else []
        if not fired:
            await self.app(scope, receive, send)
            return

        route = route_names[0]
        request_line = f"{scope['method']} {scope['path']}"
        for handle in fired:
            if handle.after_processing:
                continue
            self._log(handle, route, request_line)

            if handle.kind == "latency":
                await handle.wait_until_removed(handle.seconds)
            elif handle.kind == "hold":
                assert isinstance(handle, HoldHandle)
                replay = await self._hold_before_processing(handle, receive, send, request_line)
                if replay is None:
                    return
                receive = replay
            elif handle.kind == "error":
                assert handle.error is not None
                self.count_request(request_line)
                await self._send_error(scope, receive, send, handle.error, route)
                return
            elif handle.kind == "drop":
                self.count_request(request_line)
                await _drop_connection(send, receive)
                return

        after = [handle for handle in fired if handle.after_processing]
        if not after:
            await self.app(scope, receive, send)
            return
        await self._process_then_apply(after, scope, receive, send, route, request_line)

    # -- after processing ---------------------------------------------------------------

    async def _process_then_apply(
        self,
        handles: list[FaultHandle],
        scope: Scope,
        receive: Receive,
        send: Send,
        route: str,
        request_line: str,
    ) -> None:
        """Run the application with its response kept back, then apply ``handles`` in order."""
        response: list[Message] = []

        async def keep_back(message: Message) -> None:
            response.append(message)

        await self.app(scope, receive, keep_back)

        for handle in handles:
            self._log(handle, route, request_line)
            if handle.kind == "drop":
                await _drop_connection(send, receive)
                return
            assert isinstance(handle, HoldHandle)
            if not await self._hold_after_processing(handle, receive, send, request_line):
                return

        for message in response:
            await send(message)

    # -- holds ---------------------------------------------------------------------------

    async def _hold(self, handle: HoldHandle, receive: Receive, received: list[Message]) -> bool:
        """Wait until the hold is released or the client disconnects; return whether it disconnected.

        Messages that ``receive`` returns meanwhile, such as the request body,
        are appended to ``received`` so that the application can still read them.
        """

        async def watch_for_disconnect() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                received.append(message)

        watcher = asyncio.ensure_future(watch_for_disconnect())
        release = asyncio.ensure_future(handle.wait_until_removed())
        handle.count_held(1)
        try:
            await asyncio.wait({watcher, release}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            handle.count_held(-1)
            for task in (watcher, release):
                if not task.done():
                    task.cancel()
            await asyncio.gather(watcher, release, return_exceptions=True)
        return watcher.done() and not watcher.cancelled() and watcher.exception() is None

    async def _hold_before_processing(
        self, handle: HoldHandle, receive: Receive, send: Send, request_line: str
    ) -> Receive | None:
        """Hold a request before the application receives it.

        Return the ``receive`` to process it with, or None when it must not be
        processed: its client disconnected, or the service is stopping.
        """
        received: list[Message] = []
        if await self._hold(handle, receive, received) or _client_closed(send):
            handle.count_discarded()
            logger.info("held request %s discarded unprocessed: the client disconnected", request_line)
            return None
        if self.registry.closing:
            logger.info("held request %s dropped unprocessed: the service is stopping", request_line)
            await _drop_connection(send, receive)
            return None

        async def replay() -> Message:
            if received:
                return received.pop(0)
            return await receive()

        return replay

    async def _hold_after_processing(self, handle: HoldHandle, receive: Receive, send: Send, request_line: str) -> bool:
        """Hold a processed request's response; return whether to send it."""
        if await self._hold(handle, receive, []) or _client_closed(send):
            handle.count_discarded()
            logger.info("response to held request %s not sent: the client disconnected", request_line)
            return False
        if self.registry.closing:
            await _drop_connection(send, receive)
            return False
        return True

    # -- errors --------------------------------------------------------------------------

    async def _send_error(self, scope: Scope, receive: Receive, send: Send, error: ErrorSpec, route: str) -> None:
        """Send an injected error: an OAuth body on the token route, else a Transfer one."""
        code = error.code or default_error_code(route, error.status)
        path = scope["path"]
        if route == "token":
            body: dict[str, object] = {"error": code}
            if error.message:
                body["error_description"] = error.message
        else:
            resource = path.removeprefix("/transfer") if path.startswith("/transfer/") else path
            message = error.message or f"Injected error: HTTP {error.status} {code} on route {route}"
            body = error_body(code=code, message=message, resource=resource)

        headers = None
        if error.retry_after is not None:
            headers = {"Retry-After": _retry_after_header(error.retry_after)}
        await JSONResponse(body, status_code=error.status, headers=headers)(scope, receive, send)

    @staticmethod
    def _log(handle: FaultHandle, route: str, request_line: str) -> None:
        if handle.kind == "error" and handle.error is not None:
            logger.info("injected HTTP %s on route %s: %s", handle.error.status, route, request_line)
        elif handle.kind == "latency":
            logger.info("injected %s s latency on route %s: %s", handle.seconds, route, request_line)
        elif handle.after_processing:
            logger.info("injected %s after processing on route %s: %s", handle.kind, route, request_line)
        else:
            logger.info("injected %s on route %s: %s", handle.kind, route, request_line)
