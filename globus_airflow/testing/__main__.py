"""Command line of the local Globus service.

``python -m globus_airflow.testing serve --collection NAME=DIR [...]`` prints one
JSON line to stdout with the URLs, credentials, collection ids and the value for
``AIRFLOW_CONN_GLOBUS_DEFAULT``, then serves until SIGINT or SIGTERM and exits 0.
Logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from globus_airflow.testing.access import COLLECTION_KINDS, DEFAULT_COLLECTION_KIND
from globus_airflow.testing.service import DEFAULT_RETRY_INTERVAL, DEFAULT_TOKEN_LIFETIME, LocalGlobusService

logger = logging.getLogger("globus_airflow.testing")


def _collection_argument(text: str) -> tuple[str, Path, str]:
    name, separator, directory = text.partition("=")
    if not separator or not name or not directory:
        raise argparse.ArgumentTypeError(f"expected NAME=DIR or NAME=DIR:KIND, got {text!r}")
    kind = DEFAULT_COLLECTION_KIND
    head, colon, tail = directory.rpartition(":")
    if colon and head and tail in COLLECTION_KINDS:
        directory, kind = head, tail
    return name, Path(directory), kind


def _fail_rate_argument(text: str) -> float:
    try:
        rate = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a probability from 0 to 1, got {text!r}") from error
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability from 0 to 1, got {text!r}")
    return rate


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``python -m globus_airflow.testing``."""
    parser = argparse.ArgumentParser(
        prog="python -m globus_airflow.testing",
        description="Local Globus Auth and Transfer service that copies files between directories.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve until SIGINT or SIGTERM")
    serve.add_argument(
        "--collection",
        action="append",
        type=_collection_argument,
        required=True,
        metavar="NAME=DIR[:KIND]",
        help=(
            "serve directory DIR as collection NAME (created when missing); KIND is "
            f"{', '.join(COLLECTION_KINDS)} (default {DEFAULT_COLLECTION_KIND}); repeat for more"
        ),
    )

    serve.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default: 0)")

    serve.add_argument(
        "--bandwidth-limit",
        type=int,
        default=None,
        metavar="BYTES_PER_S",
        help="bytes per second per task (default: unlimited)",
    )
    serve.add_argument(
        "--token-lifetime",
        type=int,
        default=DEFAULT_TOKEN_LIFETIME,
        metavar="S",
        help=f"access token lifetime in seconds (default: {DEFAULT_TOKEN_LIFETIME})",
    )
    serve.add_argument(
        "--retry-interval",
        type=float,
        default=DEFAULT_RETRY_INTERVAL,
        metavar="S",
        help=f"seconds a task waits before retrying a fault such as a missing source (default: {DEFAULT_RETRY_INTERVAL})",
    )

    serve.add_argument(
        "--fail-rate",
        type=_fail_rate_argument,
        default=0.0,
        metavar="P",
        help="fail each Transfer request with HTTP 502 or 503 with probability P, from 0 to 1 (default: 0)",
    )
    serve.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the random failures of --fail-rate, so runs repeat (default: 0)",
    )

    serve.add_argument("--client-id", default=None, help="client id to accept (default: random)")
    serve.add_argument("--client-secret", default=None, help="client secret to accept (default: random)")

    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="log level on stderr (default: warning)",
    )
    return parser


def serve(arguments: argparse.Namespace) -> int:
    """Run the service until SIGINT or SIGTERM; return the exit status."""
    collections: dict[str, Path] = {}
    kinds: dict[str, str] = {}
    for name, directory, kind in arguments.collection:
        if name in collections:
            raise SystemExit(f"error: collection {name!r} is given twice")
        collections[name] = directory
        kinds[name] = kind

    # Block the signals before any thread starts, so every thread inherits the
    # mask and sigwait() below is the only receiver.
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)

    service = LocalGlobusService(
        {name: directory for name, directory in collections.items() if kinds[name] == DEFAULT_COLLECTION_KIND},
        bandwidth_limit=arguments.bandwidth_limit,
        token_lifetime=arguments.token_lifetime,
        client_id=arguments.client_id,
        client_secret=arguments.client_secret,
        host=arguments.host,
        port=arguments.port,
        retry_interval=arguments.retry_interval,
        log_level=arguments.log_level,
        seed=arguments.seed,
    )
    if arguments.fail_rate > 0:
        service.inject_transient_errors(arguments.fail_rate)
    for name, directory in collections.items():
        if kinds[name] != DEFAULT_COLLECTION_KIND:
            service.add_collection(name, directory, kind=kinds[name])
    service.start()
    try:
        announcement = {
            "auth_url": service.auth_url,
            "transfer_url": service.transfer_url,
            "web_app_url": service.web_app_url,
            "client_id": service.client_id,
            "client_secret": service.client_secret,
            "collections": {name: service.collection_id(name) for name in collections},
            "airflow_conn_globus_default": service.connection_json(),
        }
        sys.stdout.write(json.dumps(announcement) + "\n")
        sys.stdout.flush()

        received = signal.sigwait(stop_signals)
        logger.info("received %s, stopping", signal.Signals(received).name)
    finally:
        service.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command."""
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, arguments.log_level.upper()),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return serve(arguments)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: cannot start the local Globus service: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
