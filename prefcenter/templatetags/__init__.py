"""Template tags for the subscriber-facing pages (``{% load preferences %}``)."""
