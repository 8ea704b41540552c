"""A realistic sequencing-style dataset to move in demos and tests, and a tree comparison."""

from __future__ import annotations

import dataclasses
import filecmp
import os
import random
from pathlib import Path

SAMPLE_NAMES = (
    "Sample_001",
    "Sample_002 repeat",
    "Probe_Müller",
    "échantillon_03",
    "Sample_004",
    "Sample_005",
)
LANES = ("L001", "L002", "L003", "L004")


@dataclasses.dataclass(frozen=True)
class DatasetStats:
    """Counts of what a dataset holds."""

    files: int
    directories: int
    bytes: int


def write_sample_dataset(
    root: str | os.PathLike[str],
    *,
    large_files: int = 3,
    large_file_bytes: int = 4 * 1024 * 1024,
    seed: int = 0,
) -> DatasetStats:
    """Write a sequencing run's output under ``root`` and return its counts.

    The tree has nested folders, several hundred small files, ``large_files``
    files of ``large_file_bytes`` each, and names with spaces and non-ASCII
    letters. The same ``seed`` writes the same bytes.
    """
    rng = random.Random(seed)
    run = Path(root) / "run_2026-11-30_A01"
    files = 0
    size = 0

    def write(path: Path, data: bytes) -> None:
        nonlocal files, size
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files += 1
        size += len(data)

    write(run / "RunInfo.xml", _run_info(rng))
    write(run / "SampleSheet.csv", _sample_sheet())

    for sample in SAMPLE_NAMES:
        for lane in LANES:
            for read in ("R1", "R2", "I1"):
                reads = rng.randbytes(rng.randint(2_000, 24_000))
                write(run / "fastq" / sample / f"{sample}_{lane}_{read}_001.fastq.gz", reads)
        write(run / "QC reports" / sample / "fastqc summary.txt", _qc_text(rng, sample))
        write(run / "QC reports" / sample / "per_base_quality.tsv", _quality_table(rng))

    for cycle in range(1, 61):
        for lane in LANES:
            write(
                run / "InterOp" / f"C{cycle}.1" / f"{lane}.cbcl.stats",
                rng.randbytes(rng.randint(200, 1_500)),
            )

    for index in range(large_files):
        write(run / "alignments" / f"merged_{index + 1}.bam", rng.randbytes(large_file_bytes))

    write(run / "RTAComplete.txt", b"RTA 3.4.4 complete\n")

    directories = sum(1 for entry in run.rglob("*") if entry.is_dir()) + 1
    return DatasetStats(files=files, directories=directories, bytes=size)


def tree_differences(expected: str | os.PathLike[str], actual: str | os.PathLike[str]) -> list[str]:
    """List how the tree under ``actual`` differs from ``expected``, byte for byte.

    :return: one line per missing, extra or different entry; empty when equal
    """
    expected_root, actual_root = Path(expected), Path(actual)
    expected_entries = _relative_entries(expected_root)
    actual_entries = _relative_entries(actual_root)
    differences = []

    for name in sorted(expected_entries.keys() - actual_entries.keys()):
        differences.append(f"missing: {name}")
    for name in sorted(actual_entries.keys() - expected_entries.keys()):
        differences.append(f"extra: {name}")

    for name in sorted(expected_entries.keys() & actual_entries.keys()):
        if expected_entries[name] != actual_entries[name]:
            differences.append(f"type differs: {name}")
        elif expected_entries[name] == "file" and not filecmp.cmp(
            expected_root / name, actual_root / name, shallow=False
        ):
            differences.append(f"content differs: {name}")
    return differences


def _relative_entries(root: Path) -> dict[str, str]:
    entries = {}
    for path in root.rglob("*"):
        kind = "dir" if path.is_dir() else "file"
        entries[path.relative_to(root).as_posix()] = kind
    return entries


def _run_info(rng: random.Random) -> bytes:
    flowcell = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(9))
    return (
        '<?xml version="1.0"?>\n'
        f'<RunInfo Version="6"><Run Id="run_2026-11-30_A01" Number="42">'
        f"<Flowcell>{flowcell}</Flowcell><Instrument>A01</Instrument></Run></RunInfo>\n"
    ).encode()


def _sample_sheet() -> bytes:
    lines = ["[Data]", "Sample_ID,Sample_Name,Lane"]
    for sample in SAMPLE_NAMES:
        for lane in LANES:
            lines.append(f"{sample},{sample},{lane[-1]}")
    return ("\n".join(lines) + "\n").encode()


def _qc_text(rng: random.Random, sample: str) -> bytes:
    return (
        f"Sample\t{sample}\nTotal sequences\t{rng.randint(10**6, 10**7)}\n"
        f"%GC\t{rng.randint(38, 52)}\nStatus\tPASS\n"
    ).encode()


def _quality_table(rng: random.Random) -> bytes:
    rows = ["position\tmean\tmedian"]
    for position in range(1, 152):
        mean = 30 + rng.random() * 8
        rows.append(f"{position}\t{mean:.2f}\t{round(mean)}")
    return ("\n".join(rows) + "\n").encode()
