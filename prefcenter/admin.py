"""Adds the preference-link actions to the staff's Person changelist.

crm knows nothing of the preference center; the preference center extends the Person
admin from here, the way every other app does.
"""

from crm.admin.persons import PersonAdmin
from prefcenter.preferences.admin_actions import copy_preference_links, email_preference_links

for _action in (copy_preference_links, email_preference_links):
    if _action not in PersonAdmin.actions:
        PersonAdmin.actions.append(_action)
