"""Forward-only migrations of chat_db (NNNN_description.sql)."""
