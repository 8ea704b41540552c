"""Read transfer and delete items from a manifest file or from a rendered string.

A manifest is a file on the Airflow worker that lists one item per line, in
one of three formats:

* ``jsonl``: JSON lines, one object per line, with the keys of a transfer
  item (``source_path``, ``destination_path``, ``recursive``,
  ``external_checksum``, ``checksum_algorithm``) or of a delete item (``path``).
* ``csv``: a header row naming those keys, then one item per row. Empty
  cells are left out; ``recursive`` accepts true/false, yes/no and 1/0.
* ``batch``: the format of globus-cli's ``--batch`` option. A transfer line is
  ``[--recursive] [--external-checksum X] [--checksum-algorithm X] SRC DST``
  and a delete line is ``PATH``. Lines are split like a shell does (quote
  paths that contain spaces or ``#``), and ``#`` starts a comment.

Blank lines are skipped in every format. Relative paths are joined to a
prefix when the operator gives one, as globus-cli does with the paths on
its command line. Every line is checked before anything is raised, and the
error names the file and line number of each bad item.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import posixpath
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from globus_airflow.exceptions import GlobusInputError
from globus_airflow.utils.validation import (
    TRANSFER_ITEM_KEYS,
    check_delete_item,
    check_transfer_item,
    raise_for_item_problems,
)

MANIFEST_FORMATS = ("jsonl", "csv", "batch")
"""Names accepted by ``manifest_format``."""

FORMAT_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
"""Formats detected from the file name; any other suffix means ``batch``."""

TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})

# One parsed line: its location ("batch.txt line 4") and the item, or the problem.
ParsedLine = tuple[str, Any, str | None]


def check_manifest_format(manifest_format: Any) -> str | None:
    """Check a ``manifest_format`` argument: one of :data:`MANIFEST_FORMATS` or ``None``."""
    if manifest_format is not None and manifest_format not in MANIFEST_FORMATS:
        raise GlobusInputError(
            f"manifest_format={manifest_format!r} is not a manifest format: use one of "
            f"{', '.join(repr(name) for name in MANIFEST_FORMATS)}, or None to detect it "
            "from the file name."
        )
    return manifest_format


def detect_format(path: str | os.PathLike[str], manifest_format: str | None = None) -> str:
    """Return the manifest format: ``manifest_format`` if given, else one based on the suffix."""
    if check_manifest_format(manifest_format) is None:
        return FORMAT_BY_SUFFIX.get(Path(path).suffix.lower(), "batch")
    return manifest_format


def read_transfer_manifest(
    path: str | os.PathLike[str],
    *,
    manifest_format: str | None = None,
    source_prefix: str | None = None,
    destination_prefix: str | None = None,
) -> list[dict[str, Any]]:
    """Read and check the transfer items of a manifest file.

    :param source_prefix: directory that relative source paths are joined to
    :param destination_prefix: directory that relative destination paths are joined to
    :raises GlobusInputError: the file is missing, or any line is invalid; the
        message lists every bad line
    """
    text, name = _read_text(path)
    parsed = _parse(text, name, detect_format(path, manifest_format), _TRANSFER_PARSERS)

    items = []
    problems = []
    for where, item, problem in parsed:
        if problem is None:
            item = _with_prefix(item, "source_path", source_prefix)
            item = _with_prefix(item, "destination_path", destination_prefix)
            problem = _problem_of(check_transfer_item, where, item)
        if problem is None:
            items.append(item)
        else:
            problems.append(problem)

    _raise_if_empty(parsed, name, "transfer")
    raise_for_item_problems(problems, total=len(parsed))
    return items


def read_delete_manifest(
    path: str | os.PathLike[str],
    *,
    manifest_format: str | None = None,
    prefix: str | None = None,
) -> list[str]:
    """Read and check the paths of a delete manifest.

    :param prefix: directory that relative paths are joined to
    :raises GlobusInputError: the file is missing, or any line is invalid
    """
    text, name = _read_text(path)
    parsed = _parse(text, name, detect_format(path, manifest_format), _DELETE_PARSERS)

    paths = []
    problems = []
    for where, item, problem in parsed:
        if problem is None:
            item = _join(prefix, item["path"]) if isinstance(item, dict) else item
            problem = _problem_of(check_delete_item, where, item)
        if problem is None:
            paths.append(item)
        else:
            problems.append(problem)

    _raise_if_empty(parsed, name, "delete")
    raise_for_item_problems(problems, total=len(parsed))
    return paths


def coerce_item_list(value: Any, *, name: str = "items") -> Any:
    """Turn a rendered template string into the list it spells; return other values unchanged.

    Jinja renders a list pulled from XCom as its Python ``repr`` unless the
    DAG sets ``render_template_as_native_obj=True``, so both JSON and Python
    literals are accepted. Parsing never runs code.
    """
    if isinstance(value, tuple):
        return list(value)
    if not isinstance(value, str):
        return value

    text = value.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise GlobusInputError(
            f"{name} rendered to a string that is not a JSON or Python list: {text[:200]!r}. "
            f"Pass a list, an XComArg such as upstream.output, or set "
            "render_template_as_native_obj=True on the DAG."
        ) from None


def _read_text(path: str | os.PathLike[str]) -> tuple[str, str]:
    try:
        # utf-8-sig drops the byte order mark that spreadsheet programs write.
        return Path(path).read_text(encoding="utf-8-sig"), Path(path).name
    except FileNotFoundError:
        raise GlobusInputError(
            f"manifest={str(path)!r} was not found on the Airflow worker: pass the path of a "
            "file that the worker can read, or pass the items themselves through items."
        ) from None
    except UnicodeDecodeError as error:
        raise GlobusInputError(
            f"manifest={str(path)!r} is not UTF-8 text ({error.reason} at byte {error.start})."
        ) from None
    except OSError as error:
        raise GlobusInputError(f"manifest={str(path)!r} could not be read: {error}.") from None


def _parse(
    text: str, name: str, manifest_format: str, parsers: dict[str, Callable[..., Any]]
) -> list[ParsedLine]:
    if manifest_format == "csv":
        return _parse_csv(text, name, parsers["csv"])

    parsed = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{name} line {number}"
        if not line.strip():
            continue
        try:
            item = parsers[manifest_format](line)
        except (ValueError, GlobusInputError) as error:
            parsed.append((where, None, f"{where}: {error}"))
            continue
        if item is not None:
            parsed.append((where, item, None))
    return parsed


def _parse_csv(text: str, name: str, parse_row: Callable[..., Any]) -> list[ParsedLine]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    try:
        parse_row({}, header=header)
    except ValueError as error:
        return [(f"{name} line 1", None, f"{name} line 1 (the header): {error}")]

    parsed = []
    for row in reader:
        where = f"{name} line {reader.line_num}"
        if not any((cell or "").strip() for cell in row.values() if isinstance(cell, str)):
            continue
        try:
            parsed.append((where, parse_row(row, header=header), None))
        except ValueError as error:
            parsed.append((where, None, f"{where}: {error}"))
    return parsed


def _parse_transfer_jsonl(line: str) -> dict[str, Any]:
    item = json.loads(line)
    if not isinstance(item, dict):
        raise ValueError(f"expected a JSON object, found {line.strip()[:80]!r}")
    return item


def _parse_transfer_csv(row: dict[str | None, Any], *, header: list[str]) -> dict[str, Any]:
    unknown = [column for column in header if column not in TRANSFER_ITEM_KEYS]
    missing = [key for key in ("source_path", "destination_path") if key not in header]
    if unknown or missing:
        raise ValueError(
            f"columns must include 'source_path' and 'destination_path' and may include "
            f"{sorted(TRANSFER_ITEM_KEYS - {'source_path', 'destination_path'})}, "
            f"but the header is {header}"
        )
    if None in row:
        raise ValueError(f"the row has more cells than the header has columns: {row[None]}")

    item: dict[str, Any] = {}
    for column, cell in row.items():
        cell = (cell or "").strip()
        if not cell:
            continue
        item[column] = _parse_bool(cell, column) if column == "recursive" else cell
    return item


def _parse_transfer_batch(line: str) -> dict[str, Any] | None:
    words = shlex.split(line, comments=True)
    if not words:
        return None

    item: dict[str, Any] = {}
    paths = []
    options = {
        "--external-checksum": "external_checksum",
        "--checksum-algorithm": "checksum_algorithm",
    }
    position = 0
    while position < len(words):
        word = words[position]
        option, equals, inline_value = word.partition("=")
        if word in ("--recursive", "-r"):
            item["recursive"] = True
        elif option in options:
            if equals:
                item[options[option]] = inline_value
            elif position + 1 < len(words):
                position += 1
                item[options[option]] = words[position]
            else:
                raise ValueError(f"{option} needs a value")
        elif word.startswith("-") and word != "-":
            raise ValueError(
                f"unknown option {word!r}: a line may start with --recursive, "
                "--external-checksum X and --checksum-algorithm X"
            )
        else:
            paths.append(word)
        position += 1

    if len(paths) != 2:
        raise ValueError(
            f"expected a source path and a destination path, found {len(paths)} "
            f"path(s) {paths}. Quote paths that contain spaces"
        )
    item["source_path"], item["destination_path"] = paths
    return item


def _parse_delete_jsonl(line: str) -> dict[str, Any]:
    item = json.loads(line)
    if isinstance(item, str):
        return {"path": item}
    if not isinstance(item, dict) or set(item) != {"path"}:
        raise ValueError(
            f"expected a JSON object with one key, 'path', but found {line.strip()[:80]!r}"
        )
    return item


def _parse_delete_csv(row: dict[str | None, Any], *, header: list[str]) -> dict[str, Any]:
    if header != ["path"]:
        raise ValueError(f"the header must be the one column 'path', but it is {header}")
    if None in row:
        raise ValueError(f"the row has more cells than the header has columns: {row[None]}")
    return {"path": (row.get("path") or "").strip()}


def _parse_delete_batch(line: str) -> dict[str, Any] | None:
    words = shlex.split(line, comments=True)
    if not words:
        return None
    if len(words) != 1:
        raise ValueError(
            f"expected one path, found {len(words)} words {words}. Quote paths that "
            "contain spaces, and set recursive on the operator rather than per line"
        )
    return {"path": words[0]}


_TRANSFER_PARSERS = {
    "jsonl": _parse_transfer_jsonl,
    "csv": _parse_transfer_csv,
    "batch": _parse_transfer_batch,
}
_DELETE_PARSERS = {
    "jsonl": _parse_delete_jsonl,
    "csv": _parse_delete_csv,
    "batch": _parse_delete_batch,
}


def _parse_bool(cell: str, column: str) -> bool:
    word = cell.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{column}={cell!r} must be true or false")


def _join(prefix: str | None, path: Any) -> Any:
    if prefix is None or not isinstance(path, str) or path.startswith(("/", "~")):
        return path
    return posixpath.join(prefix, path)


def _with_prefix(item: Any, key: str, prefix: str | None) -> Any:
    if not isinstance(item, dict) or key not in item:
        return item
    return {**item, key: _join(prefix, item[key])}


def _problem_of(check: Callable[[str, Any], Any], where: str, item: Any) -> str | None:
    try:
        check(where, item)
    except GlobusInputError as error:
        return str(error)
    return None


def _raise_if_empty(parsed: list[ParsedLine], name: str, kind: str) -> None:
    if not parsed:
        raise GlobusInputError(
            f"manifest {name!r} lists no items: a Globus {kind} needs at least one item."
        )
