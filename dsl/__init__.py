"""ccf language front end."""
