"""The bus's security: identities, their permissions, credentials and the
NATS server configuration rendered from them (docs/security.md, "The bus")."""
