from services.registry.db.models import metadata
from services.runtime.db.migrations import run_env

run_env(metadata)
