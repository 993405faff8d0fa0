"""Forward-only migrations of auth_db (NNNN_description.sql)."""
