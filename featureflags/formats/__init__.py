"""File formats flags are read from and written to."""
