"""The CRM: persons, subscription lists, subscriptions, opt-in requests, consent events and
custom fields, with the services that alone change them (``crm.services``), the reads
(``crm.selectors``), the signals that announce each change, and the staff admin. It knows
nothing of Vibes: the sync and the callbacks build on it, not the other way round."""
