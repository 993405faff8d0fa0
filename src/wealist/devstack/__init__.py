"""Running wealist on one machine: embedded servers and ``wealist up``. Not used in production."""
