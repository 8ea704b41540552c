"""The copy engine: runs the items of a TRANSFER task between two collection directories.

For each item the engine resolves the source and walks it when it is a
directory, counting files and directories as it finds them. It then creates the
destination directories and copies each file in chunks through a temporary file
that is renamed into place. Sync levels, checksums, filter rules, timestamps and
``delete_destination_extra`` follow the Transfer documentation of those options.
"""

from __future__ import annotations

import dataclasses
import errno
import fnmatch
import logging
import os
import shutil
import stat
from pathlib import Path

from globus_airflow.testing.access import check_task_path
from globus_airflow.testing.checksums import new_hasher, normalize_algorithm
from globus_airflow.testing.control import SKIPPED, TaskControl
from globus_airflow.testing.paths import PathEscapeError, join_globus_path, normalize_globus_path, resolve_path
from globus_airflow.testing.state import Collection
from globus_airflow.testing.tasks import FilterRule, ItemFault, TaskFatal, TransferItemSpec

logger = logging.getLogger(__name__)

MAX_CHUNK_BYTES = 1024 * 1024
# Without a bandwidth limit, files are copied by os.sendfile in steps of this size,
# which keeps the data in the kernel and updates the counters a few times per file.
UNLIMITED_CHUNK_BYTES = 16 * 1024 * 1024
DESTINATION_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})

SYNC_EXISTS, SYNC_SIZE, SYNC_MTIME, SYNC_CHECKSUM = 0, 1, 2, 3


@dataclasses.dataclass
class FilePair:
    """One file to copy: its local source and the Globus path of its destination."""

    source: Path
    source_globus_path: str
    destination_globus_path: str
    checksum_algorithm: str
    external_checksum: str | None = None


@dataclasses.dataclass
class ItemPlan:
    """The expansion of one item: directories to create (parents first) and files to copy.

    ``source_names`` maps each destination directory's Globus path to the entry
    names its source directory holds, excluded ones included, so that
    ``delete_destination_extra`` keeps them.
    """

    recursive: bool
    checksum_algorithm: str
    directories: list[str] = dataclasses.field(default_factory=list)
    files: list[FilePair] = dataclasses.field(default_factory=list)
    source_names: dict[str, set[str]] = dataclasses.field(default_factory=dict)


def is_included(rules: list[FilterRule] | None, name: str, *, is_dir: bool) -> bool:
    """Apply filter rules to one entry name: the first matching rule decides, default include."""
    for rule in rules or []:
        if rule.type == "file" and is_dir:
            continue
        if rule.type == "dir" and not is_dir:
            continue
        if fnmatch.fnmatchcase(name, rule.name):
            return rule.method == "include"
    return True


def source_fault(error: OSError, path: str) -> ItemFault:
    """Map an OSError on the source side to the Transfer fault code."""
    if isinstance(error, FileNotFoundError):
        return ItemFault("FILE_NOT_FOUND", "file not found", path=path, on_source=True)
    if isinstance(error, PermissionError):
        return ItemFault("PERMISSION_DENIED", "permission denied", path=path, on_source=True)
    return ItemFault("ENDPOINT_ERROR", f"error reading the source: {error.strerror}", path=path, on_source=True)


def destination_fault(error: OSError, path: str, *, fail_on_quota_errors: bool) -> ItemFault:
    """Map an OSError on the destination side to the Transfer fault code.

    Raise TaskFatal for a full disk when the task has ``fail_on_quota_errors``.
    """
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        if fail_on_quota_errors:
            raise TaskFatal("QUOTA_EXCEEDED", f"no space left on the destination for {path}")
        return ItemFault("QUOTA_EXCEEDED", "quota exceeded", path=path, on_source=False)
    if isinstance(error, PermissionError):
        return ItemFault("PERMISSION_DENIED", "permission denied", path=path, on_source=False)
    return ItemFault("ENDPOINT_ERROR", f"error writing the destination: {error.strerror}", path=path, on_source=False)


class TransferJob:
    """Runs every item of one TRANSFER task; counters and events go through ``control``."""

    def __init__(self, control: TaskControl) -> None:
        self.control = control
        self.task = control.task
        options = self.task.options
        self.sync_level: int | None = options.get("sync_level")
        self.verify_checksum = bool(options.get("verify_checksum"))
        self.preserve_timestamp = bool(options.get("preserve_timestamp"))
        self.delete_extra = bool(options.get("delete_destination_extra"))
        self.fail_on_quota = bool(options.get("fail_on_quota_errors"))
        chunk_limit = control.state.bandwidth_limit
        self.chunk_bytes = MAX_CHUNK_BYTES if chunk_limit is None else max(1, min(MAX_CHUNK_BYTES, chunk_limit // 10))
        self.use_sendfile = chunk_limit is None and hasattr(os, "sendfile")

        source = control.state.find_collection(self.task.source_endpoint_id)
        destination = control.state.find_collection(self.task.destination_endpoint_id or "")
        if source is None or destination is None:
            raise TaskFatal("ENDPOINT_NOT_FOUND", "a collection of this task is no longer served")
        self.source: Collection = source
        self.destination: Collection = destination

    def run(self) -> None:
        """Transfer each item in submission order."""
        for item in self.task.transfer_items:
            self.control.checkpoint()
            self._run_item(item)

    # -- expansion ---------------------------------------------------------------------

    def _run_item(self, item: TransferItemSpec) -> None:
        plan = self.control.retry(lambda: self._plan_item(item))
        if plan is SKIPPED:
            return
        assert not isinstance(plan, type(SKIPPED))

        for directory in plan.directories:
            self.control.retry(lambda directory=directory: self._make_directory(directory))
        for pair in plan.files:
            self.control.retry(lambda pair=pair: self._copy_file(pair))
        if plan.recursive and self.delete_extra:
            for directory, names in plan.source_names.items():
                self.control.retry(lambda d=directory, n=names: self._delete_extra(d, n))

    def _resolve(self, collection: Collection, globus_path: str, *, on_source: bool) -> Path:
        check_task_path(self.control.state, self.task.owner_id, collection, globus_path, write=not on_source, on_source=on_source)
        try:
            return resolve_path(collection.root, globus_path)
        except PathEscapeError as error:
            raise ItemFault("PERMISSION_DENIED", error.reason, path=globus_path, on_source=on_source) from error

    def _plan_item(self, item: TransferItemSpec) -> ItemPlan:
        source_path = self._resolve(self.source, item.source_path, on_source=True)
        self._resolve(self.destination, item.destination_path, on_source=False)
        try:
            source_info = os.stat(source_path)
        except OSError as error:
            raise source_fault(error, item.source_path) from error

        algorithm = normalize_algorithm(item.checksum_algorithm)
        is_dir = stat.S_ISDIR(source_info.st_mode)
        if item.recursive is True and not is_dir:
            raise TaskFatal("NOT_A_DIRECTORY", f"recursive item {item.source_path} is not a directory")
        if item.recursive is False and is_dir:
            raise TaskFatal("IS_A_DIRECTORY", f"item {item.source_path} is a directory but recursive is false")

        if not is_dir:
            self.control.add(files=1, subtasks_total=1)
            pair = FilePair(
                source=source_path,
                source_globus_path=normalize_globus_path(item.source_path),
                destination_globus_path=normalize_globus_path(item.destination_path),
                checksum_algorithm=algorithm,
                external_checksum=item.external_checksum,
            )
            return ItemPlan(recursive=False, checksum_algorithm=algorithm, files=[pair])

        plan = ItemPlan(recursive=True, checksum_algorithm=algorithm)
        self.control.add(directories=1, subtasks_total=1)
        root_source = normalize_globus_path(item.source_path, directory=True)
        root_destination = normalize_globus_path(item.destination_path, directory=True)
        plan.directories.append(root_destination)
        pending = [(source_path, root_source, root_destination)]
        while pending:
            directory, source_globus, destination_globus = pending.pop(0)
            entries = self.control.retry(lambda d=directory, g=source_globus: self._list_directory(d, g))
            if entries is SKIPPED:
                continue
            assert not isinstance(entries, type(SKIPPED))
            plan.source_names[destination_globus] = {entry.name for entry in entries}
            pending.extend(self._add_entries(plan, entries, source_globus, destination_globus))
        return plan

    def _list_directory(self, directory: Path, globus_path: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(directory) as iterator:
                return sorted(iterator, key=lambda entry: entry.name)
        except OSError as error:
            raise source_fault(error, globus_path) from error

    def _add_entries(
        self,
        plan: ItemPlan,
        entries: list[os.DirEntry[str]],
        source_globus: str,
        destination_globus: str,
    ) -> list[tuple[Path, str, str]]:
        """Add one directory's entries to the plan; return its subdirectories to walk."""
        subdirectories = []
        found_files = found_directories = found_symlinks = 0
        for entry in entries:
            if entry.is_symlink():
                # Transfer's default recursive_symlinks "ignore": links inside a tree are not copied.
                found_symlinks += 1
                continue
            is_dir = entry.is_dir(follow_symlinks=False)
            if not is_included(self.task.filter_rules, entry.name, is_dir=is_dir):
                continue
            if is_dir:
                found_directories += 1
                child_destination = join_globus_path(destination_globus, entry.name, directory=True)
                plan.directories.append(child_destination)
                subdirectories.append(
                    (Path(entry.path), join_globus_path(source_globus, entry.name, directory=True), child_destination)
                )
            elif entry.is_file(follow_symlinks=False):
                found_files += 1
                plan.files.append(
                    FilePair(
                        source=Path(entry.path),
                        source_globus_path=join_globus_path(source_globus, entry.name),
                        destination_globus_path=join_globus_path(destination_globus, entry.name),
                        checksum_algorithm=plan.checksum_algorithm,
                    )
                )
        self.control.add(
            files=found_files,
            directories=found_directories,
            symlinks=found_symlinks,
            subtasks_total=found_files + found_directories,
        )
        return subdirectories

    # -- directories ----------------------------------------------------------------------

    def _make_directory(self, globus_path: str) -> None:
        path = self._resolve(self.destination, globus_path, on_source=False)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except FileExistsError as error:
            raise TaskFatal("NOT_A_DIRECTORY", f"destination {globus_path} exists and is not a directory") from error
        except OSError as error:
            raise destination_fault(error, globus_path, fail_on_quota_errors=self.fail_on_quota) from error
        self.control.add(subtasks_succeeded=1)

    def _delete_extra(self, globus_directory: str, source_names: set[str]) -> None:
        directory = self._resolve(self.destination, globus_directory, on_source=False)
        try:
            with os.scandir(directory) as iterator:
                extras = [entry for entry in iterator if entry.name not in source_names]
        except FileNotFoundError:
            return
        except OSError as error:
            raise destination_fault(error, globus_directory, fail_on_quota_errors=False) from error

        for entry in extras:
            self.control.checkpoint()
            # NOTE: names that a filter rule excluded stay in source_names, so they are
            # kept, as rsync keeps excluded files; Transfer's rule here was not checked.
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError as error:
                raise destination_fault(error, join_globus_path(globus_directory, entry.name), fail_on_quota_errors=False) from error
            logger.debug("task %s deleted extra %s", self.task.task_id, entry.path)

    # -- files ------------------------------------------------------------------------------

    def _copy_file(self, pair: FilePair) -> None:
        destination = self._resolve(self.destination, pair.destination_globus_path, on_source=False)
        try:
            source_info = os.stat(pair.source)
        except OSError as error:
            raise source_fault(error, pair.source_globus_path) from error

        if self._should_skip(pair, destination, source_info):
            self.control.add(files_skipped=1, subtasks_succeeded=1)
            return

        temporary = destination.parent / f".{destination.name}.globus-partial-{self.task.task_id[:8]}"
        try:
            try:
                destination.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise destination_fault(error, pair.destination_globus_path, fail_on_quota_errors=self.fail_on_quota) from error
            self._write_copy(pair, temporary)
            if self.preserve_timestamp:
                os.utime(temporary, ns=(source_info.st_atime_ns, source_info.st_mtime_ns))
            self._verify(pair, temporary)

            def publish() -> None:
                os.replace(temporary, destination)
                self.task.successful_transfers.append((pair.source_globus_path, pair.destination_globus_path))

            try:
                self.control.commit(publish, files_transferred=1, subtasks_succeeded=1)
            except OSError as error:
                raise destination_fault(error, pair.destination_globus_path, fail_on_quota_errors=self.fail_on_quota) from error
        finally:
            temporary.unlink(missing_ok=True)

    def _write_copy(self, pair: FilePair, temporary: Path) -> None:
        try:
            source_file = open(pair.source, "rb")
        except OSError as error:
            raise source_fault(error, pair.source_globus_path) from error
        with source_file:
            try:
                target = open(temporary, "wb")
            except OSError as error:
                raise destination_fault(error, pair.destination_globus_path, fail_on_quota_errors=self.fail_on_quota) from error
            with target:
                if self.use_sendfile and self._send_file(pair, source_file.fileno(), target.fileno()):
                    return
                while True:
                    self.control.checkpoint()
                    try:
                        chunk = source_file.read(self.chunk_bytes)
                    except OSError as error:
                        raise source_fault(error, pair.source_globus_path) from error
                    if not chunk:
                        return
                    try:
                        target.write(chunk)
                        target.flush()
                    except OSError as error:
                        raise destination_fault(error, pair.destination_globus_path, fail_on_quota_errors=self.fail_on_quota) from error
                    self.control.add(bytes_transferred=len(chunk))
                    self.control.throttle(len(chunk))

    def _send_file(self, pair: FilePair, source_fd: int, target_fd: int) -> bool:
        """Copy with os.sendfile; return False if the kernel cannot do it for these files."""
        offset = 0
        while True:
            self.control.checkpoint()
            try:
                sent = os.sendfile(target_fd, source_fd, offset, UNLIMITED_CHUNK_BYTES)
            except OSError as error:
                if offset == 0 and error.errno in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                    return False
                if error.errno in DESTINATION_ERRNOS:
                    raise destination_fault(error, pair.destination_globus_path, fail_on_quota_errors=self.fail_on_quota) from error
                raise source_fault(error, pair.source_globus_path) from error
            if sent == 0:
                return True
            offset += sent
            self.control.add(bytes_transferred=sent)

    def _checksum(self, path: Path, algorithm: str, globus_path: str, *, on_source: bool) -> str:
        """Hash a file in chunks, adding each chunk to ``bytes_checksummed``."""
        hasher = new_hasher(algorithm)
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(MAX_CHUNK_BYTES):
                    self.control.checkpoint()
                    hasher.update(chunk)
                    self.control.add(bytes_checksummed=len(chunk))
        except OSError as error:
            if on_source:
                raise source_fault(error, globus_path) from error
            raise destination_fault(error, globus_path, fail_on_quota_errors=False) from error
        return hasher.hexdigest()

    def _should_skip(self, pair: FilePair, destination: Path, source_info: os.stat_result) -> bool:
        """Apply the task's sync level to a file whose destination may already exist."""
        if self.sync_level is None:
            return False
        try:
            destination_info = os.stat(destination)
        except FileNotFoundError:
            return False
        except OSError as error:
            raise destination_fault(error, pair.destination_globus_path, fail_on_quota_errors=False) from error
        if stat.S_ISDIR(destination_info.st_mode):
            return False

        if self.sync_level == SYNC_EXISTS:
            return True
        if self.sync_level == SYNC_SIZE:
            return destination_info.st_size == source_info.st_size
        if self.sync_level == SYNC_MTIME:
            return destination_info.st_mtime_ns >= source_info.st_mtime_ns
        if destination_info.st_size != source_info.st_size:
            return False
        algorithm = pair.checksum_algorithm
        source_sum = self._checksum(pair.source, algorithm, pair.source_globus_path, on_source=True)
        destination_sum = self._checksum(destination, algorithm, pair.destination_globus_path, on_source=False)
        return source_sum == destination_sum

    def _verify(self, pair: FilePair, temporary: Path) -> None:
        """Compare checksums after the copy when the task or item requests it.

        A mismatch with the source is a retryable fault, so the file is copied
        again. A mismatch with ``external_checksum`` fails the task.
        """
        if not self.verify_checksum and pair.external_checksum is None:
            return
        algorithm = pair.checksum_algorithm
        copied_sum = self._checksum(temporary, algorithm, pair.destination_globus_path, on_source=False)

        if pair.external_checksum is not None and copied_sum != pair.external_checksum.lower():
            # NOTE: the fatal_error code for an external checksum mismatch is a guess.
            raise TaskFatal(
                "VERIFY_CHECKSUM",
                f"checksum of {pair.source_globus_path} is {copied_sum}, expected {pair.external_checksum}",
            )
        if self.verify_checksum:
            source_sum = self._checksum(pair.source, algorithm, pair.source_globus_path, on_source=True)
            if source_sum != copied_sum:
                raise ItemFault("VERIFY_CHECKSUM", "checksum verification failed", path=pair.destination_globus_path, on_source=False)
