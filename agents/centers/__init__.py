"""Contact centers: members and roles, routing type, licenses, numbers, devices, alerts."""
