"""What every service runs on, in layers that import only downwards
(.importlinter checks it):

- ``service``, ``platform``, ``safety``: a service assembled from its spec;
  the platform's bus plan; start-up checks.
- ``http/``: the app factory, auth, sessions, problems, runtime routes.
- ``bus/``: NATS connections, outbox relay, consumers, streams, buckets.
- ``db/``: engines, shared tables, unit of work, audit chain, migrations.
- the modules at this level (settings, env, clock, errors, metrics, telemetry,
  logs, crypto, …) and ``bus_identity/``: foundations that import none of
  the packages above.

The ``xciss`` command is ``services/command``, above the services.
"""
