"""The board service's SQL: one async function per named query in ``queries/*.sql``,
one module per aggregate (``store.boards.insert_board(tx, ...)``). No decisions here."""

import wealist.board.store.attachments
import wealist.board.store.boards
import wealist.board.store.comments
import wealist.board.store.events
import wealist.board.store.join_requests
import wealist.board.store.options
import wealist.board.store.projects  # noqa: F401  # the submodules are the store's API
