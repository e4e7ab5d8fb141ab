"""``vibes_sync`` (the sweep), ``vibes_backfill`` (send persons Vibes does not know) and
``vibes_reconcile`` (compare with Vibes and repair drift)."""
