from chiso_gateway.db import VERSION_TABLE
from chiso_gateway.db.models import GatewayBase
from chiso_gateway.settings import Settings
from chiso_shared.migrations_env import run

run(GatewayBase.metadata, Settings().resolved_database_url(), VERSION_TABLE)
