"""The background processes' own records: who is running, and whether they survive outages.

The task worker (``prefcenter_worker``) and the sweep (``vibes_sync --loop``) each write a
heartbeat row; ``GET /healthz/workers`` and the sync dashboard read them to tell an operator
that work is waiting and nothing is there to do it.
"""
