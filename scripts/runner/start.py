"""The start sequence of ``make run``: the sandbox, the database, the demo persons, the site,
the worker and the sweep, the callbacks registered to the site; then the "running" block.

The worker and the sweep run the commands the ``Procfile`` gives production's process types
of those names, with make run's faster polling added. Output is kept to what a person trying
the product needs: the development server's start-up text is hidden unless ``--verbose``.
"""

from __future__ import annotations

import os
import re

from .layout import LaunchError, Layout, manage_arguments, procfile_commands
from .supervisor import Supervisor

# What make run adds to production's worker: poll twice a second, start at once.
DEV_WORKER_OPTIONS = ("--interval", "0.5", "--no-startup-delay")
# The development server's start-up text: the same at every start, and its warning is
# about production, which make run is not.
RUNSERVER_CHATTER = re.compile(
    r"^(|Performing system checks\.*|System check identified .*|Django version .*"
    r"|Starting development server at .*|Quit the server with .*"
    r"|WARNING: This is a development server\..*|For more information on production servers.*"
    r"|\w+ \d{2}, \d{4} - \d{2}:\d{2}:\d{2})$"
)


def _banner(layout: Layout, env: dict[str, str], link: str) -> str:
    password = env["PREFCENTER_ADMIN_PASSWORD"]
    if os.environ.get("PREFCENTER_ADMIN_PASSWORD"):
        password = "from PREFCENTER_ADMIN_PASSWORD"
    rule = "=" * 78
    lines = [
        rule,
        "prefcenter is running. Ctrl-C stops everything; `make run` again resumes.",
        f"  Admin login:        {layout.site_url}/admin/  "
        f"(user {env['PREFCENTER_ADMIN_USERNAME']}, password {password})",
        f"  Preference center:  {link}",
        f"  Sandbox phone:      {layout.sandbox_url}/_sandbox/phone/",
        rule,
    ]
    return "\n" + "\n".join(lines) + "\n"


def start(
    supervisor: Supervisor, layout: Layout, env: dict[str, str], *, verbose: bool = False
) -> str:
    """Start and wire everything; return the banner to print."""
    state = layout.var_dir / "sandbox.sqlite3"
    supervisor.start_service(
        "sandbox", "vibes_sandbox", "--port", str(layout.sandbox_port), "--state", str(state)
    )
    supervisor.run_step("migrate", "migrate", "--no-input", "-v", "0")
    persons = env.get("PREFCENTER_RUN_DEMO_PERSONS")
    # The demo goes to the sandbox too (one world on both sides), so the sandbox must answer.
    supervisor.wait_until_answers(f"{layout.sandbox_url}/_sandbox/config", "Vibes sandbox")
    supervisor.run_step(
        "demo",
        "load_demo",
        "--sandbox",
        layout.sandbox_url,
        *(["--persons", persons] if persons else []),
    )
    supervisor.run_step("admin", "ensure_admin")
    # --insecure: the stylesheet is served even when the shell exports DEBUG=0.
    address = f"{layout.site_host}:{layout.site_port}"
    supervisor.start_service(
        "site",
        "runserver",
        address,
        "--noreload",
        "--insecure",
        hide=None if verbose else RUNSERVER_CHATTER,
    )
    procfile = procfile_commands()
    worker = [*manage_arguments(procfile, "worker"), *DEV_WORKER_OPTIONS]
    supervisor.start_service("worker", *worker, restart=True)
    supervisor.start_service("sweep", *manage_arguments(procfile, "sweep"), restart=True)
    supervisor.wait_until_answers(f"{layout.sandbox_url}/_sandbox/config", "Vibes sandbox")
    supervisor.wait_until_answers(f"{layout.site_url}/healthz", "site")
    # make run owns its sandbox: registrations left by an earlier address are taken over.
    supervisor.run_step("callback", "vibes_callbacks", "register", "--replace")
    supervisor.run_step("backfill", "vibes_backfill")
    captured = supervisor.run_step("link", "prefcenter_link", "--demo", capture=True)
    links = [line.strip() for line in captured if re.match(r"\s*https?://", line)]
    if not links:
        raise LaunchError("`prefcenter_link --demo` printed no link.")
    return _banner(layout, env, links[-1])
