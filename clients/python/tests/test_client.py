"""The client against a real service (see tests/support.py)."""
from __future__ import annotations

import collections
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from mctnas_client import (
    BadRequestError,
    Client,
    Done,
    FullValidationQuestion,
    IdempotencyConflictError,
    LeaseConflictError,
    NotFoundError,
    StepOrderError,
    TrainStep,
    UnauthorizedError,
    UnprocessableError,
    ValidationBatchQuestion,
    run_distributed,
    run_experiment,
    verified_checkpoint,
)

from tests import support
from tests.support import FakeTrainer, small_run, step_loss

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rewards_by_step(client: Client, experiment: str) -> dict:
    counts = collections.Counter()
    losses = {}
    for event in client.iter_events(experiment, types=["RewardRecorded"]):
        counts[event.data["step"]] += 1
        losses[event.data["step"]] = event.data["loss"]
    return {"counts": counts, "losses": losses}


class WholeRunTest(unittest.TestCase):
    def test_a_trainer_takes_an_experiment_from_creation_to_its_result_over_http(self):
        client = support.client()
        experiment = client.create_experiment(small_run("whole"))
        trainer = FakeTrainer()
        with tempfile.TemporaryDirectory() as directory:
            def save(step):
                path = os.path.join(directory, f"ckpt-{step}.bin")
                with open(path, "wb") as handle:
                    handle.write(os.urandom(64))
                return path

            done = run_experiment(client, experiment, trainer, worker_id="py-whole", ttl_ms=10_000, checkpoint_every=10, save_checkpoint=save)
            self.assertIsInstance(done, Done)
            self.assertEqual(trainer.steps, list(range(35)))
            kinds = {q.kind for q in trainer.questions}
            self.assertIn("full-validation", kinds)
            evaluated = [q for q in trainer.questions if isinstance(q, FullValidationQuestion)]
            self.assertEqual(len(evaluated), 3)
            best = max(evaluated, key=lambda q: trainer.full_validation(q).top1)
            self.assertEqual(done.result.best.architecture, best.architecture)
            status = client.experiment(experiment, min_position=done.position)
            self.assertEqual(status.lifecycle, "completed")
            self.assertEqual(status.last_rewarded_step, 34)
            self.assertEqual([c.step for c in client.checkpoints(experiment)], [9, 19, 29])
            self.assertEqual(verified_checkpoint(client, experiment).step, 29)
            with open(os.path.join(directory, "ckpt-29.bin"), "wb") as handle:
                handle.write(b"corrupt")
            self.assertEqual(verified_checkpoint(client, experiment).step, 19, "a corrupt newest checkpoint falls back to an older one")
        rewards = rewards_by_step(client, experiment)
        self.assertEqual(sorted(rewards["counts"]), list(range(35)))
        self.assertTrue(all(n == 1 for n in rewards["counts"].values()))
        # A finished experiment answers its result to anyone.
        lease = client.acquire_lease(experiment, "late-worker")
        self.assertEqual(client.ask(experiment, lease.lease_id).result, done.result)


class RetryAndErrorTest(unittest.TestCase):
    def setUp(self):
        self.client = support.client()
        self.experiment = self.client.create_experiment(small_run("errors"))
        self.lease = self.client.acquire_lease(self.experiment, "py-errors", 60_000)

    def test_asks_and_tells_are_safe_to_retry(self):
        c, e, lease = self.client, self.experiment, self.lease.lease_id
        first = c.ask(e, lease)
        self.assertIsInstance(first, TrainStep)
        self.assertEqual(c.ask(e, lease), first, "asking again returns the pending step")
        told = c.tell(e, lease, first.step, 2.0)
        again = c.tell(e, lease, first.step, 2.0)
        self.assertFalse(told.duplicate)
        self.assertTrue(again.duplicate)
        self.assertEqual((again.reward, again.position), (told.reward, told.position))
        with self.assertRaises(IdempotencyConflictError) as caught:
            c.tell(e, lease, first.step, 2.5)
        self.assertEqual(caught.exception.status, 409)

    def test_errors_are_typed_and_name_the_field(self):
        c, e, lease = self.client, self.experiment, self.lease.lease_id
        with self.assertRaises(UnauthorizedError):
            Client(support.URL, "wrong-token").ask(e, lease)
        with self.assertRaises(NotFoundError):
            c.experiment("exp-does-not-exist")
        with self.assertRaises(BadRequestError) as bad:
            c.acquire_lease(e, "py-errors", ttl_ms=5)
        self.assertEqual(bad.exception.field, "body.ttlMs")
        step = c.ask(e, lease)
        with self.assertRaises(ValueError):
            c.tell(e, lease, step.step, math.nan)  # not JSON: refused before sending
        with self.assertRaises(UnprocessableError) as negative:
            c.tell(e, lease, step.step, -1.0)
        self.assertEqual((negative.exception.status, negative.exception.code), (422, "InvalidLossError"))
        with self.assertRaises(StepOrderError):
            c.tell(e, lease, step.step + 5, 1.0)
        with self.assertRaises(LeaseConflictError):
            c.acquire_lease(e, "someone-else")
        with self.assertRaises(LeaseConflictError):
            c.ask(e, "not-the-lease")

    def test_the_lease_keeper_heartbeats_in_the_background_and_releases(self):
        c, e = self.client, self.experiment
        c.release_lease(e, self.lease.lease_id)
        with c.lease(e, "py-keeper", ttl_ms=1_000) as keeper:
            time.sleep(1.8)
            self.assertGreaterEqual(keeper.heartbeats, 3)
            self.assertIsInstance(c.ask(e, keeper.lease_id), TrainStep, "the lease outlived its TTL thanks to the heartbeats")
            keeper.check()
        self.assertIsNone(c.experiment(e).raw["lease"])
        # A second worker waits for a lease held by a dead worker (no heartbeat) and takes it over.
        c.acquire_lease(e, "py-dead", ttl_ms=1_000)
        started = time.monotonic()
        taken = c.acquire_lease(e, "py-next", ttl_ms=10_000, wait=10)
        self.assertLess(time.monotonic() - started, 3.5)
        self.assertEqual(taken.worker_id, "py-next")
        expired = [ev for ev in c.iter_events(e, types=["WorkerLeaseExpired"])]
        self.assertEqual([ev.data["workerId"] for ev in expired], ["py-dead"])


class EventStreamTest(unittest.TestCase):
    def test_live_events_arrive_in_order_and_resume_after_the_last_id(self):
        c = support.client()
        e = c.create_experiment(small_run("sse"))
        received = []
        done = threading.Event()

        def follow():
            for event in c.stream_events(e, read_timeout=30):
                received.append(event)
                if event.type == "RewardRecorded" and event.data["step"] == 4:
                    done.set()
                    return

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        lease = c.acquire_lease(e, "py-sse", 60_000).lease_id
        for _ in range(5):
            step = c.ask(e, lease)
            c.tell(e, lease, step.step, step_loss(step.architecture, step.step))
        self.assertTrue(done.wait(30), "the live events arrived")
        history = list(c.iter_events(e))
        self.assertEqual([ev.checkpoint for ev in received], [ev.checkpoint for ev in history[: len(received)]])
        self.assertEqual([ev.position for ev in received], sorted(ev.position for ev in received))
        resumed = c.stream_events(e, last_event_id=received[3].checkpoint)
        tail = [next(resumed) for _ in range(len(history) - 4)]
        resumed.close()
        self.assertEqual([ev.checkpoint for ev in tail], [ev.checkpoint for ev in history[4:]], "no gap, no duplicate")
        only = c.stream_events(e, types=["ArchitectureSampled"])
        self.assertEqual([next(only).data["step"] for _ in range(5)], [0, 1, 2, 3, 4])
        only.close()


class CrashResumeTest(unittest.TestCase):
    def test_a_trainer_killed_midway_resumes_and_no_step_is_lost_or_duplicated(self):
        c = support.client()
        e = c.create_experiment(small_run("crash"))
        env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
        with tempfile.TemporaryDirectory() as directory:
            for kill_after in (8, 19):
                process = subprocess.Popen([sys.executable, "-m", "tests.crash_worker", e, "py-crash", directory], cwd=HERE, env=env)
                try:
                    deadline = time.monotonic() + 60
                    while c.experiment(e).last_rewarded_step < kill_after:
                        self.assertIsNone(process.poll(), "the worker runs until killed")
                        self.assertLess(time.monotonic(), deadline)
                        time.sleep(0.02)
                finally:
                    process.send_signal(signal.SIGKILL)
                    process.wait()
            # Restarted with the same worker id: its own lease comes back at once.
            done = run_experiment(c, e, FakeTrainer(), worker_id="py-crash", ttl_ms=60_000)
            self.assertIsInstance(done, Done)
            self.assertIsNotNone(done.result)
            self.assertGreaterEqual(len(c.checkpoints(e)), 2)
        rewards = rewards_by_step(c, e)
        self.assertEqual(sorted(rewards["counts"]), list(range(35)))
        self.assertEqual(set(rewards["counts"].values()), {1})
        sampled = {ev.data["step"]: ev.data["architecture"] for ev in c.iter_events(e, types=["ArchitectureSampled"])}
        for step, loss in rewards["losses"].items():
            self.assertAlmostEqual(loss, step_loss(sampled[step], step))


class QueueCollective:
    """Stands in for torch.distributed: rank 0 and the other ranks exchange values over queues."""

    def __init__(self, rank, world_size, inbox, outboxes):
        self.rank, self.world_size = rank, world_size
        self.inbox, self.outboxes = inbox, outboxes

    def broadcast(self, value):
        if self.rank == 0:
            for q in self.outboxes:
                q.put(value)
            return value
        return self.outboxes[self.rank - 1].get(timeout=60)

    def all_reduce_mean(self, value):
        if self.rank == 0:
            total = value + sum(self.inbox.get(timeout=60) for _ in range(self.world_size - 1))
            return self.broadcast(total / self.world_size)
        self.inbox.put(value)
        return self.broadcast(None)

    def barrier(self):
        self.all_reduce_mean(0.0)


class ShardTrainer(FakeTrainer):
    """Rank r's shard gives a loss offset by (r - 1) / 10: the mean over 3 ranks is the plain loss."""

    def __init__(self, rank):
        super().__init__(offset=(rank - 1) / 10)


def rank_main(rank, world_size, inbox, outboxes, experiment, results):
    collective = QueueCollective(rank, world_size, inbox, outboxes)
    client = support.client() if rank == 0 else None
    done = run_distributed(collective, client, experiment, ShardTrainer(rank), worker_id="py-ddp", ttl_ms=30_000)
    results.put((rank, isinstance(done, Done)))


class DistributedTest(unittest.TestCase):
    def test_rank_zero_asks_broadcasts_and_tells_the_all_reduced_loss(self):
        c = support.client()
        e = c.create_experiment(small_run("ddp", strategy="random"))
        world = 3
        ctx = multiprocessing.get_context("fork")
        inbox, outboxes, results = ctx.Queue(), [ctx.Queue() for _ in range(world - 1)], ctx.Queue()
        ranks = [ctx.Process(target=rank_main, args=(r, world, inbox, outboxes, e, results)) for r in range(world)]
        for p in ranks:
            p.start()
        for p in ranks:
            p.join(120)
        self.assertEqual(sorted(results.get(timeout=5) for _ in range(world)), [(r, True) for r in range(world)])
        rewards = rewards_by_step(c, e)
        sampled = {ev.data["step"]: ev.data["architecture"] for ev in c.iter_events(e, types=["ArchitectureSampled"])}
        self.assertEqual(set(rewards["counts"].values()), {1})
        for step, loss in rewards["losses"].items():
            self.assertAlmostEqual(loss, step_loss(sampled[step], step), msg="the told loss is the mean over the ranks")
        evaluated = [ev.data for ev in c.iter_events(e, types=["CandidateEvaluated"])]
        self.assertEqual(len(evaluated), 3)
        for candidate in evaluated:
            expected = 80.0 + sum(a * (i + 1) for i, a in enumerate(candidate["architecture"])) / 10.0
            self.assertAlmostEqual(candidate["top1"], expected, msg="accuracies are averaged over the ranks")
        self.assertEqual(c.experiment(e).lifecycle, "completed")


class TorchExampleTest(unittest.TestCase):
    def test_the_torch_ddp_example_runs_when_torch_is_installed(self):
        try:
            import torch  # noqa: F401
        except ImportError:
            self.skipTest("torch is not installed: the PyTorch DDP example was NOT run")
        c = support.client()
        e = c.create_experiment(small_run("torch", strategy="random"))
        env = dict(os.environ, PYTHONPATH=HERE, MCTNAS_EXPERIMENT=e)
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", os.path.join(HERE, "examples", "torch_ddp.py"), e, "--steps-per-epoch", "1"], env=env, check=True, timeout=600)
        self.assertEqual(c.experiment(e).lifecycle, "completed")


if __name__ == "__main__":
    unittest.main()
