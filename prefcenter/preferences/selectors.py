"""What the preference page shows, read in a fixed number of queries.

The page must stay fast as the catalogue grows, so everything is read one query per table
(custom fields, lists, the person's subscriptions, the latest opt-in request per list) and
joined in Python; the number of queries does not depend on how many lists or fields exist.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

from django.db.models import Max
from django.utils.translation import gettext as _

from crm.choices import OptInStatus, Source, SubscriptionState
from crm.models import CustomField, OptInRequest, Person, Subscription, SubscriptionList
from prefcenter.conf import setting
from prefcenter.preferences.numbers import display_mdn

# What the subscriber sees for each list.
SUBSCRIBED = "subscribed"
PENDING = "pending"
NOT_SUBSCRIBED = "not_subscribed"
#: Not subscribed because the subscriber answered the confirmation text with no.
SAID_NO = "said_no"

_SETTLED_WITH_NOTE = {OptInStatus.FAILED, OptInStatus.REJECTED, OptInStatus.EXPIRED}


def format_mdn(mdn: object) -> str:
    """The page's one way to write a number (see ``numbers.display_mdn``)."""
    return display_mdn(mdn)


def join_button_label() -> str:
    """The opt-in form's button: the page renders it and the disclosure names it, from here."""
    return _("Text me to confirm")


def disclosure_intro() -> str:
    """The sentence above the lists' terms; it names the button the subscriber presses."""
    return _("By tapping “%(button)s”, you agree to the terms of each list you chose:") % {
        "button": join_button_label()
    }


def default_disclosure() -> str:
    """Shown for a list that has no disclosure of its own, so no one joins without one."""
    return _(
        "You agree to receive recurring automated marketing text messages from "
        "%(brand)s at this number. Consent is not a condition of purchase. Message frequency "
        "varies. Msg & data rates may apply. Reply STOP to cancel, HELP for help."
    ) % {"brand": setting("PREFCENTER_BRAND_NAME")}


def list_terms(subscription_list: SubscriptionList) -> str:
    return subscription_list.disclosure.strip() or default_disclosure()


def list_disclosure(subscription_list: SubscriptionList) -> str:
    """What the page shows for a list next to the button, in reading order: the sentence
    naming the button, the list's name, its terms. The ledger stores exactly this."""
    return f"{disclosure_intro()}\n\n{subscription_list.name}\n{list_terms(subscription_list)}"


def disclosure_digest(text: str) -> str:
    """Identifies the disclosure a form showed, to notice one that changed before submit."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class ListState:
    subscription_list: SubscriptionList
    status: str
    subscription: Subscription | None = None
    open_request: OptInRequest | None = None
    note: str = ""

    @property
    def joinable_online(self) -> bool:
        return bool(self.subscription_list.acquisition_campaign_id)

    @property
    def can_leave(self) -> bool:
        return self.status in {SUBSCRIBED, PENDING}

    @property
    def badge_label(self) -> str:
        """The word the row's badge shows; the page and the status endpoint both use it."""
        return {
            SUBSCRIBED: _("Subscribed"),
            PENDING: _("Pending: check your phone"),
            SAID_NO: _("You said no"),
        }.get(self.status, _("Not subscribed"))

    @property
    def badge_kind(self) -> str:
        return {SUBSCRIBED: "subscribed", PENDING: "pending"}.get(self.status, "none")

    @property
    def status_note(self) -> str:
        """The sentence under the list's name: what we are waiting for, or what happened."""
        if self.open_request is None:
            return self.note
        waiting = _("We texted %(number)s. Reply Y to that text to join.") % {
            "number": self.pending_mdn_display
        }
        return f"{waiting} {self.note}" if self.note else waiting

    @property
    def poll_until(self) -> datetime.datetime | None:
        """Until when the page looks for the answer to this list's text."""
        if self.open_request is None:
            return None
        request = self.open_request
        return request.expire_date or request.requested_at + POLL_WITHOUT_EXPIRY

    @property
    def pending_mdn_display(self) -> str:
        return format_mdn(self.open_request.mdn) if self.open_request else ""

    @property
    def terms(self) -> str:
        """The list's own terms, as the page shows them under the list's name."""
        return list_terms(self.subscription_list)

    @property
    def disclosure_text(self) -> str:
        return list_disclosure(self.subscription_list)

    @property
    def disclosure_digest(self) -> str:
        return disclosure_digest(self.disclosure_text)


@dataclass
class PageState:
    person: Person
    custom_fields: list[CustomField]
    lists: list[ListState]
    pending_mdns: list[str] = field(default_factory=list)
    #: The person's number has answered Y (a list is subscribed on it): only then is it
    #: "your mobile number"; before that it is waiting for confirmation.
    mdn_confirmed: bool = False

    @property
    def mdn(self) -> str:
        return str(self.person.mdn) if self.person.mdn else ""

    @property
    def mdn_display(self) -> str:
        return format_mdn(self.person.mdn)

    @property
    def pending_mdns_display(self) -> list[str]:
        return [format_mdn(mdn) for mdn in self.pending_mdns]

    @property
    def joinable_lists(self) -> list[ListState]:
        return [state for state in self.lists if state.joinable_online]

    @property
    def poll_until(self) -> datetime.datetime | None:
        """Until when a waiting list may still change by itself (None: nothing waits)."""
        return max(
            (until for state in self.lists if (until := state.poll_until) is not None),
            default=None,
        )

    @property
    def has_active_lists(self) -> bool:
        return any(state.can_leave for state in self.lists)

    def list_state(self, list_id: str) -> ListState | None:
        for state in self.lists:
            if state.subscription_list.list_id == list_id:
                return state
        return None


#: How long the page looks for an answer when Vibes gave the request no expiry date.
POLL_WITHOUT_EXPIRY = datetime.timedelta(hours=1)

#: Requests made within this span of each other belong to one attempt (one press of the
#: button, several lists).
ATTEMPT_SPAN = datetime.timedelta(minutes=1)


def _list_state(
    subscription_list: SubscriptionList,
    subscription: Subscription | None,
    latest: OptInRequest | None,
    newest_attempt: datetime.datetime | None = None,
) -> ListState:
    open_request = latest if latest is not None and latest.is_open else None
    subscribed = subscription is not None and subscription.state == SubscriptionState.SUBSCRIBED
    if subscribed:
        status = SUBSCRIBED
    elif open_request is not None or (
        subscription is not None and subscription.state == SubscriptionState.PENDING
    ):
        status = PENDING
    elif latest is not None and latest.status == OptInStatus.REJECTED:
        status = SAID_NO
    else:
        status = NOT_SUBSCRIBED
    note = ""
    if open_request is not None:
        # A request not yet sent carries the CRM's own "we will text" line, which the page
        # already says in its words; once Vibes has answered, its message adds something.
        if open_request.status == OptInStatus.PENDING:
            note = open_request.message
    elif status == SAID_NO:
        note = _("You said no to %(list)s, so we will not text you from it.") % {
            "list": subscription_list.name
        }
    elif (
        status == NOT_SUBSCRIBED
        and latest is not None
        and latest.status in _SETTLED_WITH_NOTE
        and not _withdrawn_by_subscriber(subscription, latest)
        # A newer attempt (on any list) replaces the older failure.
        and (newest_attempt is None or newest_attempt - latest.requested_at < ATTEMPT_SPAN)
    ):
        note = latest.message
    return ListState(
        subscription_list=subscription_list,
        status=status,
        subscription=subscription,
        open_request=open_request,
        note=note,
    )


def _withdrawn_by_subscriber(subscription: Subscription | None, latest: OptInRequest) -> bool:
    """A request the subscriber cancelled by leaving the list needs no explanation."""
    return (
        latest.status == OptInStatus.EXPIRED
        and subscription is not None
        and subscription.source == Source.PREFERENCE_CENTER
        and subscription.updated_at >= latest.requested_at
    )


def preference_page_state(person: Person) -> PageState:
    custom_fields = list(CustomField.objects.filter(visible_to_subscribers=True))
    subscription_lists = list(SubscriptionList.objects.filter(shown_in_preference_center=True))
    subscriptions = {
        subscription.subscription_list_id: subscription
        for subscription in Subscription.objects.filter(person=person)
    }
    latest_ids = (
        OptInRequest.objects.filter(person=person)
        .values("subscription_list")
        .annotate(latest_id=Max("id"))
        .values("latest_id")
    )
    latest = {
        request.subscription_list_id: request
        for request in OptInRequest.objects.filter(id__in=latest_ids)
    }
    newest_attempt = max((request.requested_at for request in latest.values()), default=None)
    lists = [
        _list_state(sl, subscriptions.get(sl.pk), latest.get(sl.pk), newest_attempt)
        for sl in subscription_lists
    ]
    pending_mdns: list[str] = []
    for state in lists:
        if state.open_request is not None:
            mdn = str(state.open_request.mdn)
            if mdn != (str(person.mdn) if person.mdn else "") and mdn not in pending_mdns:
                pending_mdns.append(mdn)
    mdn_confirmed = bool(person.mdn) and any(
        subscription.state == SubscriptionState.SUBSCRIBED
        for subscription in subscriptions.values()
    )
    return PageState(
        person=person,
        custom_fields=custom_fields,
        lists=lists,
        pending_mdns=pending_mdns,
        mdn_confirmed=mdn_confirmed,
    )
