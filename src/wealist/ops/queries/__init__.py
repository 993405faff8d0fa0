"""Named SQL blocks of the ops service."""
