"""Fixtures for the CRM tests: the demo data, and a recorder of the services' signals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction

from crm import signals
from crm.demo.loader import DemoResult, load_demo

SIGNAL_NAMES = (
    "person_changed",
    "subscription_changed",
    "opt_in_requested",
    "opt_in_request_changed",
    "consent_recorded",
)


@dataclass
class SignalLog:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for signal_name, kwargs in self.calls if signal_name == name]

    def names(self) -> list[str]:
        return [name for name, _kwargs in self.calls]


@pytest.fixture
def signal_log():
    log = SignalLog()
    receivers = {}
    for name in SIGNAL_NAMES:

        def receiver(sender, _name=name, **kwargs):
            kwargs.pop("signal", None)
            log.calls.append((_name, kwargs))

        receivers[name] = receiver
        getattr(signals, name).connect(receiver, weak=False, dispatch_uid=f"test-log-{name}")
    yield log
    for name in SIGNAL_NAMES:
        getattr(signals, name).disconnect(dispatch_uid=f"test-log-{name}")


DEMO_PERSONS = 40


@pytest.fixture
def demo(db) -> DemoResult:
    """The demo data set, with fewer persons than the command's default to stay fast."""
    return load_demo(persons=DEMO_PERSONS)


@pytest.fixture(scope="module")
def shared_demo(django_db_setup, django_db_blocker) -> DemoResult:
    """The demo data set loaded once for a whole test module, and rolled back after it.

    Each test still runs in its own savepoint inside this transaction, so what one test
    changes the next does not see.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield load_demo(persons=DEMO_PERSONS)
        transaction.set_rollback(True)


@pytest.fixture
def admin_user(db, django_user_model):
    """A superuser without a password (``admin_client`` logs in with ``force_login``):
    hashing one would cost most of an admin test's time."""
    return django_user_model.objects.create_superuser(
        username="admin", email="admin@example.com", password=None
    )
