"""``make run``'s output (scripts/run.py, its pieces in scripts/runner/): the "running" block
once, after the start's burst; short logs by default and everything with ``--verbose`` (``make
run V=2``).

The whole launcher is exercised by tests/e2e/test_make_run.py; these check the output rules
on their own, with real child processes where output is concerned.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

import scripts.runner.supervisor as supervisor_module
from scripts.runner.environment import child_environment
from scripts.runner.layout import LaunchError, Layout
from scripts.runner.start import RUNSERVER_CHATTER

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def layout(tmp_path):
    return Layout.from_environ({"PREFCENTER_VAR_DIR": str(tmp_path)})


def test_children_log_short_and_quiet_the_machinery_by_default(layout):
    env = child_environment(layout, {})
    assert env["PREFCENTER_LOG_FORMAT"] == "short"
    assert env["PREFCENTER_LOG_LEVELS"] == (
        "django_tasks=WARNING,django_tasks_db=WARNING,vibes_integration.sync.concurrency=WARNING"
    )


def test_verbose_leaves_every_logger_and_the_full_format(layout):
    env = child_environment(layout, {}, verbose=True)
    assert "PREFCENTER_LOG_FORMAT" not in env
    assert "PREFCENTER_LOG_LEVELS" not in env


def test_the_shell_choice_of_log_levels_wins(layout):
    env = child_environment(layout, {"PREFCENTER_LOG_LEVELS": "root=DEBUG"})
    assert env["PREFCENTER_LOG_LEVELS"] == "root=DEBUG"


def test_the_short_format_is_applied_by_the_settings(layout):
    env = child_environment(layout, {"PATH": "/usr/bin:/bin"})
    code = (
        "import logging; logging.getLogger('vibes_integration.client').info('call');"
        "logging.getLogger('django_tasks').info('task ran');"
        "logging.getLogger('django_tasks').warning('task failed')"
    )
    output = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    lines = [line for line in output.splitlines() if line[:2].isdigit()]
    assert [line.split(" ", 1)[1] for line in lines] == ["INFO call", "WARNING task failed"]


@pytest.mark.parametrize(
    "line",
    [
        "",
        "Performing system checks...",
        "System check identified no issues (0 silenced).",
        "December 03, 2026 - 10:53:43",
        "Django version 5.2.19, using settings 'prefcenter.settings'",
        "Starting development server at http://127.0.0.1:8000/",
        "Quit the server with CONTROL-C.",
        "WARNING: This is a development server. Do not use it in a production setting.",
        "For more information on production servers see: https://docs.djangoproject.com/",
    ],
)
def test_the_development_server_start_text_is_hidden(line):
    assert RUNSERVER_CHATTER.match(line)


@pytest.mark.parametrize(
    "line",
    [
        '[03/Dec/2026 10:53:47] "POST /vibes/callbacks/x/ HTTP/1.1" 200 20',
        "10:53:47 ERROR Internal Server Error: /admin/",
        "Traceback (most recent call last):",
    ],
)
def test_requests_and_errors_of_the_site_are_shown(line):
    assert not RUNSERVER_CHATTER.match(line)


def test_the_banner_is_printed_once_after_the_burst(monkeypatch):
    monkeypatch.setattr(supervisor_module, "BANNER_QUIET", 1.0)
    out = io.StringIO()
    supervisor = supervisor_module.Supervisor({"PATH": "/usr/bin:/bin", **_python_env()}, out=out)
    burst = (
        "import time\nfor n in range(30):\n    print('line', n, flush=True)\n"
        "    time.sleep(0.05)\ntime.sleep(3)\n"
    )
    supervisor.start_service("worker", "shell", "-c", burst)
    try:
        # As after a start: the services are up and have begun to talk.
        while "line 0" not in out.getvalue():
            supervisor.pump(0.1)
        with pytest.raises(LaunchError, match="worker stopped unexpectedly"):
            supervisor.serve("BANNER")
    finally:
        supervisor.stop()
    lines = out.getvalue().splitlines()
    assert lines.count("BANNER") == 1
    assert lines.index("BANNER") > lines.index("worker  | line 29")


def _python_env() -> dict[str, str]:
    import os

    return {name: value for name, value in os.environ.items() if name != "PYTHONSTARTUP"}
