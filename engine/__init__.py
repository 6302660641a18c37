"""ccf engine: compile checked methodologies to SQL and run them on PostgreSQL."""

__version__ = "0.1.0"
