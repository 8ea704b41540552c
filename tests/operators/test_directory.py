"""GlobusMkdirOperator and GlobusListOperator against the local Globus service, through globus-sdk."""

from __future__ import annotations

import pytest

from globus_airflow.exceptions import GlobusError, GlobusInputError
from globus_airflow.operators.directory import GlobusListOperator, GlobusMkdirOperator

COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
ENTRY_KEYS = {"name", "path", "relative_path", "type", "size", "last_modified"}


def mkdir(path, **kwargs):
    operator = GlobusMkdirOperator(task_id="mkdir", endpoint=COLLECTION, path=path, **kwargs)
    return operator.execute(context={})


def ls(path, **kwargs):
    operator = GlobusListOperator(task_id="ls", endpoint=COLLECTION, path=path, **kwargs)
    return operator.execute(context={})


@pytest.fixture
def tree(collections):
    """A small run folder: two samples with reads, a hidden file and a report."""
    run = collections["source"] / "run"
    for sample in ("Sample_1", "Sample 2"):
        (run / "fastq" / sample).mkdir(parents=True)
        for read in ("R1", "R2"):
            (run / "fastq" / sample / f"{read}.fastq.gz").write_bytes(b"@" * 10)
        (run / "fastq" / sample / "deep").mkdir()
        (run / "fastq" / sample / "deep" / "stats.txt").write_text("q30")
    (run / "report.html").write_text("<html></html>")
    (run / ".hidden").write_text("")
    return run


def test_mkdir_creates_directory(local_globus, collections):
    assert mkdir("/new") == "/new"
    assert (collections["source"] / "new").is_dir()


def test_mkdir_existing_fails_without_exist_ok(local_globus, collections):
    (collections["source"] / "existing").mkdir()

    with pytest.raises(GlobusError, match="already exists .* pass exist_ok=True"):
        mkdir("/existing")
    assert mkdir("/existing", exist_ok=True) == "/existing"


def test_mkdir_parents_creates_ancestors(local_globus, collections):
    (collections["source"] / "a").mkdir()

    assert mkdir("/a/b/c/d", parents=True) == "/a/b/c/d"
    assert (collections["source"] / "a" / "b" / "c" / "d").is_dir()
    assert mkdir("/a/b/c/d", parents=True) == "/a/b/c/d"


def test_mkdir_missing_parent_fails(local_globus):
    with pytest.raises(GlobusError, match="Creating /no/such/dir on collection .* failed"):
        mkdir("/no/such/dir")


def test_list_top_level_shape(local_globus, tree):
    entries = ls("/run")

    assert [entry["name"] for entry in entries] == [".hidden", "fastq", "report.html"]
    for entry in entries:
        assert set(entry) == ENTRY_KEYS
    report = entries[2]
    assert report["path"] == "/run/report.html"
    assert report["relative_path"] == "report.html"
    assert report["type"] == "file"
    assert report["size"] == len("<html></html>")
    assert report["last_modified"]
    assert entries[1]["type"] == "dir"


def test_list_hidden_names_left_out(local_globus, tree):
    assert [entry["name"] for entry in ls("/run", show_hidden=False)] == ["fastq", "report.html"]


def test_list_recursive_files_only(local_globus, tree):
    entries = ls("/run/fastq/", recursive=True, entry_type="file")

    assert [entry["relative_path"] for entry in entries] == [
        "Sample 2/R1.fastq.gz",
        "Sample 2/R2.fastq.gz",
        "Sample 2/deep/stats.txt",
        "Sample_1/R1.fastq.gz",
        "Sample_1/R2.fastq.gz",
        "Sample_1/deep/stats.txt",
    ]
    assert entries[0]["path"] == "/run/fastq/Sample 2/R1.fastq.gz"


def test_list_recursive_depth_limit(local_globus, tree):
    entries = ls("/run/fastq", recursive=True, max_depth=2)

    assert [entry["relative_path"] for entry in entries] == [
        "Sample 2",
        "Sample 2/R1.fastq.gz",
        "Sample 2/R2.fastq.gz",
        "Sample 2/deep",
        "Sample_1",
        "Sample_1/R1.fastq.gz",
        "Sample_1/R2.fastq.gz",
        "Sample_1/deep",
    ]


def test_list_recursive_glob(local_globus, tree):
    entries = ls("/run", recursive=True, pattern="R1*.gz")
    assert [entry["path"] for entry in entries] == [
        "/run/fastq/Sample 2/R1.fastq.gz",
        "/run/fastq/Sample_1/R1.fastq.gz",
    ]


def test_list_glob_directories_only(local_globus, tree):
    entries = ls("/run/fastq", pattern="Sample_*", entry_type="dir")
    assert [entry["name"] for entry in entries] == ["Sample_1"]


def test_list_entries_expand_in_order(local_globus, tree):
    """The list is what .expand() maps over: one mapped task instance per entry."""
    entries = ls("/run/fastq", entry_type="dir")
    paths = [entry["path"] for entry in entries]
    assert paths == ["/run/fastq/Sample 2", "/run/fastq/Sample_1"]


def test_list_max_entries_exceeded(local_globus, tree):
    with pytest.raises(GlobusInputError, match="more than max_entries=3 entries"):
        ls("/run", recursive=True, max_entries=3)


def test_list_min_entries_not_reached(local_globus, tree):
    with pytest.raises(GlobusError, match="found 0 matching entries, fewer than min_entries=1"):
        ls("/run", pattern="*.bam", min_entries=1)


def test_list_missing_directory_fails(local_globus):
    with pytest.raises(GlobusError, match=r"Listing /nowhere on collection .* failed: HTTP 404"):
        ls("/nowhere")


LIST_BAD_ARGUMENTS = [
    ({"max_depth": 2}, "has no effect without recursive=True"),
    ({"recursive": True, "max_depth": 0}, "max_depth=0 must be a whole number of at least 1"),
    ({"entry_type": "link"}, "entry_type='link' must be 'file', 'dir' or None"),
    ({"max_entries": 0}, "max_entries=0"),
    ({"path": "run"}, "path='run' is a relative path"),
]


@pytest.mark.parametrize(("overrides", "expected"), LIST_BAD_ARGUMENTS)
def test_list_bad_argument_rejected(overrides, expected):
    arguments = {"task_id": "ls", "endpoint": COLLECTION, "path": "/run", **overrides}
    with pytest.raises(GlobusInputError) as excinfo:
        GlobusListOperator(**arguments)
    assert expected in str(excinfo.value)
