"""Real-time delivery: broker (Redis pub/sub), hub (topic -> local sockets), WS and SSE loops.

Postgres is the source of truth; the broker is best-effort fan-out between processes.
Payloads are encoded once by the publisher and the same object is queued for every socket.
"""
