"""Benchmarks: micro (hot structs, tokens, hub fan-out, named queries) and macro ratios
against this machine's ceilings (Granian hello world, raw psycopg, redis-benchmark, raw
WebSocket fan-out). ``python -m bench`` or ``nox -s bench``; see README.md."""
