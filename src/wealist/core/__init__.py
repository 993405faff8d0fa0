"""The shared kernel every service stands on. It imports no service."""
