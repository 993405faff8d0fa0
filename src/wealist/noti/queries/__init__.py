"""Named SQL blocks of the noti service."""
