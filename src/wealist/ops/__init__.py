"""ops service: admin API: portal users, audit log, app config, monitoring summaries.

Owns: ops_db (portal users, audit log, app config).
Routes: /api/admin/*, /api/ops/* (see the contract, section 10).
"""
