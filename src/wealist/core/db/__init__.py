"""Database access: pools, named queries, transactions with on_commit, migrations."""

from wealist.core.db.conn import Conn, Tx
from wealist.core.db.pool import Database
from wealist.core.db.queries import Queries, Query, load_queries

__all__ = ("Conn", "Database", "Queries", "Query", "Tx", "load_queries")
