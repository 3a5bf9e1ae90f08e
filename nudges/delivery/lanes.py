"""Send each workspace's due deliveries in a lane of its own, at the pace its platform answers.

While one chunk is sent the next is claimed and composed, and each chunk's outcomes are written
while the next is sent: a workspace's pace never waits for the database.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from nudges.delivery import metrics
from nudges.delivery.claims import Claims
from nudges.delivery.composing import Composer, Job
from nudges.delivery.ground import Ground
from nudges.delivery.outage import DB_ERRORS, Outage
from nudges.delivery.outcomes import Outcome, OutcomeWriter, TickResult
from nudges.delivery.pacing import Pacer
from nudges.delivery.sending import Sender
from nudges.delivery.shared_pace import shared_pace
from nudges.store.deliveries import Delivery

# A chunk claimed ahead: its ids and its composed jobs (None when nothing was left to claim).
Chunk = tuple[list[int], list[Job]] | None


class Lanes:
    """Per-workspace sending: a pacer per workspace, chunks claimed ahead of the pace."""

    def __init__(
        self,
        ground: Ground,
        claims: Claims,
        composer: Composer,
        sender: Sender,
        writer: OutcomeWriter,
        outage: Outage,
    ) -> None:
        self.ground = ground
        self.claims = claims
        self.composer = composer
        self.sender = sender
        self.writer = writer
        self.outage = outage
        self._pacers: dict[int, Pacer] = {}

    def pacer(self, workspace_id: int) -> Pacer:
        """Return the workspace's pacer, made on first use."""
        pacer = self._pacers.get(workspace_id)
        if pacer is None:
            config = self.ground.config
            pacer = Pacer(
                config.send_rate_per_workspace,
                start=config.initial_rate,
                shared=shared_pace(self.ground.db, workspace_id),
            )
            self._pacers[workspace_id] = pacer
        return pacer

    async def send_claimed(self, ids: Sequence[int], result: TickResult) -> None:
        """Send already claimed deliveries: paced per workspace, workspaces concurrently."""
        if not ids:
            return
        async with self.ground.db.session() as session:
            rows = (
                await session.execute(
                    select(Delivery.id, Delivery.workspace_id).where(Delivery.id.in_(list(ids)))
                )
            ).all()
        groups: dict[int, list[int]] = defaultdict(list)
        for delivery_id, workspace_id in rows:
            groups[workspace_id].append(delivery_id)
        await asyncio.gather(
            *(self._send_batch(sorted(g), self.pacer(w), result) for w, g in groups.items())
        )

    async def _send_batch(self, ids: Sequence[int], pacer: Pacer, result: TickResult) -> None:
        self.claims.in_hand.update(ids)
        try:
            jobs = await self.composer.prepare(ids, result)
            in_flight = asyncio.Semaphore(self.ground.config.max_in_flight)
            tasks, untried = await self._start_sends(jobs, pacer, in_flight)
            await self._finish(jobs, tasks, untried, result)
        finally:
            self.claims.in_hand.difference_update(ids)

    async def _start_sends(
        self,
        jobs: Sequence[Job],
        pacer: Pacer,
        in_flight: asyncio.Semaphore,
        nearly_done: asyncio.Event | None = None,
        margin: int = 0,
        halfway: asyncio.Event | None = None,
    ) -> tuple[list[asyncio.Task[Outcome]], list[Job]]:
        """Start each job's send at the pacer's pace; return the sends and the jobs not started.

        ``nearly_done`` is set once at most ``margin`` jobs are left to start, ``halfway`` once
        half of them started.
        """
        tasks: list[asyncio.Task[Outcome]] = []

        async def send(job: Job) -> Outcome:
            try:
                return await self.sender.send(job, pacer)
            finally:
                in_flight.release()

        for index, job in enumerate(jobs):
            if halfway is not None and index >= len(jobs) // 2:
                halfway.set()
            if nearly_done is not None and len(jobs) - index <= margin:
                nearly_done.set()
            if not await pacer.acquire(self.ground.is_stopping):
                return tasks, list(jobs[index:])
            await in_flight.acquire()
            tasks.append(asyncio.create_task(send(job)))
        for event in (halfway, nearly_done):
            if event is not None:
                event.set()
        return tasks, []

    async def _finish(
        self,
        jobs: Sequence[Job],
        tasks: Sequence[asyncio.Task[Outcome]],
        untried: Sequence[Job],
        result: TickResult,
    ) -> None:
        """Wait for a batch's sends, then write their outcomes and hand the untried back."""
        outcomes = list(await asyncio.gather(*tasks))
        platforms = {job.delivery_id: (job.recipient.platform, job.kind) for job in jobs}
        for outcome in outcomes:
            result.count(outcome.delivery_id, outcome.status)
            platform, kind = platforms[outcome.delivery_id]
            metrics.DELIVERIES.labels(platform, kind, outcome.status).inc()
        await self.writer.record(outcomes, [(job.delivery_id, job.in_doubt) for job in untried])

    def _chunk(self, pacer: Pacer, number: int) -> int:
        # About two seconds of sending: big enough to amortise the queries, small enough that a
        # stop or a crash hands little back. A lane's first chunk is half a second's: at a slot
        # every lane composes at once, and the last lane's first post should not wait for all
        # the others' two seconds' worth. The second is one to three seconds' at random, so the
        # lanes' later chunks are claimed and composed at different moments: started together,
        # all twenty lanes composed at once every two seconds, and the sends stalled behind them.
        if number == 0:
            seconds = 0.5
        elif number == 1:
            seconds = 1.0 + 2.0 * self.ground.rng.random()
        else:
            seconds = 2.0
        return max(5, min(self.ground.config.batch_size, int(pacer.rate * seconds)))

    async def _claim_ahead(
        self,
        workspace_id: int,
        pacer: Pacer,
        result: TickResult,
        claim: asyncio.Event,
        go: asyncio.Event,
        number: int,
    ) -> Chunk:
        """Claim a workspace's next chunk once ``claim`` is set; say it started once ``go`` is.

        Claiming and composing overlap the sending of the chunk before, so the pacer does not
        wait for the database; ``send_started_at`` is still written only just before the chunk
        is sent, so a crash leaves no more rows in doubt than before.
        """
        await claim.wait()
        if self.ground.stopping:
            return None
        limit = self._chunk(pacer, number)
        ids = await self.claims.claim(limit=limit, workspace_id=workspace_id)
        if not ids:
            return None
        try:
            jobs, settled = await self.composer.compose_batch(ids, result)
            await go.wait()
            # Stopping, the chunk goes back untried: it must not be marked as being sent.
            await self.composer.start([] if self.ground.stopping else jobs, settled, result)
        except BaseException:
            # Not in hand any more: the next tick's recovery hands the claim back.
            self.claims.in_hand.difference_update(ids)
            raise
        return ids, jobs

    async def lane(self, workspace_id: int, result: TickResult) -> None:
        """Claim and send one workspace's due deliveries until none are left or we stop."""
        pacer = self.pacer(workspace_id)
        in_flight = asyncio.Semaphore(self.ground.config.max_in_flight)
        finishing: list[asyncio.Task[None]] = []
        go = halfway = asyncio.Event()
        go.set()
        ahead: asyncio.Task[Chunk] | None = asyncio.create_task(
            self._claim_ahead(workspace_id, pacer, result, halfway, go, 0)
        )
        chunks = 1
        try:
            while ahead is not None:
                chunk, ahead = await ahead, None
                if chunk is None:
                    break
                ids, jobs = chunk
                go, halfway = asyncio.Event(), asyncio.Event()
                if not self.ground.stopping:
                    ahead = asyncio.create_task(
                        self._claim_ahead(workspace_id, pacer, result, halfway, go, chunks)
                    )
                    chunks += 1
                # The next chunk is claimed once half of this one went out (so the lanes' database
                # work spreads out instead of coming all at once), and its "started" write gets
                # about half a second before it is needed.
                margin = max(1, int(pacer.rate / 2))
                tasks, untried = await self._start_sends(
                    jobs, pacer, in_flight, go, margin, halfway
                )
                finishing.append(
                    asyncio.create_task(self._finish_chunk(ids, jobs, tasks, untried, result))
                )
                if untried and ahead is not None:
                    # Stopping: the chunk claimed ahead goes back untried as well.
                    break
        except DB_ERRORS as exc:
            # What was claimed and not started is handed back by the next tick's recovery.
            self.outage.trouble(exc)
        except asyncio.CancelledError:
            # Going down hard: sends still out may never answer, so nothing waits for them; the
            # chunk claimed ahead lapses and the recovery hands it back, as after a crash.
            if ahead is not None:
                ahead.cancel()
                await asyncio.gather(ahead, return_exceptions=True)
                ahead = None
            for task in finishing:
                task.cancel()
            await asyncio.gather(*finishing, return_exceptions=True)
            raise
        finally:
            if ahead is not None:
                halfway.set()
                go.set()
                try:
                    chunk = await ahead
                except DB_ERRORS as exc:
                    self.outage.trouble(exc)
                    chunk = None
                except Exception:
                    # Already raised from the loop above; its claim is left to the recovery.
                    chunk = None
                if chunk is not None:
                    ids, jobs = chunk
                    finishing.append(
                        asyncio.create_task(self._finish_chunk(ids, jobs, [], jobs, result))
                    )
            await asyncio.gather(*finishing)

    async def _finish_chunk(
        self,
        ids: Sequence[int],
        jobs: Sequence[Job],
        tasks: Sequence[asyncio.Task[Outcome]],
        untried: Sequence[Job],
        result: TickResult,
    ) -> None:
        try:
            await self._finish(jobs, tasks, untried, result)
        finally:
            self.claims.in_hand.difference_update(ids)
