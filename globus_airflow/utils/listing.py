"""List directories on a Globus collection and match path patterns against them.

Entries are plain dicts, so they travel through XCom and ``.expand()``:
``name``, ``path`` (absolute on the collection), ``relative_path`` (from
the listed directory), ``type`` (``file``, ``dir`` or ``invalid_symlink``),
``size`` in bytes and ``last_modified`` as Globus reports it.

Patterns are globs (``*``, ``?``, ``[...]``) matched against entry names,
the way Transfer's ``ls`` filter ``name:~<glob>`` matches them.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import globus_sdk

from globus_airflow.exceptions import GlobusInputError

T = TypeVar("T")

GLOB_CHARACTERS = frozenset("*?[")
ENTRY_TYPES = ("file", "dir")
"""Values accepted by ``entry_type``."""

MISSING_PATH_CODES = frozenset({"NotFound", "ClientError.NotFound"})
"""Transfer error codes for a path that does not exist (stat returns 404 NotFound)."""

Caller = Callable[..., Any]
"""Runs one globus-sdk call: ``call(description, function, *args, **kwargs)``."""


def call_directly(description: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a globus-sdk call once, without retries; the default :data:`Caller`."""
    return function(*args, **kwargs)


def has_glob(text: str) -> bool:
    """Return whether ``text`` contains a glob character."""
    return any(character in GLOB_CHARACTERS for character in text)


def is_missing_path(error: globus_sdk.GlobusAPIError) -> bool:
    """Return whether a Transfer error means that the path does not exist.

    ``EndpointNotFound`` (an unknown collection) is not a missing path.
    """
    code = error.code or ""
    return code in MISSING_PATH_CODES or code.endswith(".NotFound")


def check_entry_type(value: Any) -> str | None:
    """Check an ``entry_type`` argument: ``file``, ``dir`` or ``None`` for both."""
    if value is not None and value not in ENTRY_TYPES:
        raise GlobusInputError(
            f"entry_type={value!r} must be 'file', 'dir' or None (both)."
        )
    return value


def make_entry(document: dict[str, Any], *, directory: str, root: str) -> dict[str, Any]:
    """Turn one ``file`` document of an ls response into a listing entry."""
    path = posixpath.join(directory, document["name"])
    return {
        "name": document["name"],
        "path": path,
        "relative_path": posixpath.relpath(path, root),
        "type": document["type"],
        "size": document.get("size"),
        "last_modified": document.get("last_modified"),
    }


def ls_filter(pattern: str | None, entry_type: str | None) -> str | None:
    """Build Transfer's ls ``filter`` for a name glob and an entry type."""
    clauses = []
    if pattern is not None:
        clauses.append(f"name:~{pattern}")
    if entry_type is not None:
        clauses.append(f"type:{entry_type}")
    return "/".join(clauses) or None


def list_directory(
    client: globus_sdk.TransferClient,
    endpoint: str,
    path: str,
    *,
    pattern: str | None = None,
    entry_type: str | None = None,
    show_hidden: bool | None = None,
    local_user: str | None = None,
    call: Caller = call_directly,
) -> list[dict[str, Any]]:
    """Return the ``file`` documents of one directory, filtered by Transfer itself.

    NOTE: one ls returns at most 100,000 entries (Transfer's limit); larger
    directories are cut short.
    """
    kwargs: dict[str, Any] = {"path": path}
    for name, value in (
        ("filter", ls_filter(pattern, entry_type)),
        ("show_hidden", show_hidden),
        ("local_user", local_user),
    ):
        if value is not None:
            kwargs[name] = value
    description = f"Listing {path} on collection {endpoint}"
    response = call(description, client.operation_ls, endpoint, **kwargs)
    return [dict(document) for document in response]


def walk(
    client: globus_sdk.TransferClient,
    endpoint: str,
    path: str,
    *,
    recursive: bool = False,
    max_depth: int | None = None,
    pattern: str | None = None,
    entry_type: str | None = None,
    show_hidden: bool | None = None,
    local_user: str | None = None,
    max_entries: int | None = None,
    call: Caller = call_directly,
) -> list[dict[str, Any]]:
    """List a directory, and with ``recursive`` its subdirectories, as entries sorted by path.

    :param max_depth: with ``recursive``, how many levels to list: 1 lists
        ``path`` only, 2 also its subdirectories; ``None`` has no limit
    :param pattern: glob that an entry's name must match to be returned;
        subdirectories are walked whether or not they match
    :param entry_type: ``file`` or ``dir`` to return only that type
    :param max_entries: raise once more entries than this match
    :raises GlobusInputError: more than ``max_entries`` entries matched
    """
    root = path.rstrip("/") or "/"
    queue: deque[tuple[str, int]] = deque([(root, 1)])
    entries: list[dict[str, Any]] = []

    while queue:
        directory, depth = queue.popleft()
        descend = recursive and (max_depth is None or depth < max_depth)
        # Filter in Transfer unless subdirectories must come back to be walked.
        documents = list_directory(
            client,
            endpoint,
            directory + "/" if directory != "/" else "/",
            pattern=None if descend else pattern,
            entry_type=None if descend else entry_type,
            show_hidden=show_hidden,
            local_user=local_user,
            call=call,
        )
        for document in sorted(documents, key=lambda item: item["name"]):
            entry = make_entry(document, directory=directory, root=root)
            if descend and document["type"] == "dir":
                queue.append((entry["path"], depth + 1))
            if _matches(entry, pattern, entry_type):
                entries.append(entry)
        if max_entries is not None and len(entries) > max_entries:
            raise GlobusInputError(
                f"Listing {path} on collection {endpoint} found more than "
                f"max_entries={max_entries} entries: narrow it with pattern, entry_type or "
                "max_depth, or raise max_entries. Every entry becomes part of one XCom value."
            )

    return sorted(entries, key=lambda entry: entry["path"])


def stat_path(
    client: globus_sdk.TransferClient,
    endpoint: str,
    path: str,
    *,
    local_user: str | None = None,
    call: Caller = call_directly,
) -> dict[str, Any] | None:
    """Return the entry of one path, or ``None`` when it does not exist."""
    kwargs = {"local_user": local_user} if local_user is not None else {}
    try:
        document = call(
            f"Reading {path} on collection {endpoint}",
            client.operation_stat,
            endpoint,
            path,
            **kwargs,
        )
    except globus_sdk.GlobusAPIError as error:
        if is_missing_path(error):
            return None
        raise
    name = posixpath.basename(path.rstrip("/")) or "/"
    return {
        "name": name,
        "path": path,
        "relative_path": name,
        "type": document["type"],
        "size": document.get("size"),
        "last_modified": document.get("last_modified"),
    }


def match_pattern(
    client: globus_sdk.TransferClient,
    endpoint: str,
    pattern: str,
    *,
    local_user: str | None = None,
    call: Caller = call_directly,
) -> list[dict[str, Any]]:
    """Return the entries whose paths match ``pattern``, where any component may be a glob.

    For example ``/runs/*/RTAComplete.txt`` lists ``/runs/`` for directories
    and then reads ``RTAComplete.txt`` in each. A directory that does not
    exist, or that is a file, matches nothing.
    """
    segments = [segment for segment in pattern.split("/") if segment]
    home = segments[:1] == ["~"]
    if home:
        segments = segments[1:]
    if not segments:
        entry = stat_path(client, endpoint, pattern, local_user=local_user, call=call)
        return [] if entry is None else [entry]

    directories = ["/~" if home else "/"]
    matches: list[dict[str, Any]] = []
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        found = []
        for directory in directories:
            found.extend(
                _match_segment(
                    client,
                    endpoint,
                    directory,
                    segment,
                    last=last,
                    local_user=local_user,
                    call=call,
                )
            )
        if last:
            matches = found
        directories = [entry["path"] for entry in found]
        if not directories:
            break
    return sorted(matches, key=lambda entry: entry["path"])


def _match_segment(
    client: globus_sdk.TransferClient,
    endpoint: str,
    directory: str,
    segment: str,
    *,
    last: bool,
    local_user: str | None,
    call: Caller,
) -> list[dict[str, Any]]:
    path = posixpath.join(directory, segment)
    if not has_glob(segment):
        if not last:
            # Checked by the next step's listing, which finds nothing if it is missing.
            return [{"name": segment, "path": path, "type": "dir"}]
        entry = stat_path(client, endpoint, path, local_user=local_user, call=call)
        return [] if entry is None else [entry]

    try:
        documents = list_directory(
            client,
            endpoint,
            directory.rstrip("/") + "/",
            pattern=segment,
            entry_type=None if last else "dir",
            local_user=local_user,
            call=call,
        )
    except globus_sdk.GlobusAPIError as error:
        if is_missing_path(error) or (error.code or "").endswith("NotDirectory"):
            return []
        raise
    return [make_entry(document, directory=directory, root=directory) for document in documents]


def _matches(entry: dict[str, Any], pattern: str | None, entry_type: str | None) -> bool:
    if entry_type is not None and entry["type"] != entry_type:
        return False
    return pattern is None or fnmatch.fnmatchcase(entry["name"], pattern)
