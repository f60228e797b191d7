"""Words the engine shares: presence values and the Active pool."""

AVAILABLE = "available"
AWAY = "away"
OFFLINE = "offline"
ACTIVE_POOL = "active"
# Everyone who could take it is at capacity: it waits, oldest first (capacity queue).
QUEUE_POOL = "queue"
