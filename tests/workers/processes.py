"""The task worker and the sweep as real processes, on a database URL the test chooses."""

from __future__ import annotations

from pathlib import Path

from prefcenter.workers.models import WorkerHeartbeat
from tests.e2e.processes import process_environment
from tests.fixtures.callbacks import callback_body
from tests.sync.processes import ManageProcess


def worker_environment(database: str, **extra: str) -> dict[str, str]:
    return process_environment(
        DJANGO_ENV="development",
        DATABASE_URL=database,
        PYTHONFAULTHANDLER="1",
        **extra,
    )


def start_task_worker(env: dict[str, str], log: Path) -> ManageProcess:
    return ManageProcess(
        "prefcenter_worker",
        "--queue-name",
        "*",
        "--interval",
        "0.1",
        "--no-reload",
        "--no-startup-delay",
        env=env,
        log=log,
    )


def start_sweep(env: dict[str, str], log: Path) -> ManageProcess:
    return ManageProcess("vibes_sync", "--loop", "--interval", "1", env=env, log=log)


def heartbeat_of(process: ManageProcess) -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.filter(pid=process.process.pid).order_by("-id").first()


def person_added(n: int) -> dict:
    """A person_added callback for a person of its own (numbers +1201555NNNN)."""
    body = callback_body("person_added", event_id="new")
    body["person"].update(
        person_key=f"PK-OUTAGE-{n}",
        external_person_id=f"crm-outage-{n}",
        mobile_phone={"mdn": f"+1201555{n:04d}", "carrier_code": "VZW"},
    )
    return body
