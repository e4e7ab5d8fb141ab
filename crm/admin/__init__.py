"""The CRM's staff pages (Django admin), one module per group of models."""

from crm.admin.catalogue import CustomFieldAdmin, SubscriptionListAdmin
from crm.admin.number_changes import NumberChangeAdmin
from crm.admin.pagination import LargeTableAdmin, LargeTablePaginator
from crm.admin.persons import PersonAdmin
from crm.admin.records import ConsentEventAdmin, OptInRequestAdmin, SubscriptionAdmin

__all__ = [
    "ConsentEventAdmin",
    "CustomFieldAdmin",
    "LargeTableAdmin",
    "LargeTablePaginator",
    "NumberChangeAdmin",
    "OptInRequestAdmin",
    "PersonAdmin",
    "SubscriptionAdmin",
    "SubscriptionListAdmin",
]
