"""Words the engine shares: presence values and the Active pool."""

AVAILABLE = "available"
AWAY = "away"
OFFLINE = "offline"
ACTIVE_POOL = "active"
