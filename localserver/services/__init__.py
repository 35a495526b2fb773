"""API endpoint implementations, one module per service. Importing this package registers
every endpoint in :data:`localserver.core.ENDPOINTS`."""
from . import events, events_read, models, projects, queues, tasks, tasks_params, tasks_status, workers  # noqa: F401
