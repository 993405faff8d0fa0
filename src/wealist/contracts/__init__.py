"""Wire types and names that cross service boundaries: plain msgspec structs, no I/O."""
