"""Plain sentences a subscriber reads about their web opt-in, one per Vibes answer.

They are stored on the ``OptInRequest`` (its ``message``) and shown by the preference
center next to the list; staff see Vibes' own wording on the outbound operation.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from crm.models import OptInRequest


def opt_in_message(answer: str, opt_in_request: OptInRequest) -> str:
    subscription_list = opt_in_request.subscription_list
    values = {
        "mdn": str(opt_in_request.mdn),
        "list": subscription_list.name,
        "keyword": subscription_list.keyword,
    }
    if answer == "pending":
        return _("We texted %(mdn)s. Reply Y to that text to join %(list)s.") % values
    if answer == "already_pending":
        return _("We already texted %(mdn)s. Reply Y to that text to join %(list)s.") % values
    if answer == "subscribed":
        return _("%(mdn)s is now signed up to %(list)s.") % values
    if answer == "already_subscribed":
        return _("%(mdn)s is already signed up to %(list)s.") % values
    if answer == "not_mobile":
        return (
            _("%(mdn)s is not a mobile number we can text. Check the number and try again.")
            % values
        )
    if answer == "no_mobile_carrier":
        return (
            _(
                "%(mdn)s looks like a landline or a number no mobile carrier serves, so it "
                "cannot receive texts. Please use a mobile number."
            )
            % values
        )
    if answer == "confirmation_block":
        if subscription_list.keyword:
            return (
                _(
                    "%(mdn)s said no to an earlier sign-up text, so we cannot text it from "
                    "here. To join %(list)s, text %(keyword)s from that phone."
                )
                % values
            )
        return (
            _(
                "%(mdn)s said no to an earlier sign-up text, so we cannot text it from here. "
                "To join %(list)s, text the list's keyword from that phone."
            )
            % values
        )
    if answer == "external_id_mismatch":
        return (
            _(
                "%(mdn)s is already linked to another account with us, so we cannot add it "
                "to yours. Please contact us if this is your number."
            )
            % values
        )
    return (
        _(
            "We could not sign up %(mdn)s to %(list)s right now. Our team has been told; "
            "please try again later."
        )
        % values
    )
