"""The whole run in one call: training steps, the search's questions, the result.

Implement `Trainer` (your PyTorch code) and call `run_experiment`. Resuming after a crash is
the same call: the service hands back the step or question that was pending, answers already
recorded are never asked again, and a restarted trainer with the same `worker_id` gets its
lease back at once (another worker gets it after the lease TTL).
"""
from __future__ import annotations

import hashlib
import os
from typing import Callable, Optional, Protocol

from .client import Client, LeaseKeeper
from .types import Checkpoint, Done, FullValidation, FullValidationQuestion, TrainStep, ValidationBatchQuestion


class Trainer(Protocol):
    def train_step(self, step: TrainStep) -> float:
        """Trains `step.architecture` on step `step.step`'s batch; returns the training loss."""

    def validation_batch_loss(self, question: ValidationBatchQuestion) -> float:
        """Loss of `question.architecture` on one validation batch (the same criterion as training)."""

    def full_validation(self, question: FullValidationQuestion) -> FullValidation:
        """BatchNorm recalibration on `question.bn_recalibration_batches` training batches, then
        top-1 (%) and loss on the whole validation split; restores the weights afterwards."""


#: saves the weights after `step`; returns the path written (on storage every worker can read)
SaveCheckpoint = Callable[[int], str]


def run_experiment(
    client: Client,
    experiment_id: str,
    trainer: Trainer,
    *,
    worker_id: str,
    ttl_ms: int = 30_000,
    wait_for_lease: float = 0.0,
    max_turns: Optional[int] = None,
    checkpoint_every: Optional[int] = None,
    save_checkpoint: Optional[SaveCheckpoint] = None,
    search: bool = True,
) -> Optional[Done]:
    """Drives `experiment_id` until it is done (returns `Done`) or `max_turns` asks were answered
    (returns None; call again to continue). Checkpoints every `checkpoint_every` steps through
    `save_checkpoint` and records them (sha256 computed here)."""
    with client.lease(experiment_id, worker_id, ttl_ms, wait=wait_for_lease) as keeper:
        turns = 0
        turn = client.ask(experiment_id, keeper.lease_id, search=search)
        while not isinstance(turn, Done):
            if max_turns is not None and turns >= max_turns:
                return None
            keeper.check()
            if isinstance(turn, TrainStep):
                loss = trainer.train_step(turn)
                client.tell(experiment_id, keeper.lease_id, turn.step, loss)
                if checkpoint_every and save_checkpoint and (turn.step + 1) % checkpoint_every == 0:
                    record_checkpoint(client, experiment_id, keeper, turn.step, save_checkpoint(turn.step))
                turn = client.ask(experiment_id, keeper.lease_id, search=search)
            elif isinstance(turn, ValidationBatchQuestion):
                turn = client.answer(experiment_id, keeper.lease_id, turn, loss=trainer.validation_batch_loss(turn)).next
            else:
                turn = client.answer_full_validation(experiment_id, keeper.lease_id, turn, trainer.full_validation(turn)).next
            turns += 1
        return turn


def record_checkpoint(client: Client, experiment_id: str, keeper: LeaseKeeper, step: int, path: str) -> Checkpoint:
    """Hashes the file at `path` and records it as the checkpoint after `step`."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return client.record_checkpoint(experiment_id, keeper.lease_id, step=step, location=os.path.abspath(path), sha256=digest.hexdigest(), size=os.path.getsize(path))


def verified_checkpoint(client: Client, experiment_id: str) -> Optional[Checkpoint]:
    """The newest recorded checkpoint whose file exists and matches its sha256 (older ones when
    the newest is missing or corrupt), or None: where a resumed trainer loads its weights from."""
    for checkpoint in reversed(client.checkpoints(experiment_id)):
        try:
            digest = hashlib.sha256()
            with open(checkpoint.location, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            continue
        if digest.hexdigest() == checkpoint.sha256:
            return checkpoint
    return None
