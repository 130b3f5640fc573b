"""A service's database: engines, the shared tables (outbox, inbox, audit
log), the unit of work and its audit chain, migrations, read models.
Imports nothing of the bus or HTTP layers."""
