"""``make run`` starts as one world: right after it is up, ``vibes_reconcile --dry-run``
finds no difference, and STOP texted from the sandbox's phone page for demo-0002 makes
demo-0002's preference page show every list unsubscribed."""

from __future__ import annotations

import re
import subprocess
import sys

import requests

from scripts.runner.environment import child_environment
from scripts.runner.layout import Layout
from tests.e2e.processes import ROOT, eventually
from tests.e2e.test_make_run import (  # noqa: F401 (fixtures)
    DEMO_PERSONS,
    Launch,
    _stop_and_check_nothing_is_left,
    run_database_url,
    run_environment,
)

STOPPED = "demo-0002"
STOPPED_MDN = "+12015550101"


def _children_environment(env: dict[str, str]) -> dict[str, str]:
    """The environment ``scripts/run.py`` gives its children (database, sandbox)."""
    return child_environment(Layout.from_environ(env), env)


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_make_run_is_one_world(run_environment):  # noqa: F811 (the imported fixture)
    env = run_environment
    launch = Launch(env, "make-run-one-world")
    banner = launch.banner()
    children = _children_environment(env)

    output = _manage(children, "vibes_reconcile", "--dry-run")
    assert f"Compared {DEMO_PERSONS} persons: {DEMO_PERSONS} in agreement" in output, output

    link = _manage(children, "prefcenter_link", STOPPED).strip().splitlines()[-1].strip()
    page = requests.get(link, timeout=30).text
    assert "Subscribed</span>" in page, "demo-0002 has subscriptions to stop"
    # STOP from the phone page, as a person would press it.
    answer = requests.post(banner.phone_url, data={"mdn": STOPPED_MDN, "reply": "STOP"}, timeout=30)
    assert answer.status_code == 200

    def every_list_unsubscribed() -> bool:
        shown = requests.get(link, timeout=30).text
        badges = re.findall(r'class="badge badge--(\w+)"', shown)
        return bool(badges) and set(badges) == {"none"}

    eventually(
        every_list_unsubscribed,
        what="demo-0002's page to show every list unsubscribed",
        timeout=60,
        diagnostics=launch.output,
    )
    after = _manage(children, "vibes_reconcile", "--dry-run")
    assert f"{DEMO_PERSONS} in agreement" in after, after
    var_dir = env["PREFCENTER_VAR_DIR"]
    ports = [
        int(env["PREFCENTER_RUN_SITE"].rsplit(":", 1)[1]),
        int(env["PREFCENTER_RUN_SANDBOX_PORT"]),
    ]
    _stop_and_check_nothing_is_left(launch, var_dir, ports)
