"""Who is who on the bus: the identities, their nkeys and the permission table
computed from the bus plan. Plain data that the settings, the server
configuration and every connection read; imports nothing of the runtime."""
