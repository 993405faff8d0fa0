"""Named SQL blocks of the storage service."""
