"""Run Airflow's web UI with the example DAGs against the local Globus service.

Used by ``make ui``. It starts the local Globus service and Airflow's
api-server, scheduler, dag-processor and triggerer as separate processes,
each listening on 127.0.0.1 only (``airflow standalone`` is not used because
its log servers listen on every interface). Transfers wait in the triggerer
(``[operators] default_deferrable`` is on), and the service copies at a
limited bandwidth, so a run of ``example_globus_transfer`` takes long enough
to follow in the UI.

Everything lives under the UI folder: the collections, the Airflow home and
the component logs. The Airflow home and the source data are kept between
runs; the destination collection is emptied at every start.

Ctrl-C (SIGINT) or SIGTERM stops every process, each by its PID.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from globus_airflow.testing.sample_data import write_sample_dataset

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_PORT = 28080
DEFAULT_BANDWIDTH_LIMIT = 256 * 1024
"""Bytes per second per task: the default sample data (about 14 MB) then takes about a minute."""

STARTUP_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0
COMPONENTS = (
    ("api-server", ["api-server"]),
    ("scheduler", ["scheduler", "--skip-serve-logs"]),
    ("dag-processor", ["dag-processor"]),
    ("triggerer", ["triggerer", "--skip-serve-logs"]),
)
"""Airflow components in start order.

``--skip-serve-logs`` stops the scheduler and the triggerer from starting log
servers, which listen on every interface.
"""


class Processes:
    """The child processes started so far, which :meth:`stop_all` stops by PID."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[tuple[str, subprocess.Popen[str]]] = []
        self._logs: list[IO[str]] = []

    def start(
        self, name: str, command: list[str], env: dict[str, str], *, stdout: int | None = None
    ) -> subprocess.Popen[str]:
        """Start ``command`` in its own session with stderr (and stdout unless piped) in a log."""
        log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed in stop_all()
        self._logs.append(log)
        process = subprocess.Popen(
            command,
            env=env,
            stdout=log if stdout is None else stdout,
            stderr=log,
            text=True,
            # Own session: Ctrl-C in the terminal reaches only this script, which
            # then stops each child by PID and waits for it.
            start_new_session=True,
        )
        self.children.append((name, process))
        (self.log_dir / f"{name}.pid").write_text(f"{process.pid}\n")
        return process

    def first_exited(self) -> tuple[str, int] | None:
        """Return the name and exit status of a child that has exited, if any."""
        for name, process in self.children:
            status = process.poll()
            if status is not None:
                return name, status
        return None

    def stop_all(self) -> None:
        """Send SIGTERM to every running child by PID, then wait for each to exit."""
        running = [
            (name, process) for name, process in reversed(self.children) if process.poll() is None
        ]
        for name, process in running:
            say(f"Stopping {name} (PID {process.pid})")
            process.send_signal(signal.SIGTERM)

        for name, process in running:
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                say(f"{name} (PID {process.pid}) ignored SIGTERM for {STOP_TIMEOUT:.0f} s; killing")
                process.kill()
                process.wait()
        for name, _ in self.children:
            (self.log_dir / f"{name}.pid").unlink(missing_ok=True)
        for log in self._logs:
            log.close()


def say(message: str) -> None:
    """Print a line, ignoring a closed stdout so that the shutdown goes on.

    ``make ui | tee`` loses its reader at Ctrl-C, for example.
    """
    try:
        print(message, flush=True)
    except OSError:
        pass


class StopRequested(Exception):
    """Raised from the signal handler so that the main flow stops the children."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ui-dir",
        type=Path,
        default=Path(os.environ.get("UI_DIR") or REPO / ".ui"),
        help="folder for the collections, the Airflow home and the logs (default: $UI_DIR or .ui)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"TCP port of the UI (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--bandwidth-limit",
        type=int,
        default=DEFAULT_BANDWIDTH_LIMIT,
        help=f"bytes per second per Globus task (default: {DEFAULT_BANDWIDTH_LIMIT})",
    )
    parser.add_argument(
        "--all-admins",
        action="store_true",
        help="skip the login: every visitor is an admin (Airflow's simple auth manager)",
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be between 1 and 65535, got {args.port}")
    if args.bandwidth_limit <= 0:
        parser.error(
            "--bandwidth-limit must be a positive number of bytes per second, "
            f"got {args.bandwidth_limit}"
        )

    if not _port_is_free(args.port):
        parser.error(
            f"port {args.port} on {HOST} is in use; pick another one with --port "
            "(UI_PORT=... for make ui)"
        )

    ui_dir = args.ui_dir.resolve()
    paths = _prepare_folders(ui_dir)
    processes = Processes(paths["logs"])

    def request_stop(signum: int, frame: object) -> None:
        raise StopRequested(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        return _run(args, paths, processes)
    except StopRequested as stop:
        say(f"\nReceived {stop}; stopping everything")
        return 0
    finally:
        # A second Ctrl-C must not interrupt the shutdown half-way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        processes.stop_all()
        say("All processes stopped.")


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _prepare_folders(ui_dir: Path) -> dict[str, Path]:
    paths = {name: ui_dir / name for name in ("source", "destination", "airflow", "logs")}
    ui_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(paths["destination"], ignore_errors=True)
    for path in paths.values():
        path.mkdir(exist_ok=True)

    if not any(paths["source"].iterdir()):
        stats = write_sample_dataset(paths["source"])
        say(
            f"Wrote sample data to {paths['source']}: {stats.files} files in "
            f"{stats.directories} directories, {stats.bytes / 1e6:.1f} MB"
        )
    return paths


def _run(args: argparse.Namespace, paths: dict[str, Path], processes: Processes) -> int:
    started = time.monotonic()
    service = _start_service(args, paths, processes)
    env = _airflow_env(
        paths["airflow"], args.port, service["airflow_conn_globus_default"], args.all_admins
    )

    airflow = str(Path(sys.executable).with_name("airflow"))
    with open(paths["logs"] / "db-migrate.log", "w") as log:
        migrate = subprocess.run(
            [airflow, "db", "migrate"], check=False, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        if migrate.returncode != 0:
            say(f"airflow db migrate failed; see {paths['logs'] / 'db-migrate.log'}")
            return 1

    for name, arguments in COMPONENTS:
        processes.start(name, [airflow, *arguments], env)

    base_url = f"http://{HOST}:{args.port}"
    if not _wait_until_healthy(base_url, processes):
        return 1
    say(f"Airflow is up after {time.monotonic() - started:.0f} s.\n")
    _print_instructions(base_url, service, paths, args.all_admins)

    while True:
        exited = processes.first_exited()
        if exited is not None:
            name, status = exited
            say(f"{name} exited with status {status}; see {paths['logs'] / (name + '.log')}")
            return 1
        time.sleep(1)


def _start_service(
    args: argparse.Namespace, paths: dict[str, Path], processes: Processes
) -> dict[str, object]:
    command = [
        sys.executable,
        "-m",
        "globus_airflow.testing",
        "serve",
        "--collection",
        f"source={paths['source']}",
        "--collection",
        f"destination={paths['destination']}",
        "--host",
        HOST,
        "--bandwidth-limit",
        str(args.bandwidth_limit),
    ]
    process = processes.start("globus-service", command, dict(os.environ), stdout=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise SystemExit(
            f"The local Globus service did not start; see {paths['logs'] / 'globus-service.log'}"
        )
    return json.loads(line)


def _airflow_env(
    airflow_home: Path, port: int, connection: object, all_admins: bool
) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "example_dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=str(all_admins),
        AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE="True",
        AIRFLOW__API__HOST=HOST,
        AIRFLOW__API__PORT=str(port),
        # Workers reach the Execution API here; its default does not follow [api] port.
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://{HOST}:{port}/execution/",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        AIRFLOW_CONN_GLOBUS_DEFAULT=str(connection),
    )
    return env


def _wait_until_healthy(base_url: str, processes: Processes) -> bool:
    say(f"Starting Airflow on {base_url} (logs in {processes.log_dir})")
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        exited = processes.first_exited()
        if exited is not None:
            name, status = exited
            log = processes.log_dir / f"{name}.log"
            say(f"{name} exited with status {status} during start-up; see {log}")
            return False
        try:
            with urllib.request.urlopen(f"{base_url}/api/v2/monitor/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    say(
        f"Airflow did not answer on {base_url} within {STARTUP_TIMEOUT:.0f} s; "
        f"see the logs in {processes.log_dir}"
    )
    return False


def _print_instructions(
    base_url: str, service: dict[str, object], paths: dict[str, Path], all_admins: bool
) -> None:
    say(f"Airflow UI:          {base_url}/")
    if all_admins:
        say("Login:               none (all-admins mode)")
    else:
        password_file = paths["airflow"] / "simple_auth_manager_passwords.json.generated"
        password = _admin_password(password_file)
        login_password = password or f"(see {password_file})"
        say(f"Login:               user admin, password {login_password}")
    say(f"Example DAG:         {base_url}/dags/example_globus_transfer")
    say(f"Local Globus app:    {service['web_app_url']}")
    say(f"Collections:         source={paths['source']}")
    say(f"                     destination={paths['destination']}")
    say(f"Logs:                {paths['logs']}")
    say("")
    say("Trigger example_globus_transfer in the UI; its task 'transfer' waits in the triggerer")
    say("and its 'Globus task' link (Details tab) opens the task in the local Globus app.")
    say("Press Ctrl-C to stop.")


def _admin_password(password_file: Path) -> str | None:
    """Read the admin password that the api-server generates on its first start."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            return json.loads(password_file.read_text())["admin"]
        except (FileNotFoundError, ValueError, KeyError):
            time.sleep(0.2)
    return None


if __name__ == "__main__":
    sys.exit(main())
