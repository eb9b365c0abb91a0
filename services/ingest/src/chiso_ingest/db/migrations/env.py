from chiso_ingest.db import VERSION_TABLE
from chiso_ingest.db.models import IngestBase
from chiso_ingest.settings import Settings
from chiso_shared.migrations_env import run

settings = Settings()
run(
    IngestBase.metadata,
    settings.resolved_migration_database_url(),
    VERSION_TABLE,
    settings.database_runtime_role,
)
