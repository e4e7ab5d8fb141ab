"""The environment of ``make run``'s children, apart from starting them so that a test (and
tests/e2e's one-world check) can read what the children get without starting anything.

Logs are kept to what a person trying the product needs (a short format, the machinery's
info lines hidden) unless ``--verbose``, and the shell's own choice of log levels wins.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from .layout import ROOT, LaunchError, Layout

SANDBOX_CONFIG = ROOT / "vibes_integration" / "sandbox" / "configs" / "demo.json"
# Loggers whose info lines describe the machinery rather than what happened (each task's
# start and end, the rate limiter's bookkeeping); their warnings and errors still show.
QUIET_LOGGERS = ("django_tasks", "django_tasks_db", "vibes_integration.sync.concurrency")


def _secret_file(path: Path, make: str) -> str:
    """A local secret made once and kept in the var directory (readable by its owner only)."""
    if not path.exists():
        path.write_text(make + "\n")
        path.chmod(0o600)
    value = path.read_text().strip()
    if not value:
        raise LaunchError(f"{path} is empty: delete it and start again to make a new one.")
    return value


def child_environment(
    layout: Layout, environ: dict[str, str], *, verbose: bool = False
) -> dict[str, str]:
    """The environment every child gets: the site, worker and sandbox pointed at each other.

    The Vibes settings always name the local sandbox, so ``make run`` never talks to a
    real Vibes account, whatever the shell exports. The callback endpoint is protected by
    a secret path token made once per var directory.
    """
    try:
        config = json.loads(SANDBOX_CONFIG.read_text(encoding="utf-8"))
        credentials = config["credentials"][0]
        company_key, username, password = (
            config["company_key"],
            credentials["username"],
            credentials["password"],
        )
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise LaunchError(f"{SANDBOX_CONFIG} cannot be read as the sandbox config: {exc}") from exc
    token = _secret_file(layout.var_dir / "callback-token", secrets.token_urlsafe(24))
    env = {
        name: value
        for name, value in environ.items()
        if not name.startswith(("VIBES_CALLBACK_", "VIBES_TRUSTED_PROXIES"))
    }
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{layout.var_dir / 'prefcenter.sqlite3'}"
    if not env.get("PREFCENTER_ADMIN_PASSWORD"):
        env["PREFCENTER_ADMIN_PASSWORD"] = _secret_file(
            layout.var_dir / "admin-password", secrets.token_urlsafe(12)
        )
    env.setdefault("PREFCENTER_ADMIN_USERNAME", "admin")
    if not verbose:
        # What the shell sets wins: someone debugging one logger keeps their choice.
        env.setdefault("PREFCENTER_LOG_FORMAT", "short")
        env.setdefault("PREFCENTER_LOG_LEVELS", ",".join(f"{n}=WARNING" for n in QUIET_LOGGERS))
    env.update(
        DJANGO_ENV="development",
        PYTHONUNBUFFERED="1",
        PREFCENTER_VAR_DIR=str(layout.var_dir),
        SITE_URL=layout.site_url,
        VIBES_API_URL=layout.sandbox_url,
        VIBES_COMPANY_KEY=company_key,
        VIBES_USERNAME=username,
        VIBES_PASSWORD=password,
        VIBES_CALLBACK_TOKENS=token,
        VIBES_CALLBACK_BASE_URL=f"{layout.site_url}/vibes/callbacks/{token}/",
    )
    return env
