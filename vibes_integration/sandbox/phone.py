"""The simulated phone: what happens when a number texts the sandbox.

Y confirms the newest pending web opt-in of the number; N rejects it (and blocks that
campaign for the number); STOP ends every subscription of the number (``user_opt_out``);
a list's keyword subscribes the number directly, creating a person without external id
when the number is new (that is how the CRM learns of keyword subscribers). Anything else
gets a help text and, when registered, an ``unmatched_message_received`` callback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vibes_integration.sandbox import clock
from vibes_integration.sandbox.events import emit, emit_person
from vibes_integration.sandbox.opt_in import (
    CONFIRMED,
    REJECTED,
    answer,
    brand,
    pending_requests,
    welcome_text,
)

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox

YES_WORDS = {"Y", "YES", "OK", "SI"}
NO_WORDS = {"N", "NO"}
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
HELP_WORDS = {"HELP", "INFO"}
USER_OPT_OUT = "user_opt_out"


def receive_text(sandbox: Sandbox, mdn: str, text: str) -> dict[str, Any]:
    """Handle one inbound text; answers what happened, for the control API and the page."""
    sandbox.text(mdn, text, direction="in")
    word = text.strip().upper()
    if word in YES_WORDS or word in NO_WORDS:
        return _answer_pending(sandbox, mdn, CONFIRMED if word in YES_WORDS else REJECTED)
    if word in STOP_WORDS:
        return _stop(sandbox, mdn)
    if word in HELP_WORDS:
        sandbox.text(mdn, f"{brand(sandbox)}: Reply STOP to cancel. Msg&data rates may apply.")
        return {"action": "help"}
    target = sandbox.keyword_target(word)
    if target is not None:
        return _keyword(sandbox, mdn, *target)
    sandbox.text(mdn, f"{brand(sandbox)}: Sorry, we did not understand. Reply HELP for help.")
    emit(
        sandbox,
        "unmatched_message_received",
        {
            "message": {
                "mdn": mdn,
                "text": text,
                "received_date": clock.iso(clock.now()),
            }
        },
    )
    return {"action": "unmatched"}


def _answer_pending(sandbox: Sandbox, mdn: str, status: str) -> dict[str, Any]:
    pending = pending_requests(sandbox, mdn=mdn)
    if not pending:
        sandbox.text(mdn, f"{brand(sandbox)}: There is nothing waiting for your answer.")
        return {"action": "nothing_pending"}
    participant = answer(sandbox, pending[0], status)
    found = sandbox.campaign(participant["acquisition_id"])
    if status == CONFIRMED and found:
        sandbox.text(mdn, welcome_text(sandbox, found[1]))
    elif found:
        sandbox.text(mdn, f"{brand(sandbox)}: OK, you will not receive {found[1]['name']} texts.")
    return {"action": status.lower(), "participant": participant}


def _stop(sandbox: Sandbox, mdn: str) -> dict[str, Any]:
    person = sandbox.person_by_mdn(mdn)
    ended = []
    if person is not None:
        for record in sandbox.subscriptions_of(person["person_key"]):
            if not record.get("opt_out_date"):
                ended.append(sandbox.unsubscribe(record, USER_OPT_OUT)["list_id"])
    sandbox.text(
        mdn,
        f"{brand(sandbox)}: You are unsubscribed and will receive no more messages.",
    )
    return {"action": "stopped", "lists": ended}


def _keyword(
    sandbox: Sandbox, mdn: str, campaign: dict[str, Any] | None, subscription_list: dict
) -> dict[str, Any]:
    person = sandbox.person_by_mdn(mdn)
    if person is None:
        person = sandbox.create_person(mdn=mdn)
        emit_person(sandbox, "person_added", person)
    if sandbox.active_subscription(person["person_key"], subscription_list["id"]):
        sandbox.text(
            mdn,
            f"{brand(sandbox)}: You are already subscribed to {subscription_list['name']}.",
        )
        return {"action": "already_subscribed", "list_id": subscription_list["id"]}
    campaign_id = campaign["id"] if campaign else None
    record = sandbox.subscribe(person, subscription_list, campaign_id)
    sandbox.text(mdn, welcome_text(sandbox, subscription_list))
    return {"action": "subscribed", "list_id": subscription_list["id"], "subscription": record}
