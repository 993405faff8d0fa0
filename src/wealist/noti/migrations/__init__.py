"""Forward-only migrations of noti_db (NNNN_description.sql)."""
