"""Everything that talks to NATS JetStream: connections, the outbox relay,
consumers and command responders, streams and dead letters, key-value
buckets, the test clock, backups and the server configuration rendered from
the identities in ``bus_identity`` (docs/security.md, "The bus")."""
