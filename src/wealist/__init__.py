"""wealist: the weAlist backend. Importing it has no side effects."""

__version__ = "0.1.0"
