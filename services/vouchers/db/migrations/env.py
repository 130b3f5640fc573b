from services.runtime.db.migrations import run_env
from services.vouchers.db.models import metadata

run_env(metadata)
