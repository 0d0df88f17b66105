"""Making the chunks of a run in a second process while this one writes them: the database
has a single writer, so making the calls is the other core's work."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from advice_desk.demo import DemoError
from advice_desk.demo.generator import Generator
from advice_desk.demo.timing import Job, Plan, plan_jobs
from advice_desk.store.bulk import Prepare, Prepared


def _make_rows(plan: Plan, job: Job, prepare: Prepare[Prepared]) -> Prepared:
    """One chunk, as its writer inserts it."""
    return prepare(Generator(plan, job.index).chunk(job.days), job.first_id)


def made(plan: Plan, prepare: Prepare[Prepared], first_id: int | None, parallel: bool
         ) -> Iterator[Prepared]:
    """The rows of each chunk, in order. In ``parallel``, when there are several chunks, a
    second process makes the later ones while this one makes the first and then
    writes: the database has a single writer, so making the calls is the other core's work.

    Rows arrive over a pipe and are unpickled here, in the writing thread: unpickling them in
    a helper thread (as ``concurrent.futures`` does) would fight the writer for the GIL. The
    producer is spawned, not forked, on every system: a fork would copy this process's open
    database connection, and its threads, if any.
    """
    jobs = plan_jobs(plan, first_id)
    if len(jobs) < 2 or not parallel:
        yield from (_make_rows(plan, job, prepare) for job in jobs)
        return
    spawn = multiprocessing.get_context("spawn")
    receiver, sender = spawn.Pipe(duplex=False)
    producer = spawn.Process(target=_produce, args=(plan, prepare, first_id, sender),
                             name="advice-desk demo", daemon=True)
    producer.start()
    sender.close()
    try:
        yield _make_rows(plan, jobs[0], prepare)
        for _ in jobs[1:]:
            yield _received(receiver, producer)
    finally:
        receiver.close()
        producer.kill()  # only still running if the writing failed
        producer.join()


def _produce(plan: Plan, prepare: Prepare[Prepared], first_id: int | None,
             sender: Connection[Prepared, object]) -> None:
    """The producer process: makes every chunk but the first, in turn. Sending blocks while
    the writer is busy, so at most one chunk waits in memory."""
    with sender:
        for job in plan_jobs(plan, first_id)[1:]:
            sender.send(_make_rows(plan, job, prepare))


def _received(receiver: Connection[object, Prepared], producer: BaseProcess) -> Prepared:
    try:
        return receiver.recv()
    except EOFError:
        producer.join()
        raise DemoError(f"the process making the calls stopped (exit code {producer.exitcode})"
                        ) from None


