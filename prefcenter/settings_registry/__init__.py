"""The settings registry: every setting an operator may change, declared once.

Each entry (``entry.Setting``) has a name, a default written once, a parser, a help text and
the part that owns it. ``prefcenter.conf.setting`` reads them (Django setting, then
environment variable, then default), ``prefcenter.checks`` checks them, and
``manage.py settings_table`` writes the README's and docs' configuration tables from them.
"""

from __future__ import annotations

from prefcenter.settings_registry import parts, project, vibes
from prefcenter.settings_registry.entry import Setting

SETTINGS: dict[str, Setting] = {
    spec.name: spec for spec in project.SETTINGS + vibes.SETTINGS + parts.SETTINGS
}
