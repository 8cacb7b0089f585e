"""Catalogue errors.

CatalogError
├── ItemNotFound
├── InvalidItemReference   a reference that names too little to find or create an item
└── MergeRefused           merging an item into itself, into another kind, or in a cycle
"""

from __future__ import annotations

from tastegraph.errors import TastegraphError


class CatalogError(TastegraphError):
    code = "catalog_error"


class ItemNotFound(CatalogError):
    code = "item_not_found"
    title = "No such item"


class InvalidItemReference(CatalogError):
    code = "invalid_item_reference"
    title = "The item reference is incomplete"


class MergeRefused(CatalogError):
    code = "merge_refused"
    title = "These items cannot be merged"
