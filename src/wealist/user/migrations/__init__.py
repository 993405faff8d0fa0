"""Forward-only migrations of user_db (NNNN_description.sql)."""
