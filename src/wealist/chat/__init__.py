"""chat service: chats, messages, reads, presence, chat WebSocket.

Owns: chat_db - chats (per-chat ``last_seq`` and ``last_rev`` counters, DM key),
chat_participants (read cursors ``last_read_seq``), messages (gapless per-chat ``seq``,
unique ``(chat_id, user_id, client_message_id)``), message_reactions, chat_events (every
change a client shows, by gapless per-chat ``rev``, kept ``event_retention_s``); the
outbox (notifications).
Redis: fan-out topics ``chat:{chatId}``, ``presence:{workspaceId}``, ``chat-user:{userId}``;
presence leases ``chat:presence:*`` and the per-user socket count ``chat:sockets:{userId}``.
Routes: /api/chats/* (contract 6.1, plus search, edit, reactions), WS /api/chats/ws/{chatId}
(``?rev=<rev>`` or ``?after=<seq>``, ``RESUME``), WS /api/chats/ws/presence (``?workspaceId=``).
Settings: :class:`wealist.chat.settings.ChatSettings` (``WEALIST_CHAT_*``).

Socket close codes: 1009 frame too big, 1013 the socket's queue overflowed (it did not
read; reconnect and resume), 4400 bad request, 4401 token refused, 4403 not a participant,
4404 no such chat or workspace, 4408 no frame from the client within
``ws_client_timeout_s``, 4409 more than ``ws_sockets_per_user`` sockets, 4429 kept sending
over ``ws_messages_per_s`` (single excess frames get an ``ERROR`` frame ``RATE_LIMITED``).
Refusals before the handshake completes reach the browser as HTTP 403.
"""
