"""The durable runtime: events in, runs stepped and checkpointed, lost work swept up.

Modules import one way, from the jobs down (``pyproject.toml``'s import-linter contract says
it out loud)::

    maintenance  schedules  sweeper  processing      periodic jobs and the event drain
         |           |          |        |
    run_control    ingest       |        |           start / cancel / retry; accept events
         |                      |        |
       runner  <----------------+--------+           advance a run, checkpoint each step
         |
    outage  effects  interpreters  limits  fallback  db outages, DbEffects, graph cache, caps
         |             |
      leases       discovery                         run leases; the trigger index cache
         |
      session                                        the workers' session

The runtime uses the CRUD helpers of :mod:`backend.services` (contacts, trigger rows,
redaction) and the engine's public API (:mod:`graph_engine`); nothing below imports it back.
``backend/jobs.py`` (the RQ entry points) sits on top.
"""
