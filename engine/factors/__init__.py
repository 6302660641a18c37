"""Factor sets."""
