"""Named SQL blocks of the auth service."""
