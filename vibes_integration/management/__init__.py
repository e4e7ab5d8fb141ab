"""Management commands of the Vibes integration as a whole."""
