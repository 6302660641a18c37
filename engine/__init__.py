"""ccf engine."""
