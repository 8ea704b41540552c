"""Run the example DAG against the local Globus service and check the copy.

Used by ``make demo``. Everything lives under the demo folder: the source
and destination collections, the Airflow home and the logs. The destination
collection and the Airflow home are recreated on every run.

Exit status: 0 when the DAG succeeded and the destination matches the source
byte for byte, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from globus_airflow.testing.sample_data import tree_differences, write_sample_dataset

REPO = Path(__file__).resolve().parent.parent
DAG_ID = "example_globus_transfer"
SHOWN_MARKERS = ("Globus task", "Submitted Globus", "Follow the task", " moved ", "ERROR")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-dir", type=Path, default=REPO / ".demo")
    parser.add_argument("--source", type=Path, help="move this directory instead of sample data")
    parser.add_argument(
        "--bandwidth-limit", type=int, default=None, help="bytes per second per task"
    )
    args = parser.parse_args(argv)

    demo_dir = args.demo_dir.resolve()
    demo_dir.mkdir(parents=True, exist_ok=True)
    destination = demo_dir / "destination"
    airflow_home = demo_dir / "airflow"
    for directory in (destination, airflow_home):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir()

    source = _prepare_source(args.source, demo_dir / "source")
    if source is None:
        return 1

    env = _airflow_env(airflow_home)
    timings: dict[str, float] = {}
    started = time.monotonic()
    service = _start_service(source, destination, args.bandwidth_limit, demo_dir)
    try:
        line = service.stdout.readline()
        if not line:
            print(f"The local Globus service did not start; see {demo_dir / 'service.log'}")
            return 1
        details = json.loads(line)
        timings["service start"] = time.monotonic() - started
        print(f"Local Globus service: {details['transfer_url']}")
        env["AIRFLOW_CONN_GLOBUS_DEFAULT"] = details["airflow_conn_globus_default"]

        started = time.monotonic()
        dag_ok = _run_dag(env, demo_dir / "dags-test.log")
        timings["DAG run"] = time.monotonic() - started
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=30)

    differences = tree_differences(source, destination)
    _print_summary(source, dag_ok, differences, timings, demo_dir)
    return 0 if dag_ok and not differences else 1


def _prepare_source(requested: Path | None, generated: Path) -> Path | None:
    if requested is not None:
        source = requested.expanduser().resolve()
        if not source.is_dir():
            print(f"SOURCE={requested} is not a directory; pass an existing directory.")
            return None
        print(f"Moving your directory {source}")
        return source

    if not generated.exists():
        stats = write_sample_dataset(generated)
        print(
            f"Wrote sample data to {generated}: {stats.files} files in "
            f"{stats.directories} directories, {stats.bytes / 1e6:.1f} MB"
        )
    else:
        print(f"Reusing sample data in {generated}")
    return generated


def _airflow_env(airflow_home: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "example_dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
    )
    return env


def _start_service(
    source: Path, destination: Path, bandwidth_limit: int | None, demo_dir: Path
) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "globus_airflow.testing",
        "serve",
        "--collection",
        f"source={source}",
        "--collection",
        f"destination={destination}",
    ]
    if bandwidth_limit:
        command += ["--bandwidth-limit", str(bandwidth_limit)]
    log = open(demo_dir / "service.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)


def _run_dag(env: dict[str, str], log_path: Path) -> bool:
    airflow = str(Path(sys.executable).with_name("airflow"))
    with open(log_path, "w") as log:
        migrate = subprocess.run(
            [airflow, "db", "migrate"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        if migrate.returncode != 0:
            print(f"airflow db migrate failed; see {log_path}")
            return False

        print(f"Running `airflow dags test {DAG_ID}` (full log: {log_path})")
        process = subprocess.Popen(
            [airflow, "dags", "test", DAG_ID],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in process.stdout:
            log.write(line)
            if any(marker in line for marker in SHOWN_MARKERS):
                print("  " + line.rstrip()[:220])
        return process.wait() == 0


def _print_summary(
    source: Path,
    dag_ok: bool,
    differences: list[str],
    timings: dict[str, float],
    demo_dir: Path,
) -> None:
    files = sum(1 for path in source.rglob("*") if path.is_file())
    size = sum(path.stat().st_size for path in source.rglob("*") if path.is_file())
    print()
    print(f"DAG run:      {'succeeded' if dag_ok else 'FAILED'}")
    print(f"Source:       {files} files, {size / 1e6:.1f} MB")
    if differences:
        print(f"Destination:  {len(differences)} differences, first ones:")
        for line in differences[:10]:
            print(f"  {line}")
    else:
        print("Destination:  identical to the source, byte for byte")
    print("Timings:      " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    print(f"Demo folder:  {demo_dir}")


if __name__ == "__main__":
    sys.exit(main())
