"""``prefcenter_worker``: the task worker that production and ``make run`` start."""
