"""chat service: chats, messages, reads, presence, chat WebSocket.

Owns: chat_db (chats, participants, messages with per-chat seq, reads, presence).
Redis: chat fan-out, presence.
Routes: /api/chats/*, WS /api/chats/ws/{chatId}, WS /api/chats/ws/presence.
"""
