"""Every table of every capability, imported in one place for Alembic and the tests."""

from govshare.audit import models as audit_models
from govshare.auth import models as auth_models
from govshare.catalog import models as catalog_models
from govshare.core.db import Base
from govshare.data import models as data_models
from govshare.data import profile_models
from govshare.exchange import models as exchange_models

metadata = Base.metadata

__all__ = [
    "metadata",
    "audit_models",
    "auth_models",
    "catalog_models",
    "data_models",
    "profile_models",
    "exchange_models",
]
