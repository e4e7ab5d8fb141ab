"""``load_demo`` (the demo data set) and ``ensure_admin`` (the staff user ``make run`` logs
in with)."""
