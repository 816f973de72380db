"""Run leases: which worker thread may advance a run, and for how long.

A run row carries ``lease_owner`` / ``lease_expires_at``. A worker takes the lease with a
conditional UPDATE before stepping and every checkpoint is guarded by it, so one run is advanced
by one thread at a time; a lease whose worker died expires and the sweeper hands the run on.
The row also records ``rq_job_id``: the RQ job that last took the run (the execution and its
job are linked, as the design asks).
"""

from __future__ import annotations

__all__ = ["ACTIVE_STATUSES", "DISPATCH", "owner", "lease_length", "current_job_id"]

import os
import socket
import threading
import uuid
from datetime import timedelta

from flask import current_app
from rq import get_current_job

#: The statuses of a run that is not over.
ACTIVE_STATUSES = ("pending", "running", "waiting")
#: Lease owner of runs handed to the queue but not yet taken by a worker.
DISPATCH = "dispatch"
_PROCESS = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def owner() -> str:
    """This thread's lease-owner name (host, pid, process nonce, thread)."""
    return f"{_PROCESS}:{threading.get_ident()}"


def lease_length() -> timedelta:
    """How long a taken lease lasts (``RUN_LEASE_SECONDS``)."""
    return timedelta(seconds=current_app.config.get("RUN_LEASE_SECONDS", 60))


def current_job_id() -> str | None:
    """The id of the RQ job this thread is running (``None`` outside a job)."""
    job = get_current_job()
    return job.id[:100] if job is not None else None
