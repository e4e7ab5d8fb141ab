"""The CRM's management commands."""
