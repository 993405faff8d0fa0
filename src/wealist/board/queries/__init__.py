"""Named SQL blocks of the board service."""
