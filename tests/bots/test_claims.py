"""Scheduled jobs run once per firing across processes: several processes race for
the same due job at the same instant (a barrier releases them together), many
times; SELECT ... FOR UPDATE SKIP LOCKED lets exactly one claim each firing."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

from django.db import connections
from django.utils import timezone

from bots.models import BotRun, ScheduledJob
from bots.runtime import runtime
from tests.conftest import requires_postgres

from .claimer import claim_rounds
from .sample import TickBot

PROCESSES = 3
ROUNDS = 25


@requires_postgres
def test_processes_racing_for_a_due_job_claim_it_once(live_database_url, transactional_db):
    runtime.use([TickBot])
    try:
        runtime.sync_schedules()  # the bot user and its job row exist before the race
    finally:
        runtime.use([])
        runtime._bots = None
    job = ScheduledJob.objects.get(handler="tick")
    connections.close_all()

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=claim_rounds, args=(live_database_url,
                                                     "tests.bots.sample:TickBot", ROUNDS,
                                                     barrier, results))
             for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    try:
        per_round = []
        for _ in range(ROUNDS):
            ScheduledJob.objects.filter(id=job.id).update(
                next_run_at=timezone.now() - timedelta(seconds=1))
            barrier.wait(60)  # all processes claim at once
            got = [results.get(timeout=60) for _ in range(PROCESSES)]
            per_round.append(sum(n for _, n in got))
        assert per_round == [1] * ROUNDS, per_round
        assert BotRun.objects.filter(kind="schedule", command="tick").count() == ROUNDS
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
        connections.close_all()
