"""``vibes_callbacks``: register our endpoint at Vibes, and replay stored events."""
