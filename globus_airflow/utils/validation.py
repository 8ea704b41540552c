"""Checks on operator arguments that run before anything is sent to Globus.

Each check raises :class:`~globus_airflow.exceptions.GlobusInputError` with a
message that names the argument, shows the value and explains how to fix it.
Values that still hold a Jinja template are skipped at DAG parse time and
checked again after rendering, at execution time.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from globus_airflow.exceptions import GlobusInputError

MAX_LABEL_LENGTH = 128
"""Maximum length of a task label that Globus Transfer accepts."""

SYNC_LEVELS = {"exists": 0, "size": 1, "mtime": 2, "checksum": 3}
"""Names and numbers of Transfer's sync levels, weakest first."""

TRANSFER_ITEM_KEYS = frozenset(
    {"source_path", "destination_path", "recursive", "external_checksum", "checksum_algorithm"}
)
FILTER_RULE_KEYS = frozenset({"name", "method", "type"})


def is_template(value: Any) -> bool:
    """Return whether ``value`` is a string that Airflow has yet to render."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def check_collection_id(name: str, value: Any) -> str:
    """Check that ``value`` is a collection UUID and return it in canonical form."""
    if is_template(value):
        return value
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError):
        raise GlobusInputError(
            f"{name}={value!r} is not a Globus collection id: pass the collection's UUID, "
            "as shown on its page in the Globus web app, e.g. "
            "'ddb59aef-6d04-11e5-ba46-22000b92c6ec'."
        ) from None


def check_path(name: str, value: Any) -> str:
    """Check that ``value`` is an absolute collection path (``/...`` or ``/~/...``)."""
    if is_template(value):
        return value
    if not isinstance(value, str) or not value:
        raise GlobusInputError(f"{name}={value!r} is not a path: pass a non-empty string.")
    if not value.startswith(("/", "~/")) and value != "~":
        raise GlobusInputError(
            f"{name}={value!r} is a relative path: Globus paths start with '/' "
            f"(the collection root) or '/~/' (the default directory), e.g. '/~/{value}'."
        )
    if "\n" in value or "\r" in value or "\x00" in value:
        raise GlobusInputError(f"{name}={value!r} contains a line break or NUL character.")
    return value


def check_label(name: str, value: Any) -> str | None:
    """Check a task label against Globus's limits: 128 characters, no line breaks."""
    if value is None or is_template(value):
        return value
    if not isinstance(value, str):
        raise GlobusInputError(f"{name}={value!r} is not a string.")
    if len(value) > MAX_LABEL_LENGTH:
        raise GlobusInputError(
            f"{name} is {len(value)} characters long ({value[:40]!r}...): Globus accepts "
            f"at most {MAX_LABEL_LENGTH}; shorten it."
        )
    if any(ch in value for ch in "\r\n\t"):
        raise GlobusInputError(f"{name}={value!r} contains a line break or tab; remove it.")
    if value != value.strip():
        raise GlobusInputError(
            f"{name}={value!r} starts or ends with whitespace, which Globus rejects; strip it."
        )
    return value


def check_sync_level(value: Any) -> str | int | None:
    """Check a sync level given by name (``exists``, ``size``, ``mtime``, ``checksum``) or 0-3."""
    if value is None or is_template(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise GlobusInputError(f"sync_level={value!r} must be a string or an integer.")
    if isinstance(value, int) and value in SYNC_LEVELS.values():
        return value
    if isinstance(value, str) and value.lower() in SYNC_LEVELS:
        return value.lower()
    raise GlobusInputError(
        f"sync_level={value!r} is not a Globus sync level: use one of "
        f"{', '.join(repr(level) for level in SYNC_LEVELS)} (or 0 to 3)."
    )


def check_deadline(value: Any) -> datetime.datetime | datetime.timedelta | None:
    """Check a deadline: a positive timedelta, or a timezone-aware datetime."""
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        if value <= datetime.timedelta(0):
            raise GlobusInputError(f"deadline={value!r} must be a positive duration.")
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise GlobusInputError(
                f"deadline={value!r} is a naive datetime: Globus needs to know its time zone; "
                "pass an aware value such as pendulum.datetime(..., tz='UTC') or a timedelta."
            )
        return value
    raise GlobusInputError(
        f"deadline={value!r} must be a datetime.timedelta or a timezone-aware datetime.datetime."
    )


def check_transfer_items(
    value: Any, *, locations: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Check a list of transfer items and return a copy with each item's values checked.

    Every item is checked before anything is raised, so one error names each bad item.

    :param locations: how to name each item in messages, such as ``batch.txt line 4``;
        ``items[<index>]`` by default
    """
    if isinstance(value, Mapping) or not isinstance(value, Sequence) or isinstance(value, str):
        raise GlobusInputError(
            f"items={value!r} must be a list of dicts with 'source_path' and 'destination_path'."
        )
    if not value:
        raise GlobusInputError(
            "items is an empty list: a Globus transfer needs at least one item."
        )

    problems = []
    for index, item in enumerate(value):
        where = locations[index] if locations is not None else f"items[{index}]"
        try:
            check_transfer_item(where, item)
        except GlobusInputError as error:
            problems.append(str(error))
    raise_for_item_problems(problems, total=len(value))
    return [dict(item) for item in value]


def check_transfer_item(where: str, item: Any) -> None:
    """Check one transfer item; ``where`` names it in the error, e.g. ``items[3]``."""
    if not isinstance(item, Mapping):
        raise GlobusInputError(f"{where}={item!r} must be a dict.")
    unknown = set(item) - TRANSFER_ITEM_KEYS
    if unknown:
        raise GlobusInputError(
            f"{where} has unknown keys {sorted(unknown)}: allowed keys are "
            f"{sorted(TRANSFER_ITEM_KEYS)}."
        )
    for key in ("source_path", "destination_path"):
        if key not in item:
            raise GlobusInputError(f"{where}={dict(item)!r} is missing {key!r}.")
        check_path(_field(where, key), item[key])
    recursive = item.get("recursive")
    if recursive is not None and not isinstance(recursive, bool):
        raise GlobusInputError(f"{_field(where, 'recursive')}={recursive!r} must be true or false.")
    if item.get("external_checksum") is not None and recursive:
        raise GlobusInputError(
            f"{where} sets both 'external_checksum' and recursive=True: an external "
            "checksum applies to a single file only."
        )


def check_delete_items(value: Any, *, locations: Sequence[str] | None = None) -> list[str]:
    """Check a list of delete items, each a path or a dict with ``path``; return the paths.

    Every item is checked before anything is raised, so one error names each bad item.

    :param locations: how to name each item in messages; ``items[<index>]`` by default
    """
    if isinstance(value, Mapping) or not isinstance(value, Sequence) or isinstance(value, str):
        raise GlobusInputError(
            f"items={value!r} must be a list of paths, or of dicts with a 'path' key."
        )
    if not value:
        raise GlobusInputError("items is an empty list: a Globus delete needs at least one item.")

    paths = []
    problems = []
    for index, item in enumerate(value):
        where = locations[index] if locations is not None else f"items[{index}]"
        try:
            paths.append(check_delete_item(where, item))
        except GlobusInputError as error:
            problems.append(str(error))
    raise_for_item_problems(problems, total=len(value))
    return paths


def check_delete_item(where: str, item: Any) -> str:
    """Check one delete item, a path or ``{"path": ...}``, and return its path."""
    if isinstance(item, Mapping):
        unknown = set(item) - {"path"}
        if unknown or "path" not in item:
            raise GlobusInputError(
                f"{where}={dict(item)!r} must have exactly one key, 'path'."
            )
        item = item["path"]
    return check_path(where if where.endswith("]") else _field(where, "path"), item)


def _field(where: str, key: str) -> str:
    """Name a field of an item: ``items[3]['path']``, or ``batch.txt line 4: path``."""
    return f"{where}[{key!r}]" if where.endswith("]") else f"{where}: {key}"


MAX_REPORTED_PROBLEMS = 20
"""How many bad items one error message lists before it only counts the rest."""


def raise_for_item_problems(problems: Sequence[str], *, total: int) -> None:
    """Raise one GlobusInputError that lists each problem; do nothing when there are none."""
    if not problems:
        return
    if len(problems) == 1:
        raise GlobusInputError(problems[0])

    lines = "\n".join(f"  - {problem}" for problem in problems[:MAX_REPORTED_PROBLEMS])
    hidden = len(problems) - MAX_REPORTED_PROBLEMS
    if hidden > 0:
        lines += f"\n  - and {hidden} more"
    raise GlobusInputError(
        f"{len(problems)} of {total} items are invalid, so nothing was submitted. "
        f"Fix each one:\n{lines}"
    )


def check_filter_rules(value: Any) -> list[dict[str, Any]] | None:
    """Check filter rules: dicts with ``name``, optional ``method`` and ``type``."""
    if value is None:
        return None
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise GlobusInputError(f"filter_rules={value!r} must be a list of dicts.")

    checked = []
    for index, rule in enumerate(value):
        where = f"filter_rules[{index}]"
        if not isinstance(rule, Mapping) or not rule.get("name"):
            raise GlobusInputError(f"{where}={rule!r} must be a dict with a 'name' pattern.")
        unknown = set(rule) - FILTER_RULE_KEYS
        if unknown:
            raise GlobusInputError(
                f"{where} has unknown keys {sorted(unknown)}: allowed keys are 'name', "
                "'method' and 'type'."
            )
        if rule.get("method", "exclude") not in ("include", "exclude"):
            raise GlobusInputError(
                f"{where}['method']={rule['method']!r} must be 'include' or 'exclude'."
            )
        if rule.get("type") not in (None, "file", "dir"):
            raise GlobusInputError(f"{where}['type']={rule['type']!r} must be 'file' or 'dir'.")
        checked.append(dict(rule))
    return checked


def check_positive_number(name: str, value: Any, *, allow_none: bool = False) -> float | None:
    """Check that ``value`` is a number greater than zero."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise GlobusInputError(f"{name}={value!r} must be a number of seconds greater than 0.")
    return value


def check_max_items_per_task(value: Any) -> int | None:
    """Check ``max_items_per_task``: a whole number of at least 1, or ``None`` for no limit."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GlobusInputError(
            f"max_items_per_task={value!r} must be a whole number of at least 1, or None "
            "to put every item in one Globus task."
        )
    return value
