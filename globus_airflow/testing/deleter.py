"""The delete engine: runs the items of a DELETE task inside one collection directory.

Symlinks are removed, never followed. With ``interpret_globs`` the last path
component of an item is a glob pattern. A missing path fails the task with
FILE_NOT_FOUND unless the task has ``ignore_missing``.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import stat
from pathlib import Path

from globus_airflow.testing.access import check_task_path
from globus_airflow.testing.control import SKIPPED, TaskControl
from globus_airflow.testing.paths import PathEscapeError, resolve_path, split_globus_path
from globus_airflow.testing.state import Collection
from globus_airflow.testing.tasks import ItemFault, TaskFatal

logger = logging.getLogger(__name__)

GLOB_CHARACTERS = frozenset("*?[")


class DeleteJob:
    """Runs every item of one DELETE task; counters and events go through ``control``."""

    def __init__(self, control: TaskControl) -> None:
        self.control = control
        self.task = control.task
        self.recursive = bool(self.task.options.get("recursive"))
        self.ignore_missing = bool(self.task.options.get("ignore_missing"))
        self.interpret_globs = bool(self.task.options.get("interpret_globs"))
        collection = control.state.find_collection(self.task.source_endpoint_id)
        if collection is None:
            raise TaskFatal("ENDPOINT_NOT_FOUND", "the collection of this task is no longer served")
        self.collection: Collection = collection

    def run(self) -> None:
        """Delete each item in submission order."""
        for item in self.task.delete_items:
            self.control.checkpoint()
            targets = self.control.retry(lambda path=item.path: self._find_targets(path))
            if targets is SKIPPED:
                continue
            assert isinstance(targets, list)
            for target, globus_path in targets:
                self.control.retry(lambda t=target, g=globus_path: self._delete(t, g))

    def _find_targets(self, globus_path: str) -> list[tuple[Path, str]]:
        """Resolve an item to the local paths it names, expanding a glob when asked."""
        check_task_path(self.control.state, self.task.owner_id, self.collection, globus_path, write=True, on_source=True)
        try:
            segments = split_globus_path(globus_path)
            if not segments:
                # NOTE: Transfer's response to deleting a collection root was not checked.
                # The local service rejects it rather than emptying the collection.
                raise TaskFatal("PERMISSION_DENIED", "the collection root cannot be deleted")

            last = segments[-1]
            if not (self.interpret_globs and GLOB_CHARACTERS & set(last)):
                path = resolve_path(self.collection.root, globus_path, follow_final_symlink=False)
                if not os.path.lexists(path):
                    return self._missing(globus_path)
                return [(path, "/" + "/".join(segments))]

            parent_globus = "/" + "/".join(segments[:-1])
            parent = resolve_path(self.collection.root, parent_globus)
        except PathEscapeError as error:
            raise ItemFault("PERMISSION_DENIED", error.reason, path=globus_path, on_source=True) from error

        try:
            names = sorted(name for name in os.listdir(parent) if fnmatch.fnmatchcase(name, last))
        except FileNotFoundError:
            names = []
        except OSError as error:
            raise ItemFault("PERMISSION_DENIED", str(error.strerror), path=globus_path, on_source=True) from error
        if not names:
            return self._missing(globus_path)
        prefix = parent_globus.rstrip("/")
        return [(parent / name, f"{prefix}/{name}") for name in names]

    def _missing(self, globus_path: str) -> list[tuple[Path, str]]:
        if self.ignore_missing:
            logger.debug("task %s ignored missing %s", self.task.task_id, globus_path)
            return []
        raise TaskFatal("FILE_NOT_FOUND", f"{globus_path} does not exist")

    def _delete(self, path: Path, globus_path: str) -> None:
        """Delete one target, walking directories bottom-up so counters grow as it goes."""
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return
        except OSError as error:
            raise ItemFault("PERMISSION_DENIED", str(error.strerror), path=globus_path, on_source=True) from error

        if not stat.S_ISDIR(info.st_mode):
            self._remove_entry(path, globus_path, is_link=stat.S_ISLNK(info.st_mode))
            return
        if not self.recursive:
            # NOTE: the fatal_error code for a directory in a non-recursive delete is a guess.
            raise TaskFatal("NOT_A_FILE", f"{globus_path} is a directory and the task is not recursive")

        for current, directory_names, file_names in os.walk(path, topdown=False, followlinks=False):
            for name in file_names:
                entry = Path(current) / name
                self._remove_entry(entry, globus_path, is_link=entry.is_symlink())
            for name in directory_names:
                entry = Path(current) / name
                if entry.is_symlink():
                    self._remove_entry(entry, globus_path, is_link=True)
                else:
                    self._remove_directory(entry, globus_path)
        self._remove_directory(path, globus_path)

    def _remove_entry(self, path: Path, globus_path: str, *, is_link: bool) -> None:
        self.control.checkpoint()
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as error:
            raise ItemFault("PERMISSION_DENIED", str(error.strerror), path=globus_path, on_source=True) from error
        if is_link:
            self.control.add(symlinks=1, subtasks_total=1, subtasks_succeeded=1)
        else:
            self.control.add(files=1, subtasks_total=1, subtasks_succeeded=1)

    def _remove_directory(self, path: Path, globus_path: str) -> None:
        self.control.checkpoint()
        try:
            path.rmdir()
        except FileNotFoundError:
            return
        except OSError as error:
            raise ItemFault("PERMISSION_DENIED", str(error.strerror), path=globus_path, on_source=True) from error
        self.control.add(directories=1, subtasks_total=1, subtasks_succeeded=1)
