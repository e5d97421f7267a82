"""Data-parallel trainers (e.g. PyTorch DDP under `torchrun`): one lease, many ranks.

Rank 0 holds the lease and talks to the service; it broadcasts each turn (a training step's
architecture or a search question) to every rank; every rank trains or evaluates its shard;
the losses (and accuracies) are all-reduced (mean); rank 0 tells. Checkpoints: every rank
reaches a barrier, rank 0 saves and records the file, the others wait, so no rank runs ahead of
a checkpoint. The collective operations are a small interface (`Collective`): `TorchCollective`
wraps `torch.distributed`; the tests use processes that stand in for ranks.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Protocol

from .client import Client
from .trainer import SaveCheckpoint, Trainer, record_checkpoint
from .types import Done, FullValidation, FullValidationQuestion, TrainStep, Turn, ValidationBatchQuestion, turn_of


class Collective(Protocol):
    rank: int
    world_size: int

    def broadcast(self, value: Any) -> Any:
        """Rank 0's `value` on every rank (other ranks pass None)."""

    def all_reduce_mean(self, value: float) -> float:
        """The mean of `value` over the ranks, on every rank."""

    def barrier(self) -> None:
        ...


class TorchCollective:
    """`Collective` over an initialised `torch.distributed` process group."""

    def __init__(self) -> None:
        import torch  # noqa: F401  (imported here: the client itself needs no torch)
        import torch.distributed as dist

        self._torch = torch
        self._dist = dist
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()

    def broadcast(self, value: Any) -> Any:
        box = [value]
        self._dist.broadcast_object_list(box, src=0)
        return box[0]

    def all_reduce_mean(self, value: float) -> float:
        device = "cuda" if self._torch.cuda.is_available() and self._dist.get_backend() == "nccl" else "cpu"
        tensor = self._torch.tensor([float(value)], dtype=self._torch.float64, device=device)
        self._dist.all_reduce(tensor)
        return float(tensor.item()) / self.world_size

    def barrier(self) -> None:
        self._dist.barrier()


def _encode(turn: Turn) -> Dict[str, Any]:
    if isinstance(turn, Done):
        return {"done": True, "position": turn.position}
    return dict(turn.raw)


def run_distributed(
    collective: Collective,
    client: Optional[Client],
    experiment_id: str,
    trainer: Trainer,
    *,
    worker_id: str,
    ttl_ms: int = 30_000,
    wait_for_lease: float = 0.0,
    checkpoint_every: Optional[int] = None,
    save_checkpoint: Optional[SaveCheckpoint] = None,
    max_turns: Optional[int] = None,
) -> Optional[Done]:
    """Every rank calls this with its own `trainer` (trained on its shard); only rank 0 needs a
    `client`. Returns `Done` on every rank at the end (None after `max_turns`)."""
    leader = collective.rank == 0
    keeper = client.lease(experiment_id, worker_id, ttl_ms, wait=wait_for_lease) if leader and client else None
    if leader and keeper is None:
        raise ValueError("rank 0 needs a client")
    if keeper is not None:
        keeper.__enter__()
    try:
        turn: Optional[Turn] = client.ask(experiment_id, keeper.lease_id) if keeper else None
        turns = 0
        while True:
            stop = leader and max_turns is not None and turns >= max_turns
            message = collective.broadcast(({"stop": True} if stop else _encode(turn)) if leader else None)  # type: ignore[arg-type]
            if message.get("stop"):
                return None
            if message.get("done"):
                return turn if leader else Done(None, message.get("position"))  # type: ignore[return-value]
            local = turn_of(message)
            if keeper is not None:
                keeper.check()
            if isinstance(local, TrainStep):
                loss = collective.all_reduce_mean(trainer.train_step(local))
                if keeper is not None:
                    client.tell(experiment_id, keeper.lease_id, local.step, loss)  # type: ignore[union-attr]
                if checkpoint_every and save_checkpoint and (local.step + 1) % checkpoint_every == 0:
                    collective.barrier()
                    if keeper is not None:
                        record_checkpoint(client, experiment_id, keeper, local.step, save_checkpoint(local.step))  # type: ignore[arg-type]
                    collective.barrier()
                if keeper is not None:
                    turn = client.ask(experiment_id, keeper.lease_id)  # type: ignore[union-attr]
            elif isinstance(local, ValidationBatchQuestion):
                loss = collective.all_reduce_mean(trainer.validation_batch_loss(local))
                if keeper is not None:
                    turn = client.answer(experiment_id, keeper.lease_id, local, loss=loss).next  # type: ignore[union-attr]
            else:
                assert isinstance(local, FullValidationQuestion)
                result = trainer.full_validation(local)
                top1 = collective.all_reduce_mean(result.top1)
                top5 = collective.all_reduce_mean(result.top5) if result.top5 is not None else None
                mean_loss = collective.all_reduce_mean(result.loss)
                if keeper is not None:
                    turn = client.answer_full_validation(experiment_id, keeper.lease_id, local, FullValidation(top1=top1, top5=top5, loss=mean_loss)).next  # type: ignore[union-attr]
            turns += 1
    finally:
        if keeper is not None:
            keeper.__exit__(None, None, None)
