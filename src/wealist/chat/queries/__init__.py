"""Named SQL blocks of the chat service."""
