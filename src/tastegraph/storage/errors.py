from __future__ import annotations

from tastegraph.errors import TastegraphError


class StorageError(TastegraphError):
    code = "storage_error"
    title = "Storage error"


class DatabaseNotMigrated(StorageError):
    code = "database_not_migrated"
    title = "The database is not migrated"
