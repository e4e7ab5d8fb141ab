"""The JSON API for the brand's other systems (``/api/v1/``).

Thin Django REST framework views over ``crm.services``, like the preference page: every
change reaches Vibes through the outbox and is recorded with the calling API client.
"""
