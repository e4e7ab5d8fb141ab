"""``vibes_catalog`` (lists and campaigns from Vibes) and ``vibes_sandbox`` (the local
Vibes)."""
