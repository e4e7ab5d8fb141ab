"""``make run`` starts the worker and the sweep from the Procfile and starts either again
when it exits, as production's process manager would; a process that keeps exiting stops
``make run`` with its output. The whole launcher is exercised by tests/e2e/test_make_run.py."""

from __future__ import annotations

import io

import pytest

import scripts.runner.supervisor as supervisor_module
from scripts.runner.layout import PROCFILE, ROOT, LaunchError, manage_arguments, procfile_commands
from tests.project.test_run_output import _python_env


def test_the_worker_and_the_sweep_are_the_procfiles():
    commands = procfile_commands()
    assert {"release", "web", "worker", "sweep"} <= set(commands)
    assert manage_arguments(commands, "worker")[:3] == [
        "prefcenter_worker",
        "--queue-name",
        "*",
    ]
    assert manage_arguments(commands, "sweep") == ["vibes_sync", "--loop"]


def test_a_procfile_without_the_process_type_is_refused(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("# only the web\nweb: gunicorn prefcenter.wsgi\n")
    with pytest.raises(LaunchError, match=r"no `worker: python manage\.py"):
        manage_arguments(procfile_commands(procfile), "worker")


def test_an_exited_worker_is_started_again_until_it_keeps_exiting(monkeypatch):
    monkeypatch.setattr(supervisor_module, "RESTART_LIMIT", 2)
    out = io.StringIO()
    supervisor = supervisor_module.Supervisor({"PATH": "/usr/bin:/bin", **_python_env()}, out=out)
    supervisor.start_service("worker", "shell", "-c", "print('working')", restart=True)
    try:
        with pytest.raises(LaunchError, match="worker stopped unexpectedly 3 times"):
            while True:
                supervisor.check_services()
                supervisor.pump(0.1)
    finally:
        supervisor.stop()
    lines = out.getvalue().splitlines()
    assert lines.count("worker  | working") == 3
    assert lines.count("The worker stopped (exit 0): starting it again.") == 2
    assert not [child for child in supervisor.children if child.running]


def test_the_readme_shows_the_procfiles_process_types():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("reads a Procfile", 1)[1].split("```", 2)[1]
    procfile = PROCFILE.read_text(encoding="utf-8").splitlines()
    shown = [line for line in block.splitlines() if line.strip()]
    assert shown and all(line in procfile for line in shown), shown
