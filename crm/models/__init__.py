"""The CRM's own data: persons, their custom field values and list subscriptions, and the
append-only consent ledger.

Only ``crm.services`` writes these rows; everything else reads them (``crm.selectors``)
or reacts to the signals the services send (``crm.signals``). One module per resource:
``persons``, ``catalogue`` (custom fields and lists), ``subscriptions`` (with web opt-ins
and changes of number), ``consent`` (the ledger), and erasure requests in
``crm.erasure_models``; every model is imported from here, ``from crm.models import X``.
"""

# In the order the models were declared when they shared one module: the app registry
# (and what iterates it, such as a flush or the checks) sees them as before.
from crm.models.persons import EXTERNAL_PERSON_ID_MAX_LENGTH, Person, new_link_secret  # noqa: I001
from crm.models.catalogue import CustomField, SubscriptionList
from crm.models.subscriptions import NumberChange, OptInRequest, Subscription
from crm.models.consent import (
    LEDGER_FIELDS,
    ConsentEvent,
    ConsentEventQuerySet,
    LedgerIsAppendOnly,
)
from crm.erasure_models import ErasureRequest

__all__ = [
    "EXTERNAL_PERSON_ID_MAX_LENGTH",
    "LEDGER_FIELDS",
    "ConsentEvent",
    "ConsentEventQuerySet",
    "CustomField",
    "ErasureRequest",
    "LedgerIsAppendOnly",
    "NumberChange",
    "OptInRequest",
    "Person",
    "Subscription",
    "SubscriptionList",
    "new_link_secret",
]
