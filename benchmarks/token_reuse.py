"""Token grants and Transfer requests for many short transfers: GlobusHook against plain globus-sdk.

Usage: ``.venv/bin/python benchmarks/token_reuse.py [--transfers 100] [--runs 5]``

Each run starts a fresh local Globus service with two mapped collections and
a one-file source, then makes ``--transfers`` transfers in three ways, each
in a fresh service so that the counters start at zero:

* ``hook, collections detected``: a new ``GlobusHook`` per transfer, as each
  Airflow task builds one. ``prepare_collections`` looks the collections up,
  then the hook submits and reads the finished task.
* ``hook, collections declared``: the same, with both collections in the
  connection's ``data_access_collections`` extra, so nothing is looked up.
* ``plain globus-sdk, client per transfer``: what scripts do today. Each
  transfer builds a new ConfidentialAppAuthClient, ClientCredentialsAuthorizer
  (with the data_access scopes written out) and TransferClient, then submits
  and reads the finished task.

Every path waits for the task through the service's own notification and
then makes one ``get_task`` call, so the request counts compare the
authorization work, not polling. The process-wide token cache is cleared
before each hook path. Prints the median over runs of token grants, Transfer
requests and wall time, with the machine and package versions, as Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

# Airflow reads its configuration on first import; keep it away from ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="token-reuse-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")

import globus_sdk

from globus_airflow.hooks.globus import GlobusHook
from globus_airflow.hooks.tokens import PROCESS_TOKENS
from globus_airflow.testing import LocalGlobusService

TRANSFER_SCOPE = "urn:globus:auth:scope:transfer.api.globus.org:all"
CONN_ID = "globus_benchmark"


def transfer_data(service: LocalGlobusService, index: int) -> globus_sdk.TransferData:
    data = globus_sdk.TransferData(
        source_endpoint=service.collection_id("source"),
        destination_endpoint=service.collection_id("destination"),
        notify_on_succeeded=False,
    )
    data.add_item("/data.txt", f"/copy-{index}.txt")
    return data


def finish(service: LocalGlobusService, client: globus_sdk.TransferClient, task_id: str) -> None:
    service.wait_for_task(task_id, timeout=60)
    status = client.get_task(task_id)["status"]
    if status != "SUCCEEDED":
        raise RuntimeError(f"task {task_id} ended {status}")


def hook_transfers(service: LocalGlobusService, count: int, *, declared: bool) -> None:
    connection = json.loads(service.connection_json())
    if declared:
        collections = [service.collection_id("source"), service.collection_id("destination")]
        connection["extra"]["data_access_collections"] = collections
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(connection)
    PROCESS_TOKENS.clear()

    for index in range(count):
        hook = GlobusHook(globus_conn_id=CONN_ID)
        data = transfer_data(service, index)
        hook.prepare_collections([data["source_endpoint"], data["destination_endpoint"]])
        task_id = hook.transfer_client.submit_transfer(data)["task_id"]
        finish(service, hook.transfer_client, task_id)


def plain_sdk_transfers(service: LocalGlobusService, count: int) -> None:
    consents = " ".join(
        f"*https://auth.globus.org/scopes/{service.collection_id(name)}/data_access"
        for name in ("source", "destination")
    )
    scope = f"{TRANSFER_SCOPE}[{consents}]"

    for index in range(count):
        auth_client = globus_sdk.ConfidentialAppAuthClient(
            service.client_id, service.client_secret, base_url=service.auth_url
        )
        authorizer = globus_sdk.ClientCredentialsAuthorizer(auth_client, scope)
        client = globus_sdk.TransferClient(authorizer=authorizer, base_url=service.transfer_url)
        task_id = client.submit_transfer(transfer_data(service, index))["task_id"]
        finish(service, client, task_id)


def measure(run: Callable[[LocalGlobusService], None], scratch: Path) -> dict[str, float]:
    """Run one path against a fresh service; return its grants, requests and seconds."""
    source, destination = scratch / "source", scratch / "destination"
    for directory in (source, destination):
        directory.mkdir(parents=True, exist_ok=True)
    (source / "data.txt").write_text("benchmark payload\n")

    with LocalGlobusService(collections={"source": source, "destination": destination}) as service:
        started = time.perf_counter()
        run(service)
        elapsed = time.perf_counter() - started
        stats = service.stats
    transfer_requests = sum(
        count for route, count in stats.requests.items() if " /transfer/" in route
    )
    return {"grants": stats.token_grants, "requests": transfer_requests, "seconds": elapsed}


def machine_lines() -> list[str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    nproc = subprocess.run(["nproc"], check=True, capture_output=True, text=True).stdout.strip()
    packages = ", ".join(
        f"{name} {version(name)}" for name in ("globus-sdk", "apache-airflow", "fastapi", "uvicorn")
    )
    return [
        f"- Machine: {nproc} CPUs (`nproc`), {cpu}, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; {packages}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=100, help="transfers per path and run")
    parser.add_argument("--runs", type=int, default=5, help="runs; the median is reported")
    args = parser.parse_args(argv)

    paths: dict[str, Callable[[LocalGlobusService], None]] = {
        "hook, collections detected": lambda s: hook_transfers(s, args.transfers, declared=False),
        "hook, collections declared": lambda s: hook_transfers(s, args.transfers, declared=True),
        "plain globus-sdk, client per transfer": lambda s: plain_sdk_transfers(s, args.transfers),
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in paths}
    with tempfile.TemporaryDirectory(prefix="token-reuse-") as scratch:
        for run_index in range(args.runs):
            for position, (name, run) in enumerate(paths.items()):
                results[name].append(measure(run, Path(scratch) / f"{run_index}-{position}"))
            counts = "; ".join(
                f"{name}: {samples[-1]['grants']:g} grants, {samples[-1]['requests']:g} requests"
                for name, samples in results.items()
            )
            print(f"run {run_index + 1}/{args.runs}: {counts}", file=sys.stderr)

    print(f"{args.transfers} one-file transfers per path; median of {args.runs} runs.\n")
    print("| Path | Token grants | Transfer requests | Requests per transfer | Wall time (s) |")
    print("|---|---|---|---|---|")
    for name, samples in results.items():
        grants = statistics.median(sample["grants"] for sample in samples)
        requests = statistics.median(sample["requests"] for sample in samples)
        seconds = statistics.median(sample["seconds"] for sample in samples)
        print(
            f"| {name} | {grants:g} | {requests:g} | {requests / args.transfers:.2f} "
            f"| {seconds:.2f} |"
        )
    print()
    print("\n".join(machine_lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
