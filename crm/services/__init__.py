"""The only functions that change the CRM's data.

Each service is keyword-only, validates its input before writing anything, runs in one
transaction, and sends a ``crm.signals`` signal inside that transaction so that the work
it causes (the sync to Vibes) is written atomically with the change. Bad input raises a
``ValidationError`` whose keys name the offending fields; nothing is half-written.

Callers import from here (``from crm import services``); the modules are split by what
they change.
"""

from crm.services.bulk import SubscriptionReport, subscriptions_report_many
from crm.services.consent import consent_record
from crm.services.lists import subscription_list_upsert
from crm.services.number_changes import (
    number_change_cancel,
    number_change_request,
    number_remove,
)
from crm.services.opt_ins import opt_in_request, opt_in_request_update
from crm.services.persons import (
    PersonChange,
    person_create,
    person_rotate_link_secret,
    person_set_custom_fields,
    person_update,
)
from crm.services.subscriptions import (
    SubscriptionChange,
    person_stop_all,
    subscription_change,
    subscription_leave,
)
from crm.services.validation import UNSET, ConsentContext

__all__ = [
    "UNSET",
    "ConsentContext",
    "PersonChange",
    "SubscriptionChange",
    "SubscriptionReport",
    "consent_record",
    "number_change_cancel",
    "number_change_request",
    "number_remove",
    "opt_in_request",
    "opt_in_request_update",
    "person_create",
    "person_rotate_link_secret",
    "person_set_custom_fields",
    "person_stop_all",
    "person_update",
    "subscription_change",
    "subscription_leave",
    "subscription_list_upsert",
    "subscriptions_report_many",
]
