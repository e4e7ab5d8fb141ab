"""``/_sandbox/phone/``: the sandbox's numbers, the texts they got, and a reply form each.

Plain HTML forms (no JavaScript), so a person can play the subscriber in a browser and an
end-to-end test can click through it. A post answers 303 back to the page (post/redirect/
get), with the outcome in the query string so the page can say what happened.

A demo sandbox knows hundreds of numbers, so the page shows ``PER_PAGE`` of them at a time,
the most recent conversation first (a number that just texted or was texted is on top),
and a search box (``?q=``) that finds a number by any part of it, typed in any format.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from vibes_integration.sandbox.control_input import ControlError, control_mdn, form_fields
from vibes_integration.sandbox.mdn import format_mdn
from vibes_integration.sandbox.phone import receive_text
from vibes_integration.sandbox.wire import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox

PAGE_PATH = "/_sandbox/phone/"
PER_PAGE = 25

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:60rem;color:#222}
section{border:1px solid #ccc;border-radius:8px;padding:1rem;margin:1rem 0}
ol{list-style:none;padding:0}
li{margin:.3rem 0;padding:.4rem .6rem;border-radius:6px;max-width:40rem}
li.out{background:#eef}li.in{background:#efe;margin-left:4rem}
.outcome{background:#ffd;padding:.5rem;border-radius:6px}
button{margin:.2rem}
nav.pages a,nav.pages span{margin-right:.6rem}
"""


def handle(sandbox: Sandbox, request: ApiRequest) -> ApiResponse:
    if request.method == "POST":
        fields = form_fields(request)
        text = (fields.get("reply") or fields.get("text") or "").strip()
        try:
            mdn = control_mdn(sandbox, fields.get("mdn"))
        except ControlError as exc:
            return _redirect({"error": exc.message})
        if not text:
            return _redirect({"error": "Type a reply first.", "mdn": mdn})
        with sandbox.lock:
            outcome = receive_text(sandbox, mdn, text)
        return _redirect({"mdn": mdn, "text": text, "outcome": outcome["action"]})
    query = {key: values[-1] for key, values in parse_qs(request.raw_query).items()}
    with sandbox.lock:
        page = render(sandbox, query)
    return ApiResponse(200, page, content_type="text/html")


def _redirect(params: dict[str, str]) -> ApiResponse:
    location = f"{PAGE_PATH}?{urlencode(params)}"
    return ApiResponse(303, None, headers={"Location": location})


def _numbers(sandbox: Sandbox) -> list[str]:
    """Every number the sandbox knows, the most recent conversation first; numbers that
    never had a text come last, in number order."""
    latest: dict[str, int] = {}
    for message in sandbox.store.all("message"):
        latest[message["mdn"]] = max(latest.get(message["mdn"], 0), message["id"])
    numbers = {person["mdn"] for person in sandbox.store.all("person") if person.get("mdn")}
    numbers.update(latest)
    return sorted(numbers, key=lambda mdn: (-latest.get(mdn, 0), mdn))


def _digits(text: str) -> str:
    return "".join(character for character in text if character.isdigit())


def _matching(numbers: list[str], search: str) -> list[str]:
    """The numbers containing the typed digits ("555-01", "(201) 555") in any format."""
    digits = _digits(search)
    if not digits:
        return numbers
    return [mdn for mdn in numbers if digits in _digits(mdn)]


def _page_number(raw: str | None, pages: int) -> int:
    """The page asked for, kept within 1..pages (a bad value shows the first page)."""
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return min(max(number, 1), max(pages, 1))


def _keywords(sandbox: Sandbox) -> list[str]:
    words = []
    for entry in sandbox.config["subscription_lists"]:
        for word in [entry.get("keyword")] + [
            campaign.get("keyword") for campaign in entry["acquisition_campaigns"]
        ]:
            if word and word.upper() not in words:
                words.append(word.upper())
    return words


def render(sandbox: Sandbox, query: dict[str, str]) -> str:
    keywords = _keywords(sandbox)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Sandbox phone: {escape(sandbox.company_key)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Sandbox phone <small>({escape(sandbox.company_key)})</small></h1>",
        "<p>Every number the sandbox knows, and the texts it sent and received. "
        "Reply as the subscriber would: Y confirms a pending sign-up, N declines it, "
        "STOP leaves every list, a keyword joins its list.</p>",
    ]
    if query.get("error"):
        parts.append(f"<p class='outcome' role='alert'>{escape(query['error'])}</p>")
    elif query.get("outcome"):
        parts.append(
            f"<p class='outcome' role='status'>{escape(query.get('mdn', ''))} texted "
            f"{escape(query.get('text', ''))!s}: {escape(query['outcome'].replace('_', ' '))}</p>"
        )
    parts.append(_new_number_form(keywords))
    search = query.get("q", "").strip()
    numbers = _matching(_numbers(sandbox), search)
    pages = -(-len(numbers) // PER_PAGE)
    page = _page_number(query.get("page"), pages)
    shown = numbers[(page - 1) * PER_PAGE : page * PER_PAGE]
    parts.append(_search_form(search))
    if not numbers:
        if search:
            parts.append(f"<p id='no-numbers'>No number contains {escape(search)}.</p>")
        else:
            parts.append("<p id='no-numbers'>No numbers yet.</p>")
    else:
        parts.append(_pages_nav(search, page, pages, len(numbers)))
    for mdn in shown:
        parts.append(_number_section(sandbox, mdn, keywords))
    if pages > 1:
        parts.append(_pages_nav(search, page, pages, len(numbers)))
    parts.append("</body></html>")
    return "".join(parts)


def _search_form(search: str) -> str:
    return (
        f"<form id='search' method='get' action='{PAGE_PATH}' role='search'>"
        "<label>Find a number <input type='search' name='q' "
        f"value='{escape(search)}' placeholder='555-0123' inputmode='tel'></label> "
        "<button type='submit'>Search</button>"
        + (f" <a href='{PAGE_PATH}'>Show all</a>" if search else "")
        + "</form>"
    )


def _pages_nav(search: str, page: int, pages: int, total: int) -> str:
    def link(number: int, label: str, rel: str) -> str:
        params = {"q": search} if search else {}
        params["page"] = str(number)
        return f"<a rel='{rel}' href='{PAGE_PATH}?{escape(urlencode(params))}'>{label}</a>"

    first = (page - 1) * PER_PAGE + 1
    last = min(page * PER_PAGE, total)
    items = [f"<span>Numbers {first}-{last} of {total} (page {page} of {pages})</span>"]
    if page > 1:
        items.append(link(page - 1, "Newer", "prev"))
    if page < pages:
        items.append(link(page + 1, "Older", "next"))
    return f"<nav class='pages' aria-label='pages'>{''.join(items)}</nav>"


def _number_section(sandbox: Sandbox, mdn: str, keywords: list[str]) -> str:
    anchor = f"n{mdn.lstrip('+')}"
    person = sandbox.person_by_mdn(mdn)
    subtitle = ""
    if person is not None:
        active = [
            record["list_id"]
            for record in sandbox.subscriptions_of(person["person_key"])
            if not record.get("opt_out_date")
        ]
        external = person.get("external_person_id")
        subtitle = (
            f"<p>Person {escape(person['person_key'])}"
            f"{f' ({escape(external)})' if external else ''}"
            f"; subscribed to: {escape(', '.join(active) or 'nothing')}</p>"
        )
    items = []
    for message in sandbox.messages(mdn):
        who = "Sent to the phone" if message["direction"] == "out" else "Texted by the phone"
        items.append(
            f"<li class='{message['direction']}' title='{who} at {escape(message['date'])}'>"
            f"{escape(message['text'])}</li>"
        )
    buttons = "".join(
        f"<button type='submit' name='reply' value='{escape(word)}'>{escape(word)}</button>"
        for word in ["Y", "N", "STOP", *keywords]
    )
    national = format_mdn(mdn, version=1)
    return (
        f"<section id='{anchor}' data-mdn='{escape(mdn)}' aria-label='{escape(mdn)}'>"
        f"<h2>{escape(mdn)} <small>({escape(national or '')})</small></h2>{subtitle}"
        f"<ol>{''.join(items) or '<li>No texts yet.</li>'}</ol>"
        f"<form method='post' action='{PAGE_PATH}'>"
        f"<input type='hidden' name='mdn' value='{escape(mdn)}'>"
        # The text field and Send come first: Enter in the field submits with Send,
        # the form's first button, not with Y.
        f"<label>Text <input name='text' autocomplete='off'></label> "
        f"<button type='submit'>Send</button> <span>or reply</span> {buttons}</form></section>"
    )


def _new_number_form(keywords: list[str]) -> str:
    hint = ", ".join(keywords) or "a keyword"
    return (
        "<section id='new-number'><h2>Text from another number</h2>"
        f"<form method='post' action='{PAGE_PATH}'>"
        "<label>Number <input name='mdn' placeholder='+12015550123' required></label> "
        f"<label>Text <input name='text' placeholder='{escape(hint)}' required></label> "
        "<button type='submit'>Send</button></form></section>"
    )
