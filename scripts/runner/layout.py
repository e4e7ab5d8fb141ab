"""Where ``make run``'s pieces are: the ports of the site and the sandbox, the var directory
that keeps their data between runs, and the commands of the ``Procfile``'s process types.

Everything here is read before a child starts, so a mistake in a setting or in the Procfile
stops ``make run`` with a ``LaunchError`` that says what to fix, not with a child's traceback.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = ROOT / "Procfile"


class LaunchError(Exception):
    """Something the person running ``make run`` has to fix; the message says what."""


@dataclass(frozen=True)
class Layout:
    """Where the site and the sandbox listen and where their data lives."""

    site_host: str
    site_port: int
    sandbox_port: int
    var_dir: Path

    @classmethod
    def from_environ(cls, environ: dict[str, str]) -> Layout:
        site = environ.get("PREFCENTER_RUN_SITE") or "127.0.0.1:8000"
        host, _, port = site.rpartition(":")
        var_dir = Path(environ.get("PREFCENTER_VAR_DIR") or ROOT / "var")
        return cls(
            site_host=host or "127.0.0.1",
            site_port=_port("PREFCENTER_RUN_SITE", port, site),
            sandbox_port=_port(
                "PREFCENTER_RUN_SANDBOX_PORT",
                environ.get("PREFCENTER_RUN_SANDBOX_PORT") or "8001",
            ),
            var_dir=var_dir.expanduser().resolve(),
        )

    @property
    def site_url(self) -> str:
        host = "127.0.0.1" if self.site_host in {"0.0.0.0", ""} else self.site_host
        return f"http://{host}:{self.site_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"


def _port(variable: str, raw: str, shown: str | None = None) -> int:
    if raw.isdigit() and 0 < int(raw) < 65536:
        return int(raw)
    raise LaunchError(
        f"{variable}={shown or raw!r} is not valid: expected a port number (1-65535)"
        + (" or host:port, such as 127.0.0.1:8000." if variable == "PREFCENTER_RUN_SITE" else ".")
    )


def procfile_commands(path: Path = PROCFILE) -> dict[str, list[str]]:
    """The Procfile's process types: ``name: command`` per line, ``#`` starts a comment."""
    commands = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, colon, command = line.partition(":")
        if colon and name.strip() and not line.lstrip().startswith("#"):
            commands[name.strip()] = shlex.split(command)
    return commands


def manage_arguments(commands: dict[str, list[str]], name: str) -> list[str]:
    """The ``manage.py`` arguments of the Procfile's process type ``name``."""
    command = commands.get(name, [])
    if "manage.py" not in command:
        raise LaunchError(f"{PROCFILE} has no `{name}: python manage.py ...` line.")
    return command[command.index("manage.py") + 1 :]
