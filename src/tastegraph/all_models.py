"""Every area's models in one place, so the metadata is complete for Alembic and schema checks."""

from tastegraph.accounts import models as accounts_models
from tastegraph.ads import models as ads_models
from tastegraph.audiences import models as audiences_models
from tastegraph.catalog import models as catalog_models
from tastegraph.ingest import models as ingest_models
from tastegraph.insights import models as insights_models
from tastegraph.protocols import models as protocol_models
from tastegraph.recs import stations as recs_stations
from tastegraph.social import models as social_models
from tastegraph.stats import models as stats_models
from tastegraph.storage.base import Base

__all__ = [
    "Base",
    "accounts_models",
    "ads_models",
    "audiences_models",
    "catalog_models",
    "ingest_models",
    "insights_models",
    "protocol_models",
    "recs_stations",
    "social_models",
    "stats_models",
]
