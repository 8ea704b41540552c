"""GlobusHook.test_connection against the local Globus service: good, wrong, unknown, down."""

from __future__ import annotations

from globus_airflow.testing import LocalGlobusService


def test_good_connection(local_globus, hook_factory):
    ok, message = hook_factory().test_connection()

    assert ok, message
    assert local_globus.client_id in message
    assert local_globus.stats.token_grants == 1
    assert local_globus.stats.requests["GET /transfer/v0.10/task_list"] == 1


def test_wrong_secret(local_globus, hook_factory):
    ok, message = hook_factory(client_secret="wrong-secret-value").test_connection()

    assert not ok
    assert f"Globus Auth rejected client id {local_globus.client_id}" in message
    assert "secret is wrong" in message
    assert "wrong-secret-value" not in message


def test_wrong_secret_not_hidden_by_cached_token(local_globus, hook_factory):
    hook_factory().transfer_client.task_list(limit=1)

    ok, message = hook_factory("globus_wrong", client_secret="wrong-secret-value").test_connection()

    assert not ok
    assert "rejected client id" in message


def test_unknown_client(local_globus, hook_factory):
    ok, message = hook_factory(client_id="no-such-client").test_connection()

    assert not ok
    assert "rejected client id no-such-client" in message
    assert local_globus.client_secret not in message


def test_service_down(hook_factory, monkeypatch, tmp_path):
    stopped = LocalGlobusService(collections={"source": tmp_path})
    with stopped:
        extra = stopped.connection_extra()
    hook = hook_factory(**extra)

    ok, message = hook.test_connection()

    assert not ok
    assert f"Could not reach Globus Auth at {extra['auth_base_url']}" in message


def test_transfer_unavailable(local_globus, hook_factory):
    local_globus.add_request_hook(
        lambda method, path: (
            (
                503,
                {
                    "code": "ServiceUnavailable",
                    "message": "down",
                    "request_id": "x",
                    "resource": path,
                },
            )
            if path.startswith("/transfer/")
            else None
        )
    )

    ok, message = hook_factory().test_connection()

    assert not ok
    assert "Globus Transfer returned HTTP 503 (ServiceUnavailable)" in message


def test_hook_repr_hides_secret(local_globus, hook_factory):
    hook = hook_factory()

    assert local_globus.client_secret not in repr(hook)
    assert local_globus.client_secret not in repr(hook.credentials)
    assert local_globus.client_secret not in str(hook.credentials)
