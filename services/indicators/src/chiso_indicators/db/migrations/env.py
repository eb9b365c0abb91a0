from chiso_indicators.db import VERSION_TABLE
from chiso_indicators.db.models import IndicatorsBase
from chiso_indicators.settings import Settings
from chiso_shared.migrations_env import run

settings = Settings()
run(
    IndicatorsBase.metadata,
    settings.resolved_migration_database_url(),
    VERSION_TABLE,
    settings.database_runtime_role,
)
