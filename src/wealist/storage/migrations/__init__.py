"""Forward-only migrations of storage_db (NNNN_description.sql)."""
