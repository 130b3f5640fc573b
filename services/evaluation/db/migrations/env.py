import services.evaluation.db.facts_models  # noqa: F401  (registers the facts tables on the metadata)
import services.evaluation.db.followup_models  # noqa: F401  (registers the follow-up tables: evidence, plan approvals, rectifications)
from services.evaluation.db.models import metadata
from services.runtime.db.migrations import run_env

run_env(metadata)
