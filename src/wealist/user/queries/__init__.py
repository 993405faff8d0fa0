"""Named SQL blocks of the user service."""
