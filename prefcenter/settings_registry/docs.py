"""The configuration tables of README.md and docs/*.md, written from the registry.

A table sits between ``<!-- settings-table: WHICH -->`` and ``<!-- /settings-table -->``,
where WHICH lists owners (lower case, such as ``sync``) and setting names (upper case), in
the order the rows appear. ``manage.py settings_table --write`` rewrites every table; a test
fails while one differs from the registry, so that the docs cannot drift from the code.
"""

from __future__ import annotations

import re
from pathlib import Path

from prefcenter.settings_registry import SETTINGS
from prefcenter.settings_registry.entry import Setting

BLOCK = re.compile(
    r"(?P<open><!-- settings-table: (?P<which>[^>]*?) -->\n)"
    r"(?P<table>.*?)"
    r"(?P<close><!-- /settings-table -->)",
    re.DOTALL,
)
HEADER = "| variable | default | meaning |\n|---|---|---|\n"


def documents(root: Path) -> list[Path]:
    """The files whose tables are written from the registry."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def selected(which: str) -> list[Setting]:
    """The settings a block lists: every setting of an owner, or one setting by name."""
    chosen: list[Setting] = []
    for word in which.split():
        if word.isupper():
            chosen.append(SETTINGS[word])
        else:
            owned = [spec for spec in SETTINGS.values() if spec.owner == word]
            if not owned:
                raise ValueError(f"settings-table: no setting is owned by {word!r}")
            chosen.extend(owned)
    return chosen


def shown_default(spec: Setting) -> str:
    if spec.shown_default:
        return spec.shown_default
    return f"`{spec.default}`" if spec.default else "empty"


def render_table(which: str, *, in_docs: bool) -> str:
    rows = []
    for spec in selected(which):
        meaning = spec.help.replace("](docs/", "](") if in_docs else spec.help
        rows.append(f"| `{spec.name}` | {shown_default(spec)} | {meaning} |\n")
    return HEADER + "".join(rows)


def render(text: str, *, in_docs: bool) -> str:
    """``text`` with every settings table rewritten from the registry."""

    def table(match: re.Match) -> str:
        body = render_table(match["which"], in_docs=in_docs)
        return match["open"] + body + match["close"]

    return BLOCK.sub(table, text)


def stale(root: Path) -> list[Path]:
    """The documents whose tables differ from the registry."""
    return [
        path
        for path in documents(root)
        if render(text := path.read_text(encoding="utf-8"), in_docs=path.parent.name == "docs")
        != text
    ]


def write(root: Path) -> list[Path]:
    """Rewrite the stale documents; returns them."""
    changed = stale(root)
    for path in changed:
        text = path.read_text(encoding="utf-8")
        path.write_text(render(text, in_docs=path.parent.name == "docs"), encoding="utf-8")
    return changed


def tabled(root: Path) -> set[str]:
    """Every setting that appears in some document's table."""
    names = set()
    for path in documents(root):
        for match in BLOCK.finditer(path.read_text(encoding="utf-8")):
            names.update(spec.name for spec in selected(match["which"]))
    return names
