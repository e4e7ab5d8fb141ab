"""The callbacks' management command."""
