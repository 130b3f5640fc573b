"""The gateway: one origin for web clients in front of the four services."""
