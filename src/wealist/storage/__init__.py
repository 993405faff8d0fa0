"""storage service: drives, folders, files, versions, shares, quotas.

Owns: storage_db (projects/drives, folders, files, versions, shares) and the blob store.
Routes: /api/storage/*, /api/public/storage/*.
"""
