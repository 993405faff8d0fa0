"""Tables of the transactional outbox (producer side) and inbox (consumer dedupe)."""
