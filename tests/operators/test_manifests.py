"""Manifest files and rendered item strings: good lines, bad lines, and the lines errors name."""

from __future__ import annotations

import pytest

from globus_airflow.exceptions import GlobusInputError
from globus_airflow.utils.manifests import (
    coerce_item_list,
    detect_format,
    read_delete_manifest,
    read_transfer_manifest,
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BATCH = """\
# nightly batch, as written for globus transfer --batch
/data/a.txt /copy/a.txt

--recursive /data/run1 /copy/run1
-r "/data/with space" '/copy/with space'
--external-checksum 5d41402abc4b2a76b9719d911017c592 /data/b.txt /copy/b.txt  # md5
--external-checksum=abc --checksum-algorithm SHA256 /data/c.txt /copy/c.txt
/data/Probe_Müller.fastq.gz /copy/Probe_Müller.fastq.gz
"""

BATCH_ITEMS = [
    {"source_path": "/data/a.txt", "destination_path": "/copy/a.txt"},
    {"source_path": "/data/run1", "destination_path": "/copy/run1", "recursive": True},
    {"source_path": "/data/with space", "destination_path": "/copy/with space", "recursive": True},
    {
        "source_path": "/data/b.txt",
        "destination_path": "/copy/b.txt",
        "external_checksum": "5d41402abc4b2a76b9719d911017c592",
    },
    {
        "source_path": "/data/c.txt",
        "destination_path": "/copy/c.txt",
        "external_checksum": "abc",
        "checksum_algorithm": "SHA256",
    },
    {
        "source_path": "/data/Probe_Müller.fastq.gz",
        "destination_path": "/copy/Probe_Müller.fastq.gz",
    },
]


def test_batch_transfer_lines(tmp_path):
    assert read_transfer_manifest(write(tmp_path, "batch.txt", BATCH)) == BATCH_ITEMS


def test_jsonl_transfer_lines(tmp_path):
    text = (
        '{"source_path": "/data/a.txt", "destination_path": "/copy/a.txt"}\n'
        "\n"
        '{"source_path": "/data/run1", "destination_path": "/copy/run1", "recursive": true}\n'
    )
    assert read_transfer_manifest(write(tmp_path, "items.jsonl", text)) == BATCH_ITEMS[:2]


def test_csv_transfer_rows(tmp_path):
    text = (
        "\ufeffsource_path,destination_path,recursive,external_checksum\n"
        "/data/a.txt,/copy/a.txt,,\n"
        "/data/run1,/copy/run1,yes,\n"
        '"/data/with space","/copy/with space",TRUE,\n'
        "/data/b.txt,/copy/b.txt,false,5d41402abc4b2a76b9719d911017c592\n"
        ",,,\n"
    )
    items = read_transfer_manifest(write(tmp_path, "items.csv", text))
    assert items == [
        BATCH_ITEMS[0],
        BATCH_ITEMS[1],
        BATCH_ITEMS[2],
        {**BATCH_ITEMS[3], "recursive": False},
    ]


def test_relative_paths_joined_to_prefixes(tmp_path):
    text = "a.txt copy/a.txt\n/abs/b.txt ~/b.txt\n"
    items = read_transfer_manifest(
        write(tmp_path, "batch.txt", text), source_prefix="/data/run1", destination_prefix="/~/"
    )
    assert items == [
        {"source_path": "/data/run1/a.txt", "destination_path": "/~/copy/a.txt"},
        {"source_path": "/abs/b.txt", "destination_path": "~/b.txt"},
    ]


BAD_TRANSFER_MANIFESTS = [
    (
        "batch.txt",
        "/a /b\n/only-one\n",
        ["batch.txt line 2: expected a source path and a destination path"],
    ),
    ("batch.txt", "/a /b\n--delete /a /b\n", ["batch.txt line 2: unknown option '--delete'"]),
    ("batch.txt", '"/a /b\n', ["batch.txt line 1: No closing quotation"]),
    (
        "batch.txt",
        "/a /b --external-checksum\n",
        ["batch.txt line 1: --external-checksum needs a value"],
    ),
    ("batch.txt", "a /b\n", ["batch.txt line 1: source_path='a' is a relative path"]),
    (
        "batch.txt",
        "--recursive --external-checksum x /a /b\n",
        ["batch.txt line 1 sets both 'external_checksum' and recursive=True"],
    ),
    (
        "items.jsonl",
        '{"source_path": "/a", "destination_path": "/b"}\n{"source_path": "/a"\n[1, 2]\n',
        ["items.jsonl line 2: Expecting", "items.jsonl line 3: expected a JSON object"],
    ),
    (
        "items.jsonl",
        '{"source_path": "/a", "destination": "/b"}\n',
        ["items.jsonl line 1 has unknown keys ['destination']"],
    ),
    (
        "items.csv",
        "source,destination\n/a,/b\n",
        ["items.csv line 1 (the header): columns must include"],
    ),
    (
        "items.csv",
        "source_path,destination_path,recursive\n/a,/b,maybe\n/c,/d,1,extra\n/e,f,\n",
        [
            "items.csv line 2: recursive='maybe' must be true or false",
            "items.csv line 3: the row has more cells than the header has columns",
            "items.csv line 4: destination_path='f' is a relative path",
            "3 of 3 items are invalid, so nothing was submitted",
        ],
    ),
    ("batch.txt", "# only a comment\n\n", ["manifest 'batch.txt' lists no items"]),
]


@pytest.mark.parametrize(("name", "text", "expected"), BAD_TRANSFER_MANIFESTS)
def test_bad_transfer_manifest_names_lines(tmp_path, name, text, expected):
    with pytest.raises(GlobusInputError) as excinfo:
        read_transfer_manifest(write(tmp_path, name, text))
    for fragment in expected:
        assert fragment in str(excinfo.value)


def test_every_bad_line_reported_once(tmp_path):
    lines = [f"/data/{number} /copy/{number}" for number in range(30)]
    for number in (3, 11, 29):
        lines[number] = f"relative/{number} /copy/{number}"
    with pytest.raises(GlobusInputError) as excinfo:
        read_transfer_manifest(write(tmp_path, "batch.txt", "\n".join(lines)))

    message = str(excinfo.value)
    assert message.startswith("3 of 30 items are invalid")
    for number in (3, 11, 29):
        assert f"batch.txt line {number + 1}: source_path='relative/{number}'" in message
    assert message.count("is a relative path") == 3


def test_long_error_lists_are_cut(tmp_path):
    text = "\n".join(f"bad{number} /copy" for number in range(25))
    with pytest.raises(GlobusInputError) as excinfo:
        read_transfer_manifest(write(tmp_path, "batch.txt", text))
    assert "25 of 25 items are invalid" in str(excinfo.value)
    assert "and 5 more" in str(excinfo.value)
    assert "batch.txt line 21:" not in str(excinfo.value)


def test_missing_manifest_file(tmp_path):
    with pytest.raises(GlobusInputError, match="was not found on the Airflow worker"):
        read_transfer_manifest(tmp_path / "absent.txt")


def test_manifest_not_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("/data/M\xfcller /copy/M\xfcller\n".encode("latin-1"))
    with pytest.raises(GlobusInputError, match="is not UTF-8 text"):
        read_transfer_manifest(path)


def test_delete_manifest_formats(tmp_path):
    expected = ["/data/a.txt", "/data/with space", "/data/run1"]
    batch = write(tmp_path, "delete.txt", "# remove\n/data/a.txt\n'/data/with space'\nrun1\n")
    jsonl = write(
        tmp_path,
        "delete.ndjson",
        '{"path": "/data/a.txt"}\n"/data/with space"\n{"path": "run1"}\n',
    )
    table = write(tmp_path, "delete.csv", 'path\n/data/a.txt\n"/data/with space"\nrun1\n')

    for path in (batch, jsonl, table):
        assert read_delete_manifest(path, prefix="/data") == expected, path.name


BAD_DELETE_MANIFESTS = [
    ("delete.txt", "/a\n/b /c\n", "delete.txt line 2: expected one path, found 2 words"),
    ("delete.txt", "/a\nrelative\n", "delete.txt line 2: path='relative' is a relative path"),
    ("delete.jsonl", '{"paths": "/a"}\n', "delete.jsonl line 1: expected a JSON object"),
    ("delete.csv", "path,recursive\n/a,true\n", "delete.csv line 1 (the header): the header"),
]


@pytest.mark.parametrize(("name", "text", "expected"), BAD_DELETE_MANIFESTS)
def test_bad_delete_manifest_names_lines(tmp_path, name, text, expected):
    with pytest.raises(GlobusInputError) as excinfo:
        read_delete_manifest(write(tmp_path, name, text))
    assert expected in str(excinfo.value)


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("a.jsonl", None, "jsonl"),
        ("a.NDJSON", None, "jsonl"),
        ("a.csv", None, "csv"),
        ("a.txt", None, "batch"),
        ("a", None, "batch"),
        ("a.txt", "csv", "csv"),
    ],
)
def test_detect_format(name, given, expected):
    assert detect_format(name, given) == expected


def test_format_override_parses_as_given(tmp_path):
    path = write(tmp_path, "items.txt", '{"path": "/a"}\n')
    assert read_delete_manifest(path, manifest_format="jsonl") == ["/a"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["/a", "/b"]', ["/a", "/b"]),
        ("['/a', '/b']", ["/a", "/b"]),
        ("[{'source_path': '/a', 'destination_path': '/b', 'recursive': True}]",
         [{"source_path": "/a", "destination_path": "/b", "recursive": True}]),
        (("/a",), ["/a"]),
        (["/a"], ["/a"]),
    ],
)
def test_coerce_item_list(value, expected):
    assert coerce_item_list(value) == expected


def test_coerce_item_list_never_runs_code():
    with pytest.raises(GlobusInputError, match="not a JSON or Python list"):
        coerce_item_list("__import__('os').getcwd()")
