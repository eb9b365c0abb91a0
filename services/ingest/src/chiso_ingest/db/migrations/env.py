from chiso_ingest.db import VERSION_TABLE
from chiso_ingest.db.models import IngestBase
from chiso_ingest.settings import Settings
from chiso_shared.migrations_env import run

run(IngestBase.metadata, Settings().resolved_database_url(), VERSION_TABLE)
