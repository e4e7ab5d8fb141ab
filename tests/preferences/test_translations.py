"""Every word a subscriber reads goes through gettext, so the pages can be translated."""

import re
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType
from django.utils import translation

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PAGES = sorted([TEMPLATES / "base.html", *(TEMPLATES / "preferences").rglob("*.*")])
READ_ATTRIBUTES = re.compile(r'\b(?:aria-label|title|placeholder|alt)="([^"]*)"')


def _text_outside_template_tags(source: str) -> str:
    """The template's literal text, without tags, variables and blocktranslate bodies."""
    parts = []
    in_blocktranslate = False
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0]
            if name in {"blocktranslate", "blocktrans"}:
                in_blocktranslate = True
            elif name in {"endblocktranslate", "endblocktrans"}:
                in_blocktranslate = False
        if token.token_type == TokenType.TEXT and not in_blocktranslate:
            parts.append(token.contents)
        else:
            parts.append("\x00")
    return "".join(parts)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_untranslated_words(path):
    text = _text_outside_template_tags(path.read_text())
    for value in READ_ATTRIBUTES.findall(text):
        assert not re.search(r"[A-Za-z]{2,}", value), f"{path.name}: attribute text {value!r}"
    visible = re.sub(r"<!DOCTYPE[^>]*>|<[^>]*>", " ", text)
    visible = re.sub(r"&[a-z]+;|&#\d+;", " ", visible)
    words = re.findall(r"[A-Za-z]{2,}", visible)
    assert words == [], f"{path.name}: words outside {{% translate %}}: {words}"


def _upper(message: str) -> str:
    parts = re.split(r"(%\([a-z_]+\)[sd]|%[sd])", message)
    return "".join(part if part.startswith("%") else part.upper() for part in parts)


def test_the_page_is_translated_when_a_catalogue_is_active(client, subscriber, url, monkeypatch):
    """A stand-in catalogue that upper-cases every message (keeping its placeholders, as
    translators do) shows up on the page."""
    trans = translation.trans_real.translation("en")
    monkeypatch.setattr(trans, "gettext", _upper)
    monkeypatch.setattr(
        trans, "ngettext", lambda singular, plural, n: _upper(singular if n == 1 else plural)
    )
    monkeypatch.setattr(trans, "pgettext", lambda context, message: _upper(message), raising=False)
    page = client.get(url(subscriber)).content.decode()
    for message in ("YOUR PREFERENCES", "TEXT MESSAGES", "SAVE DETAILS", "STOP ALL TEXTS"):
        assert message in page
