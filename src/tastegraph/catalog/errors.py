"""Catalogue errors.

CatalogError
├── ItemNotFound
├── InvalidItemReference   a reference that names too little to find or create an item
├── MergeRefused           merging an item into itself, into another kind, or in a cycle
├── InvalidRights          a grant, blackout, group or translation that cannot be stored as sent
├── RightsNotFound         no such grant
├── BlackoutNotFound       no such blackout
├── TerritoryGroupNotFound
├── TerritoryGroupInUse    deleting a group that grants or blackouts still name
└── RightsSheetRejected    a rights sheet with no usable row (or no usable header)
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


class InvalidRights(CatalogError):
    code = "invalid_rights"
    title = "The rights data cannot be used"


class RightsNotFound(CatalogError):
    code = "rights_not_found"
    title = "No such rights grant"


class BlackoutNotFound(CatalogError):
    code = "blackout_not_found"
    title = "No such blackout"


class TerritoryGroupNotFound(CatalogError):
    code = "territory_group_not_found"
    title = "No such territory group"


class TerritoryGroupInUse(CatalogError):
    code = "territory_group_in_use"
    title = "The territory group is in use"


class RightsSheetRejected(CatalogError):
    code = "rights_sheet_rejected"
    title = "No row of the rights sheet could be stored"
