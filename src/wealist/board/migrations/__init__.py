"""Forward-only migrations of board_db (NNNN_description.sql)."""
