"""storage service: drives, folders, files, versions, shares, quotas (contract 8).

Owns: storage_db — ``storage_projects`` (shared drives) and ``storage_project_members``,
``storage_folders`` (ancestry as an id array, names path), ``storage_files`` (current
version) and ``storage_file_versions`` (every stored object), ``storage_shares`` (user
shares and public links), ``storage_doomed_blobs`` (objects to delete); the blob store's
``storage/{workspace}/{file}/{version}`` keys.
Routes: ``/api/storage/*`` (files, folders, shares, projects, trash, usage, versions) and
``/api/public/storage/*`` (links, anonymous downloads).
Settings (``WEALIST_STORAGE_*``): see :mod:`wealist.storage.settings`.
Background: the cleanup of unconfirmed uploads and doomed objects (:mod:`.hooks`).
"""
