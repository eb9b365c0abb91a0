from chiso_indicators.db import VERSION_TABLE
from chiso_indicators.db.models import IndicatorsBase
from chiso_indicators.settings import Settings
from chiso_shared.migrations_env import run

run(IndicatorsBase.metadata, Settings().resolved_database_url(), VERSION_TABLE)
