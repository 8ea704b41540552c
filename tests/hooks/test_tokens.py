"""Token reuse: one grant per app and scope for every hook, thread and (with SQLite) process."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import globus_sdk
import pytest

from globus_airflow.exceptions import GlobusConnectionConfigError
from globus_airflow.hooks import tokens
from globus_airflow.hooks.consents import transfer_scope
from globus_airflow.hooks.tokens import CachedToken, TokenKey

HOOK_SCRIPT = """
import sys
from globus_airflow.hooks.globus import GlobusHook

GlobusHook(globus_conn_id=sys.argv[1]).transfer_client.task_list(limit=1)
"""


def test_hooks_share_one_grant(local_globus, hook_factory):
    hooks = [hook_factory() for _ in range(5)]

    for hook in hooks:
        hook.transfer_client.task_list(limit=1)

    assert local_globus.stats.token_grants == 1
    assert local_globus.stats.requests["GET /transfer/v0.10/task_list"] == 5


def test_threads_share_one_grant(local_globus, hook_factory):
    hooks = [hook_factory() for _ in range(8)]
    errors: list[BaseException] = []

    def call(hook):
        try:
            hook.transfer_client.task_list(limit=1)
        except Exception as error:  # reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=call, args=(hook,)) for hook in hooks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert local_globus.stats.token_grants == 1


def test_each_scope_has_its_own_token(local_globus, hook_factory):
    source = local_globus.collection_id("source")
    plain = hook_factory()
    with_consent = hook_factory("globus_consent", data_access_collections=source)

    plain.transfer_client.task_list(limit=1)
    with_consent.transfer_client.task_list(limit=1)
    hook_factory("globus_consent").transfer_client.task_list(limit=1)

    assert local_globus.stats.token_grants == 2
    assert local_globus.stats.token_grant_scopes[1] == transfer_scope([source])


def test_token_renewed_before_expiry(local_globus, hook_factory, monkeypatch):
    hook = hook_factory()
    hook.transfer_client.task_list(limit=1)

    # On a clock one second inside the renewal margin the token is due for
    # renewal. The new token is fresh on the real clock again.
    lifetime = 172800
    later = time.time() + lifetime - tokens.RENEW_MARGIN_SECONDS + 1
    with monkeypatch.context() as patch:
        patch.setattr(tokens, "time", SimpleNamespace(time=lambda: later))
        hook.transfer_client.task_list(limit=1)
    hook_factory().transfer_client.task_list(limit=1)

    assert local_globus.stats.token_grants == 2


def test_rejected_token_replaced_once(local_globus, hook_factory):
    first = hook_factory()
    first.transfer_client.task_list(limit=1)

    local_globus.expire_tokens()
    first.transfer_client.task_list(limit=1)
    hook_factory().transfer_client.task_list(limit=1)

    assert local_globus.stats.token_grants == 2
    assert local_globus.stats.requests["GET /transfer/v0.10/task_list"] == 4


def test_wrong_secret_gets_no_cached_token(local_globus, hook_factory):
    hook_factory().transfer_client.task_list(limit=1)
    impostor = hook_factory("globus_impostor", client_secret="not-the-secret")

    with pytest.raises(globus_sdk.AuthAPIError) as caught:
        impostor.transfer_client.task_list(limit=1)

    assert caught.value.http_status == 401
    assert local_globus.stats.token_grants == 1
    assert local_globus.stats.token_rejections == 1


def test_sqlite_storage_file(local_globus, hook_factory, tmp_path):
    path = tmp_path / "state" / "tokens.db"
    hook = hook_factory(token_storage=f"sqlite://{path}")

    hook.transfer_client.task_list(limit=1)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_uid == os.getuid()
    contents = b"".join(file.read_bytes() for file in path.parent.iterdir())
    assert local_globus.client_secret.encode() not in contents
    assert local_globus.stats.token_grants == 1


def test_sqlite_storage_shared_by_processes(local_globus, hook_factory, tmp_path):
    path = tmp_path / "tokens.db"
    hook_factory("globus_shared", token_storage=str(path))
    script = tmp_path / "use_hook.py"
    script.write_text(HOOK_SCRIPT)

    processes = [
        subprocess.Popen(
            [sys.executable, str(script), "globus_shared"], stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [(process.wait(timeout=120), process.stderr.read()) for process in processes]
    for process in processes:
        process.stderr.close()

    assert [code for code, _ in results] == [0, 0], results
    assert local_globus.stats.token_grants == 1
    assert local_globus.stats.requests["GET /transfer/v0.10/task_list"] == 2


def test_sqlite_storage_readable_by_others_refused(local_globus, hook_factory, tmp_path):
    path = tmp_path / "tokens.db"
    path.touch()
    path.chmod(0o644)
    hook = hook_factory(token_storage=str(path))

    with pytest.raises(GlobusConnectionConfigError) as caught:
        hook.transfer_client.task_list(limit=1)

    assert f"chmod 600 {path}" in str(caught.value)
    assert local_globus.stats.token_grants == 0


def test_token_objects_hide_secrets():
    token = CachedToken(access_token="token-value-123", expires_at=1.0)
    key = TokenKey(auth_base_url="http://a/", client_id="c", scope="s", secret_digest="digest-456")

    assert "token-value-123" not in repr(token)
    assert "digest-456" not in repr(key)
