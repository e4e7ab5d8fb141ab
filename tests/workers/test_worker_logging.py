"""The worker keeps the log levels the settings give the task machinery (``make run`` keeps
it quiet through PREFCENTER_LOG_LEVELS), where db_worker would set them to INFO."""

import logging

import pytest
from django.test import override_settings

from prefcenter.workers.management.commands.prefcenter_worker import TASKS_LOGGER, Command

QUIET = {"loggers": {TASKS_LOGGER: {"level": "WARNING"}, "django_tasks_db": {"level": "ERROR"}}}


@pytest.fixture
def task_loggers():
    loggers = [logging.getLogger(TASKS_LOGGER), logging.getLogger("django_tasks_db")]
    levels = [logger.level for logger in loggers]
    yield loggers
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@override_settings(LOGGING=QUIET)
def test_the_configured_levels_hold_at_the_default_verbosity(task_loggers):
    Command().configure_logging(1)
    assert [logger.level for logger in task_loggers] == [logging.WARNING, logging.ERROR]


@override_settings(LOGGING=QUIET)
def test_more_verbosity_asked_for_still_shows_everything(task_loggers):
    Command().configure_logging(2)
    assert [logger.level for logger in task_loggers] == [logging.DEBUG, logging.DEBUG]


@override_settings(LOGGING={})
def test_without_configured_levels_the_worker_logs_each_task(task_loggers):
    Command().configure_logging(1)
    assert [logger.level for logger in task_loggers] == [logging.INFO, logging.INFO]
