"""Named SQL blocks of the video service."""
