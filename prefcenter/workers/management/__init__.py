"""The task worker's management command."""
