"""Client-credentials tokens shared by every hook that requests the same scope.

A confidential app can get a new access token whenever it likes, so a token
is only a cache. Getting one per hook costs one Globus Auth request per
Airflow task, and more when a sensor or trigger rebuilds its hook. Here one
grant serves every hook of the process until the token is within
:data:`RENEW_MARGIN_SECONDS` of its expiry. With a SQLite token storage, one
grant also serves every process on the machine that opens the same file.

Tokens are cached under the Auth base URL, the client id, the exact scope
string and an HMAC-SHA256 digest keyed by the client secret. A connection
with another secret for the same client id therefore never receives a token
that it could not get itself. The secret is never stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import globus_sdk
from globus_sdk.authorizers import GlobusAuthorizer

from globus_airflow.exceptions import GlobusConnectionConfigError, GlobusError

log = logging.getLogger(__name__)

TRANSFER_RESOURCE_SERVER = "transfer.api.globus.org"

RENEW_MARGIN_SECONDS = 60.0
"""A token this close to its expiry is renewed, as globus-sdk's RenewingAuthorizer does."""

SQLITE_LOCK_TIMEOUT_SECONDS = 120.0
"""How long a process waits for another one that is getting a token into the same file."""

_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    auth_base_url TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    secret_digest TEXT NOT NULL,
    access_token TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (auth_base_url, client_id, scope)
)
"""


@dataclasses.dataclass(frozen=True)
class TokenKey:
    """The identity of a cached token: two hooks with equal keys share a token."""

    auth_base_url: str
    client_id: str
    scope: str
    secret_digest: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class CachedToken:
    """An access token and its expiry in seconds since the epoch; ``repr()`` hides the token."""

    access_token: str = dataclasses.field(repr=False)
    expires_at: float

    def is_usable(self, *, stale_token: str | None = None) -> bool:
        """Return whether the token is not ``stale_token`` and not about to expire."""
        if self.access_token == stale_token:
            return False
        return time.time() < self.expires_at - RENEW_MARGIN_SECONDS


def secret_digest(client_id: str, client_secret: str) -> str:
    """Return an HMAC-SHA256 digest that distinguishes secrets without revealing them."""
    message = f"globus-airflow token cache:{client_id}".encode()
    return hmac.new(client_secret.encode(), message, hashlib.sha256).hexdigest()


class MemoryTokenStore:
    """Tokens of this process, with one lock per key so that concurrent hooks share one grant."""

    def __init__(self) -> None:
        self._tokens: dict[TokenKey, CachedToken] = {}
        self._locks: dict[TokenKey, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_for(self, key: TokenKey) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get_or_fetch(
        self, key: TokenKey, fetch: Callable[[], CachedToken], *, stale_token: str | None = None
    ) -> CachedToken:
        """Return the cached token for ``key``, or call ``fetch`` when it is missing, stale or expiring."""
        with self._lock_for(key):
            token = self._tokens.get(key)
            if token is not None and token.is_usable(stale_token=stale_token):
                return token
            token = fetch()
            self._tokens[key] = token
            return token

    def discard(self, key: TokenKey, access_token: str) -> None:
        """Forget the token for ``key`` if it is still ``access_token``."""
        with self._lock_for(key):
            token = self._tokens.get(key)
            if token is not None and token.access_token == access_token:
                del self._tokens[key]

    def clear(self) -> None:
        """Forget every token."""
        with self._guard:
            self._tokens.clear()


PROCESS_TOKENS = MemoryTokenStore()
"""The tokens of this process, shared by every hook."""


class SQLiteTokenStore:
    """Tokens in a SQLite file that every process of the machine may share.

    The file is created with mode 0600 and refused when other users may read
    it, because access tokens are secrets. A process that needs a token takes
    the database's write lock before it reads, so concurrent processes wait
    for one grant instead of each making their own.
    """

    def __init__(self, path: Path, *, conn_id: str) -> None:
        self.path = path
        self._conn_id = conn_id
        self._create_file()
        with self._connect() as connection:
            connection.execute(_SQLITE_SCHEMA)

    def _create_file(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            pass
        else:
            os.close(descriptor)
            log.info("Created the Globus token storage file %s (mode 0600)", self.path)

        info = self.path.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise GlobusConnectionConfigError(
                f"Airflow connection {self._conn_id!r}: token storage file {self.path} has mode "
                f"{stat.filemode(info.st_mode)} and owner uid {info.st_uid}, but it holds access "
                f"tokens. Make the Airflow user its owner and run 'chmod 600 {self.path}', "
                "or point token_storage at a new file."
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=SQLITE_LOCK_TIMEOUT_SECONDS, isolation_level=None)

    def get_or_fetch(
        self, key: TokenKey, fetch: Callable[[], CachedToken], *, stale_token: str | None = None
    ) -> CachedToken:
        """Return the stored token for ``key``, or call ``fetch`` under the file's write lock and store it."""
        connection = self._connect()
        try:
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                log.warning(
                    "Could not lock the Globus token storage file %s (%s); getting a token "
                    "without it",
                    self.path,
                    error,
                )
                return fetch()

            try:
                token = self._read(connection, key)
                if token is None or not token.is_usable(stale_token=stale_token):
                    token = fetch()
                    self._write(connection, key, token)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            return token
        finally:
            connection.close()

    def discard(self, key: TokenKey, access_token: str) -> None:
        """Delete the stored token for ``key`` if it is still ``access_token``."""
        with self._connect() as connection:
            connection.execute(
                "DELETE FROM tokens WHERE auth_base_url = ? AND client_id = ? AND scope = ? "
                "AND access_token = ?",
                (key.auth_base_url, key.client_id, key.scope, access_token),
            )

    def _read(self, connection: sqlite3.Connection, key: TokenKey) -> CachedToken | None:
        row = connection.execute(
            "SELECT secret_digest, access_token, expires_at FROM tokens "
            "WHERE auth_base_url = ? AND client_id = ? AND scope = ?",
            (key.auth_base_url, key.client_id, key.scope),
        ).fetchone()
        if row is None or not hmac.compare_digest(row[0], key.secret_digest):
            return None
        return CachedToken(access_token=row[1], expires_at=float(row[2]))

    def _write(self, connection: sqlite3.Connection, key: TokenKey, token: CachedToken) -> None:
        connection.execute(
            "INSERT OR REPLACE INTO tokens "
            "(auth_base_url, client_id, scope, secret_digest, access_token, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                key.auth_base_url,
                key.client_id,
                key.scope,
                key.secret_digest,
                token.access_token,
                token.expires_at,
            ),
        )


class TokenSource:
    """Transfer tokens of one confidential app: from this process, then the storage file, then Globus Auth.

    :param auth_client: the app's Auth client; it makes the grants
    :param client_secret: used only to compute the cache key's digest
    :param storage: the SQLite store shared with other processes, if any
    """

    def __init__(
        self,
        auth_client: globus_sdk.ConfidentialAppAuthClient,
        *,
        client_secret: str,
        storage: SQLiteTokenStore | None = None,
    ) -> None:
        self._auth_client = auth_client
        self._client_id = str(auth_client.client_id)
        self._digest = secret_digest(self._client_id, client_secret)
        self._storage = storage

    def _key(self, scope: str) -> TokenKey:
        return TokenKey(
            auth_base_url=self._auth_client.base_url,
            client_id=self._client_id,
            scope=scope,
            secret_digest=self._digest,
        )

    def token(self, scope: str, *, stale_token: str | None = None) -> CachedToken:
        """Return a usable token for ``scope``; ``stale_token`` is never returned again.

        :raises globus_sdk.AuthAPIError: Globus Auth rejected the grant
        """
        key = self._key(scope)

        def load_or_grant() -> CachedToken:
            if self._storage is None:
                return self.grant(scope)
            return self._storage.get_or_fetch(
                key, lambda: self.grant(scope), stale_token=stale_token
            )

        return PROCESS_TOKENS.get_or_fetch(key, load_or_grant, stale_token=stale_token)

    def discard(self, scope: str, access_token: str) -> None:
        """Forget a token that Transfer rejected, here and in the storage file."""
        key = self._key(scope)
        PROCESS_TOKENS.discard(key, access_token)
        if self._storage is not None:
            self._storage.discard(key, access_token)

    def grant(self, scope: str) -> CachedToken:
        """Get a new Transfer token from Globus Auth with the client-credentials grant.

        :raises GlobusConnectionConfigError: Globus Auth rejected a data_access
            scope as unknown, which happens for collections that are not GCS v5
            mapped collections
        :raises globus_sdk.AuthAPIError: Globus Auth rejected the grant otherwise
        """
        try:
            response = self._auth_client.oauth2_client_credentials_tokens(requested_scopes=scope)
        except globus_sdk.AuthAPIError as error:
            if auth_error_code(error) == "invalid_scope" and "/data_access" in scope:
                raise GlobusConnectionConfigError(
                    f"Globus Auth rejected the scope {scope!r} of client {self._client_id} as "
                    f"invalid_scope ({auth_error_description(error)}). Only GCS v5 mapped "
                    "collections that are not high assurance have a data_access scope: remove "
                    "guest, high-assurance and Globus Connect Personal collections from the "
                    "connection's data_access_collections extra."
                ) from error
            raise
        data = response.by_resource_server.get(TRANSFER_RESOURCE_SERVER)
        if data is None:
            raise GlobusError(
                f"Globus Auth granted client {self._client_id} no Transfer token for scope "
                f"{scope!r}; the resource servers in its response were "
                f"{sorted(response.by_resource_server)}."
            )
        log.info("Got a Transfer token for client %s with scope %s", self._client_id, scope)
        return CachedToken(
            access_token=data["access_token"], expires_at=float(data["expires_at_seconds"])
        )


def auth_error_code(error: globus_sdk.AuthAPIError) -> str | None:
    """Return the error code of a Globus Auth error, also from an OAuth 2 ``{"error": ...}`` body."""
    if error.code:
        return error.code
    body = error.raw_json if isinstance(error.raw_json, dict) else {}
    code = body.get("error")
    return code if isinstance(code, str) else None


def auth_error_description(error: globus_sdk.AuthAPIError) -> str:
    """Return the description of a Globus Auth error, or its HTTP status when it has none."""
    body = error.raw_json if isinstance(error.raw_json, dict) else {}
    description = body.get("error_description") or error.message
    return str(description) if description else f"HTTP {error.http_status}"


class SharedTokenAuthorizer(GlobusAuthorizer):
    """A globus-sdk authorizer that takes its tokens from a :class:`TokenSource`.

    globus-sdk's ClientCredentialsAuthorizer renews its own token, so every
    hook alive when a token expires would make its own grant. This authorizer
    gets the token from the shared source on each request instead.

    :param scope: returns the scope string to use now; a hook adds data_access
        consents to it as it learns which collections need them
    """

    def __init__(self, source: TokenSource, *, scope: Callable[[], str]) -> None:
        self._source = source
        self._scope = scope
        self._last_used: tuple[str, str] | None = None

    def get_authorization_header(self) -> str:
        scope = self._scope()
        token = self._source.token(scope)
        self._last_used = (scope, token.access_token)
        return f"Bearer {token.access_token}"

    def handle_missing_authorization(self) -> bool:
        """Forget the token that Transfer rejected with 401, so the SDK's retry gets a new one."""
        if self._last_used is not None:
            self._source.discard(*self._last_used)
        return True

    def renew(self) -> None:
        """Get a new token for the current scope even if the cached one has not expired."""
        scope = self._scope()
        stale = self._last_used[1] if self._last_used and self._last_used[0] == scope else None
        token = self._source.token(scope, stale_token=stale)
        self._last_used = (scope, token.access_token)
