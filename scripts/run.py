"""``make run``: the whole product on one machine, wired together.

Starts the Vibes sandbox (http://127.0.0.1:8001), the site (http://127.0.0.1:8000) and the
task worker, registers the sandbox's callbacks to the site, sends the demo persons to the
sandbox, then prints where to go. Ctrl-C stops everything; running it again resumes with
the same data (the site's SQLite file and the sandbox's state file live in ``var/``).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PYTHON = sys.executable
SITE = os.environ.get("PREFCENTER_RUN_SITE", "127.0.0.1:8000")
SANDBOX_PORT = os.environ.get("PREFCENTER_RUN_SANDBOX_PORT", "8001")
SANDBOX_URL = f"http://127.0.0.1:{SANDBOX_PORT}"


def _callback_token() -> str:
    """A per-installation secret path token, so the local endpoint is not open either."""
    path = VAR / "dev-callback-token"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    token = _callback_token()
    env.setdefault("VIBES_API_URL", SANDBOX_URL)
    env.setdefault("SITE_URL", f"http://{SITE}")
    env.setdefault("VIBES_CALLBACK_TOKENS", token)
    env.setdefault("VIBES_CALLBACK_BASE_URL", f"http://{SITE}/vibes/callbacks/{token}/")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def manage(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=check)


def _wait_for(url: str, name: str, processes: list[subprocess.Popen], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise SystemExit(f"{name}: a process stopped early (exit {process.returncode}).")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{name} did not answer at {url} within {timeout:.0f} s.")


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    VAR.mkdir(exist_ok=True)
    env = _environment()
    manage("migrate", "--no-input", "-v", "0", env=env)
    manage("load_demo", env=env)
    manage("ensure_admin", env=env)

    processes: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        processes.append(
            subprocess.Popen(
                [
                    PYTHON,
                    "manage.py",
                    "vibes_sandbox",
                    "--port",
                    SANDBOX_PORT,
                    "--state",
                    str(VAR / "sandbox.sqlite3"),
                ],
                cwd=ROOT,
                env=env,
            )
        )
        processes.append(
            subprocess.Popen(
                [PYTHON, "manage.py", "runserver", SITE, "--noreload"], cwd=ROOT, env=env
            )
        )
        processes.append(
            subprocess.Popen(
                [
                    PYTHON,
                    "manage.py",
                    "db_worker",
                    "--queue-name",
                    "*",
                    "--interval",
                    "0.2",
                    "--no-reload",
                ],
                cwd=ROOT,
                env=env,
            )
        )
        processes.append(
            subprocess.Popen([PYTHON, "manage.py", "vibes_sync", "--loop"], cwd=ROOT, env=env)
        )
        _wait_for(f"{SANDBOX_URL}/_sandbox/phone/", "The Vibes sandbox", processes)
        _wait_for(f"http://{SITE}/healthz", "The site", processes)
        manage("vibes_callbacks", "register", env=env)
        manage("vibes_backfill", env=env)
        link = subprocess.run(
            [PYTHON, "manage.py", "prefcenter_link", "--demo"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        admin_login = (
            (VAR / "admin-login.txt").read_text().strip()
            if (VAR / "admin-login.txt").exists()
            else "see above"
        )
        print(
            "\nprefcenter is running (Ctrl-C stops everything):\n"
            f"  Admin:              http://{SITE}/admin/  ({admin_login})\n"
            f"  Preference center:  {link}\n"
            f"  Sandbox phone:      {SANDBOX_URL}/_sandbox/phone/\n",
            flush=True,
        )
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        stopped = [p.args[2] for p in processes if p.poll() is not None]
        print(f"Stopping: {', '.join(stopped)} exited.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        return 0
    finally:
        _stop(processes)


if __name__ == "__main__":
    sys.exit(main())
