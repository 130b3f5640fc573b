from services.runtime.migrations import run_env
from services.vouchers.db.models import metadata

run_env(metadata)
