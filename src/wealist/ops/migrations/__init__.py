"""Forward-only migrations of ops_db (NNNN_description.sql)."""
