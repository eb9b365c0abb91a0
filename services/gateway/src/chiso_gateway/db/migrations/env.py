from chiso_gateway.db import VERSION_TABLE
from chiso_gateway.db.models import GatewayBase
from chiso_gateway.settings import Settings
from chiso_shared.migrations_env import run

settings = Settings()
run(
    GatewayBase.metadata,
    settings.resolved_migration_database_url(),
    VERSION_TABLE,
    settings.database_runtime_role,
)
