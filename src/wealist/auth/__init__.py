"""auth service: tokens, JWKS, OAuth2/OIDC login, password accounts, sessions.

Owns: auth_db (refresh-token families, password accounts, sessions, OAuth state);
Redis: revoked access-token ids (``auth:revoked:jti:*``), rate limits.
Routes: /api/auth/*, /.well-known/*, /oauth2/*, /api/test/* (only when enabled).
"""
