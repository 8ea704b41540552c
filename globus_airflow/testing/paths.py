"""Resolution of Globus paths to local paths that stay inside a collection's directory.

Globus paths are absolute within a collection: ``/`` and ``/~/`` both name the
collection root, and a relative path is taken from the root as well. Every
filesystem access the local service makes goes through :func:`resolve_path`, which
rejects ``..`` segments that climb above the root and symlinks whose target
leaves it.

NOTE: the checks run before the filesystem call that uses the path, so a symlink
swapped in between the check and the use is not caught. The service guards
against mistakes in requests, not against a hostile local user.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath


class PathEscapeError(ValueError):
    """A Globus path that resolves outside its collection's directory."""

    def __init__(self, globus_path: str, reason: str) -> None:
        super().__init__(f"path {globus_path!r} is not allowed: {reason}")
        self.globus_path = globus_path
        self.reason = reason


def split_globus_path(globus_path: str) -> list[str]:
    """Split a Globus path into its segments below the collection root.

    ``.`` and empty segments are dropped and ``..`` removes the previous segment.
    A leading ``~`` segment names the root. Raise PathEscapeError when ``..``
    climbs above the root or a segment contains a NUL byte.
    """
    if "\x00" in globus_path:
        raise PathEscapeError(globus_path, "it contains a NUL byte")

    raw_segments = globus_path.split("/")
    if raw_segments and raw_segments[0] == "~":
        raw_segments = raw_segments[1:]
    elif len(raw_segments) > 1 and raw_segments[0] == "" and raw_segments[1] == "~":
        raw_segments = raw_segments[2:]

    segments: list[str] = []
    for segment in raw_segments:
        if segment in ("", "."):
            continue
        if segment == "..":
            if not segments:
                raise PathEscapeError(globus_path, "'..' climbs above the collection root")
            segments.pop()
            continue
        segments.append(segment)
    return segments


def normalize_globus_path(globus_path: str, *, directory: bool = False) -> str:
    """Return the canonical absolute form of a Globus path, such as ``/a/b``.

    With ``directory=True`` the result ends in ``/`` as Transfer writes directory
    paths. Raise PathEscapeError as :func:`split_globus_path` does.
    """
    segments = split_globus_path(globus_path)
    text = "/" + "/".join(segments)
    if directory and not text.endswith("/"):
        text += "/"
    return text


def is_within(root: Path, candidate: Path) -> bool:
    """Return whether ``candidate`` is ``root`` or below it; both must be real paths."""
    return candidate == root or root in candidate.parents


def resolve_path(root: Path, globus_path: str, *, follow_final_symlink: bool = True) -> Path:
    """Map a Globus path to a local path inside ``root``, the collection's real directory.

    Every symlink on the way is resolved, the result is the resolved path, and it
    must stay inside ``root``. With ``follow_final_symlink=False`` the last segment is kept as
    written, so a symlink there is returned as the link itself (delete tasks
    remove links without following them). A path that does not exist is
    allowed, because its missing part cannot point anywhere yet.

    Raise PathEscapeError when the path leaves ``root``.
    """
    segments = split_globus_path(globus_path)
    lexical = root.joinpath(*segments) if segments else root

    if follow_final_symlink or not segments:
        resolved = Path(os.path.realpath(lexical))
        if not is_within(root, resolved):
            raise PathEscapeError(globus_path, "a symlink leads outside the collection")
        return resolved

    parent = Path(os.path.realpath(lexical.parent))
    if not is_within(root, parent):
        raise PathEscapeError(globus_path, "a symlink leads outside the collection")
    return parent / segments[-1]


def to_globus_path(root: Path, local_path: Path, *, directory: bool = False) -> str:
    """Return the Globus path of ``local_path``, which must be lexically inside ``root``."""
    relative = PurePosixPath(local_path.relative_to(root).as_posix())
    text = "/" if str(relative) == "." else "/" + str(relative)
    if directory and not text.endswith("/"):
        text += "/"
    return text


def join_globus_path(base: str, name: str, *, directory: bool = False) -> str:
    """Append one name to a Globus directory path."""
    text = base.rstrip("/") + "/" + name
    if directory:
        text += "/"
    return text
