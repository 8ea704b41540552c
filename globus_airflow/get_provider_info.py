"""Provider metadata that Airflow reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["host", "schema", "port"],
    "relabeling": {"login": "Client ID", "password": "Client Secret"},
    "placeholders": {
        "login": "client id of a Globus confidential app",
        "password": "client secret of the same app",
    },
}

CONN_FIELDS: dict[str, Any] = {
    "auth_base_url": {
        "label": "Auth base URL",
        "description": "Globus Auth address; leave empty for Globus itself.",
        "schema": {"type": ["string", "null"]},
    },
    "transfer_base_url": {
        "label": "Transfer base URL",
        "description": "Globus Transfer address; leave empty for Globus itself.",
        "schema": {"type": ["string", "null"]},
    },
    "environment": {
        "label": "Globus environment",
        "description": "globus-sdk environment name, such as production or preview.",
        "schema": {"type": ["string", "null"]},
    },
    "web_app_url": {
        "label": "Web app URL",
        "description": "Base URL that task links in the Airflow UI point to.",
        "schema": {"type": ["string", "null"]},
    },
    "data_access_collections": {
        "label": "data_access collections",
        "description": (
            "Comma-separated ids of GCS v5 mapped collections whose data_access consent "
            "every token carries. Others are detected."
        ),
        "schema": {"type": ["string", "null"]},
    },
    "token_storage": {
        "label": "Token storage",
        "description": (
            "memory (default), or sqlite:///<absolute path> to share tokens between "
            "processes through a file only its owner may read."
        ),
        "schema": {"type": ["string", "null"]},
    },
}


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata in the shape of Airflow's provider_info schema."""
    return {
        "package-name": "airflow-provider-globus",
        "name": "Globus",
        "description": "Submit Globus Transfer tasks from Airflow and wait for them.",
        "integrations": [
            {
                "integration-name": "Globus Transfer",
                "external-doc-url": "https://docs.globus.org/api/transfer/",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Globus Transfer",
                "python-modules": ["globus_airflow.hooks.globus"],
            }
        ],
        "operators": [
            {
                "integration-name": "Globus Transfer",
                "python-modules": [
                    "globus_airflow.operators.base",
                    "globus_airflow.operators.transfer",
                    "globus_airflow.operators.delete",
                    "globus_airflow.operators.directory",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Globus Transfer",
                "python-modules": ["globus_airflow.sensors.task", "globus_airflow.sensors.path"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Globus Transfer",
                "python-modules": [
                    "globus_airflow.triggers.task",
                    "globus_airflow.triggers.parts",
                    "globus_airflow.triggers.path",
                ],
            }
        ],
        "extra-links": ["globus_airflow.links.task.GlobusTaskLink"],
        "connection-types": [
            {
                "connection-type": "globus",
                "hook-class-name": "globus_airflow.hooks.globus.GlobusHook",
                "hook-name": "Globus",
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
                "conn-fields": CONN_FIELDS,
            }
        ],
    }
