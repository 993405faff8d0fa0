"""Forward-only migrations of video_db (NNNN_description.sql)."""
