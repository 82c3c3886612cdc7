"""`python -m monitor.dev up|down|airflow|smtp-sink|db-stop`: the only place the dev tooling reads the
environment (into a StackConfig and the monitor's Settings, once)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from monitor.errors import MonitorError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.dev")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="Airflow standalone + embedded PostgreSQL + SMTP sink (make up)")
    sub.add_parser("down", help="stop what `up` started (make down)")
    sub.add_parser("db-stop", help="stop the embedded PostgreSQL servers, the monitor's and the tests'")
    air = sub.add_parser("airflow", help="an airflow command against the running stack (make airflow)")
    air.add_argument("args", nargs=argparse.REMAINDER)
    sink = sub.add_parser("smtp-sink", help="a local SMTP server saving every mail as .eml")
    sink.add_argument("--port", type=int, help="default: MONITOR_SMTP_SINK_PORT or 2525")
    sink.add_argument("--dir", type=Path, default=Path("out/mail"))
    args = parser.parse_args(argv)

    from monitor.dev import stack
    from monitor.settings import Settings

    try:
        config = stack.StackConfig.from_env(os.environ, Path.cwd())
        if args.command == "airflow":
            return stack.airflow_command(config, args.args)
        if args.command == "smtp-sink":
            from monitor.dev import smtp_sink

            return smtp_sink.serve(args.port or config.smtp_port, args.dir)
        settings = Settings.from_env(os.environ)
        if args.command == "down":
            return stack.down(config, settings)
        if args.command == "db-stop":
            return stack.db_stop(config, settings)
        return stack.up(config, settings)
    except MonitorError as exc:
        print(f"python -m monitor.dev {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
