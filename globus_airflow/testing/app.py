"""The ASGI application of the local Globus service: routers, error bodies and request hooks.

Routes: ``/auth/v2/oauth2/token`` (Globus Auth), ``/transfer/v0.10/...`` (Transfer)
and ``/app/...`` (HTML activity pages). :class:`RequestAccounting` counts each
request per route template and runs the state's request hooks first. Injected
faults act in :class:`~globus_airflow.testing.fault_middleware.FaultInjection`,
which wraps the whole application.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from globus_airflow.testing.auth_api import build_auth_router
from globus_airflow.testing.documents import error_body
from globus_airflow.testing.errors import OAuthError, TransferError
from globus_airflow.testing.fault_middleware import FaultInjection
from globus_airflow.testing.faults import FaultRegistry
from globus_airflow.testing.operations_api import build_operations_router
from globus_airflow.testing.runner import TaskScheduler
from globus_airflow.testing.state import ServiceState
from globus_airflow.testing.transfer_api import build_transfer_router
from globus_airflow.testing.webapp import build_web_app_router

logger = logging.getLogger(__name__)

TRANSFER_PREFIX = "/transfer"


def _transfer_resource(path: str) -> str:
    """Return the ``resource`` of a Transfer error: the request path below ``/transfer``."""
    return path[len(TRANSFER_PREFIX) :] if path.startswith(TRANSFER_PREFIX + "/") else path


class RequestAccounting:
    """ASGI middleware that runs request hooks and counts requests per route.

    A request is counted when its response starts, before any byte reaches the
    client, so a caller that got a response always finds it in the stats.
    """

    def __init__(self, app: ASGIApp, *, state: ServiceState, endpoint_paths: dict[Any, str]) -> None:
        self.app = app
        self.state = state
        self.endpoint_paths = endpoint_paths

    def _route_key(self, scope: Scope) -> str:
        route = scope.get("route")
        template = self.endpoint_paths.get(scope.get("endpoint")) or getattr(route, "path", None)
        if template is None:
            return f"{scope['method']} <unmatched>"

        # Newer FastAPI releases (0.165 was seen) put the included router's own route in the scope,
        # whose path leaves out the router's prefix, so the prefix comes from the path.
        path_parts = scope["path"].rstrip("/").split("/")
        template_parts = template.rstrip("/").split("/")
        if len(path_parts) > len(template_parts):
            prefix = "/".join(path_parts[: len(path_parts) - len(template_parts) + 1])
            template = prefix + template
        return f"{scope['method']} {template}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        for hook in list(self.state.request_hooks):
            outcome = hook(scope["method"], scope["path"])
            if outcome is not None:
                status, body = outcome
                self.state.count_request(f"{scope['method']} {scope['path']}")
                logger.info("request hook responded to %s %s with HTTP %s", scope["method"], scope["path"], status)
                await JSONResponse(body, status_code=status)(scope, receive, send)
                return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.state.count_request(self._route_key(scope))
            await send(message)

        await self.app(scope, receive, counting_send)


def build_app(state: ServiceState, scheduler: TaskScheduler, *, faults: FaultRegistry | None = None) -> ASGIApp:
    """Build the ASGI application that serves ``state``, with the injected ``faults`` if given."""
    app = FastAPI(title="Local Globus service", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(build_auth_router(state), prefix="/auth")
    app.include_router(build_transfer_router(state, scheduler), prefix=f"{TRANSFER_PREFIX}/v0.10")
    app.include_router(build_operations_router(state), prefix=f"{TRANSFER_PREFIX}/v0.10")
    app.include_router(build_web_app_router(state), prefix="/app")

    @app.exception_handler(TransferError)
    async def transfer_error(request: Request, error: TransferError) -> JSONResponse:
        if error.status >= 500 or error.status == 401:
            logger.info("%s %s -> %s %s", request.method, request.url.path, error.status, error.code)
        body = error_body(code=error.code, message=error.message, resource=_transfer_resource(request.url.path))
        body.update(error.extra)
        return JSONResponse(body, status_code=error.status)

    @app.exception_handler(OAuthError)
    async def oauth_error(request: Request, error: OAuthError) -> JSONResponse:
        body = {"error": error.error}
        if error.description:
            body["error_description"] = error.description
        headers = {"WWW-Authenticate": 'Basic realm="local-globus"'} if error.status == 401 else None
        return JSONResponse(body, status_code=error.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if request.url.path.startswith(TRANSFER_PREFIX + "/"):
            code = "ClientError.NotFound" if error.status_code == 404 else "ClientError.BadRequest"
            message = f"{request.method} {_transfer_resource(request.url.path)}: {error.detail}"
            body = error_body(code=code, message=message, resource=_transfer_resource(request.url.path))
            return JSONResponse(body, status_code=error.status_code)
        return JSONResponse({"detail": error.detail}, status_code=error.status_code)

    endpoint_paths = {route.endpoint: route.path for route in app.routes if isinstance(route, APIRoute)}
    app.add_middleware(RequestAccounting, state=state, endpoint_paths=endpoint_paths)
    if faults is None:
        return app
    return FaultInjection(app, registry=faults, count_request=state.count_request)
