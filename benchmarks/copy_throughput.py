"""Copy throughput of the local Globus service against ``cp -r`` of the same tree.

Usage: ``.venv/bin/python benchmarks/copy_throughput.py [--runs 5] [--large-mib 64]``

Writes the sample dataset (330 small files) plus a few large files, then times
``cp -r`` and a recursive transfer through the service with no bandwidth
limit, both into fresh directories on the same disk. A transfer is timed from
its submission until the service reports SUCCEEDED, so the figure includes
the service's own bookkeeping but not Airflow. Prints the median of each and
their ratio (service throughput / cp throughput).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import globus_sdk

from globus_airflow.testing import LocalGlobusService
from globus_airflow.testing.sample_data import write_sample_dataset


def time_cp(source: Path, scratch: Path) -> float:
    target = scratch / "cp-target"
    started = time.perf_counter()
    subprocess.run(["cp", "-r", str(source), str(target)], check=True)
    elapsed = time.perf_counter() - started
    shutil.rmtree(target)
    return elapsed


def time_service(source: Path, scratch: Path) -> float:
    destination = scratch / "service-target"
    destination.mkdir()
    with LocalGlobusService(collections={"source": source, "destination": destination}) as service:
        auth = globus_sdk.ConfidentialAppAuthClient(
            service.client_id, service.client_secret, base_url=service.auth_url
        )
        # Both collections are mapped collections, which need data_access consents.
        consents = " ".join(
            f"*https://auth.globus.org/scopes/{service.collection_id(name)}/data_access"
            for name in ("source", "destination")
        )
        authorizer = globus_sdk.ClientCredentialsAuthorizer(
            auth, f"urn:globus:auth:scope:transfer.api.globus.org:all[{consents}]"
        )
        client = globus_sdk.TransferClient(authorizer=authorizer, base_url=service.transfer_url)
        data = globus_sdk.TransferData(
            source_endpoint=service.collection_id("source"),
            destination_endpoint=service.collection_id("destination"),
        )
        data.add_item("/", "/", recursive=True)
        client.get_submission_id()  # the token grant is not part of the copy

        started = time.perf_counter()
        task_id = client.submit_transfer(data)["task_id"]
        task = service.wait_for_task(task_id, timeout=3600)
        elapsed = time.perf_counter() - started
    if task["status"] != "SUCCEEDED":
        raise RuntimeError(f"benchmark transfer {task_id} ended {task['status']}")
    shutil.rmtree(destination)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--large-files", type=int, default=4)
    parser.add_argument("--large-mib", type=int, default=64)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="globus-bench-") as scratch_name:
        scratch = Path(scratch_name)
        source = scratch / "source"
        stats = write_sample_dataset(
            source, large_files=args.large_files, large_file_bytes=args.large_mib * 1024 * 1024
        )
        cp_times, service_times = [], []
        for _ in range(args.runs):
            cp_times.append(time_cp(source, scratch))
            service_times.append(time_service(source, scratch))

    cp_median = statistics.median(cp_times)
    service_median = statistics.median(service_times)
    megabytes = stats.bytes / 1e6
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, globus-sdk {globus_sdk.__version__}")
    print(f"tree: {stats.files} files, {stats.directories} directories, {megabytes:.1f} MB; "
          f"{args.runs} runs each")
    print(f"cp -r:   median {cp_median:.3f} s ({megabytes / cp_median:.0f} MB/s)")
    print(f"service: median {service_median:.3f} s ({megabytes / service_median:.0f} MB/s)")
    print(f"throughput ratio service/cp: {cp_median / service_median:.2f} (goal: at least 0.8)")


if __name__ == "__main__":
    main()
