import services.registry.db.oversight_models  # noqa: F401  (registers the oversight tables on the metadata)
import services.registry.db.booking_models  # noqa: F401  (registers the booking tables on the metadata)
import services.registry.db.search_models  # noqa: F401  (registers the synonym dictionary on the metadata)
import services.registry.db.recovery_models  # noqa: F401  (registers the recovery tables on the metadata)
import services.registry.db.usage_models  # noqa: F401  (registers the usage log's tables on the metadata)
import services.registry.db.notification_models  # noqa: F401  (registers calendar feeds and notifications on the metadata)
from services.registry.db.models import metadata
from services.runtime.db.migrations import run_env

run_env(metadata)
