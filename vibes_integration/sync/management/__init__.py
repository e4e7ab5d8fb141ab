"""The sync's management commands."""
