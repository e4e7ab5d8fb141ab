"""``python manage.py vibes_sandbox``: run the local Vibes stand-in in the foreground."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vibes_integration.sandbox.config import DEMO_CONFIG_PATH, ConfigError, load_config
from vibes_integration.sandbox.contract import ContractError, parse_assignments
from vibes_integration.sandbox.server import SandboxServer

# A person at a browser restarts the site now and then; Vibes keeps retrying for minutes.
PATIENT_DELIVERY = {"backoff_seconds": 1.0, "backoff_factor": 2.0, "max_attempts": 8}


class Command(BaseCommand):
    # The sandbox stands in for Vibes and uses nothing of the project's configuration.
    requires_system_checks: list[str] = []
    help = (
        "Run the Vibes sandbox: Vibes' API, callbacks and a simulated phone, "
        "from a JSON config, until Ctrl-C or SIGTERM."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8001, help="Port (default 8001).")
        parser.add_argument(
            "--config",
            default=str(DEMO_CONFIG_PATH),
            help="Seed config JSON: company key, credentials, lists, campaigns, custom fields.",
        )
        parser.add_argument(
            "--delivery-backoff",
            type=float,
            default=None,
            help="Seconds before the first callback retry, doubling after each (default 1).",
        )
        parser.add_argument(
            "--delivery-attempts",
            type=int,
            default=None,
            help="Callback delivery attempts before giving up (default 8).",
        )
        parser.add_argument(
            "--contract",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help=(
                "Play another reading of Vibes' documents where they disagree, e.g. "
                "update_person_answer=ok_echo (repeatable; overrides the config's contract)."
            ),
        )
        parser.add_argument(
            "--state",
            default=None,
            help="SQLite file that keeps the sandbox's data across restarts (default: memory).",
        )

    @staticmethod
    def _delivery(path: Path, delivery: dict[str, Any], options: dict[str, Any]) -> dict:
        """Retry timing: the config's own, else like Vibes (minutes, not the tests' blink)."""
        if "delivery" not in json.loads(path.read_text(encoding="utf-8")):
            delivery = {**delivery, **PATIENT_DELIVERY}
        if options["delivery_backoff"] is not None:
            if options["delivery_backoff"] < 0:
                raise CommandError("--delivery-backoff cannot be negative.")
            delivery["backoff_seconds"] = options["delivery_backoff"]
        if options["delivery_attempts"] is not None:
            if not 1 <= options["delivery_attempts"] <= 50:
                raise CommandError("--delivery-attempts must be between 1 and 50.")
            delivery["max_attempts"] = options["delivery_attempts"]
        return delivery

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 <= options["port"] <= 65535:
            raise CommandError(f"--port {options['port']} is not a port number (0-65535).")
        config_path = Path(options["config"])
        if not config_path.is_file():
            raise CommandError(f"--config {config_path} does not exist.")
        try:
            config = load_config(config_path)
        except ConfigError as exc:
            raise CommandError(str(exc)) from exc
        config["delivery"] = self._delivery(config_path, config["delivery"], options)
        try:
            config["contract"].update(parse_assignments(options["contract"]))
        except ContractError as exc:
            raise CommandError(f"--contract: {exc}") from exc
        try:
            server = SandboxServer(
                config=config,
                host=options["host"],
                port=options["port"],
                state_path=options["state"],
            )
        except ConfigError as exc:
            raise CommandError(str(exc)) from exc
        try:
            server.start()
        except OSError as exc:
            server.sandbox.close()
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {exc.strerror or exc}"
            ) from exc
        stopping = threading.Event()

        def request_stop(signum: int, frame: object) -> None:
            stopping.set()

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        config = server.config
        self.stdout.write(
            f"Vibes sandbox for company {config['company_key']} at {server.url}\n"
            f"  API:     {server.url}/companies/{config['company_key']}/...\n"
            f"  phone:   {server.url}/_sandbox/phone/\n"
            f"  control: {server.url}/_sandbox/\n"
            f"  state:   {options['state'] or 'in memory'}\n"
            f"  contract: {', '.join(f'{k}={v}' for k, v in config['contract'].items())}\n"
            f"  callback retries: {config['delivery']['max_attempts']} attempts, first after "
            f"{config['delivery']['backoff_seconds']:g} s, doubling\n"
            "Press Ctrl-C to stop."
        )
        try:
            while not stopping.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            server.stop()
            self.stdout.write("Vibes sandbox stopped.")
