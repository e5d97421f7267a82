"""Typed results of the API (each keeps the answer it was built from as `raw`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union


@dataclass(frozen=True)
class Lease:
    experiment_id: str
    worker_id: str
    lease_id: str
    expires_at: str
    ttl_ms: int
    position: int

    @staticmethod
    def of(raw: Dict[str, Any]) -> "Lease":
        return Lease(raw["experimentId"], raw["workerId"], raw["leaseId"], raw["expiresAt"], int(raw["ttlMs"]), int(raw["position"]))


@dataclass(frozen=True)
class TrainStep:
    """A training step to run: train `architecture` (one op index per layer) on step `step`'s batch."""

    step: int
    architecture: List[int]
    phase: str
    sampler: str
    flops: float
    position: int
    raw: Dict[str, Any] = field(repr=False, compare=False)

    kind = "train"


@dataclass(frozen=True)
class ValidationBatchQuestion:
    """The search asks for the loss of `architecture` on one validation batch.

    Evaluate on validation batch `batch` (consecutive evaluations share one batch, so siblings are
    compared on the same data); answers are recorded and replayed, never asked twice.
    """

    search_id: str
    evaluation: int
    #: the validation batch to evaluate on (consecutive evaluations share one batch)
    batch: int
    architecture: List[int]
    position: int
    raw: Dict[str, Any] = field(repr=False, compare=False)

    kind = "validation-batch"


@dataclass(frozen=True)
class FullValidationQuestion:
    """The search asks for the top-1 (and top-5) accuracy in percent and the mean loss of
    `architecture` on the whole validation split, after re-estimating its BatchNorm statistics on
    `bn_recalibration_batches` training batches (restore the weights afterwards)."""

    search_id: str
    candidate: int
    architecture: List[int]
    bn_recalibration_batches: int
    position: int
    raw: Dict[str, Any] = field(repr=False, compare=False)

    kind = "full-validation"


@dataclass(frozen=True)
class Candidate:
    architecture: List[int]
    top1: float


@dataclass(frozen=True)
class SearchResult:
    search_id: str
    best: Candidate
    top: List[Candidate]
    validation_batch_evaluations: int

    @staticmethod
    def of(raw: Optional[Dict[str, Any]]) -> Optional["SearchResult"]:
        if not raw:
            return None
        cand = lambda c: Candidate(list(c["architecture"]), float(c["top1"]))  # noqa: E731
        return SearchResult(raw["searchId"], cand(raw["best"]), [cand(c) for c in raw["top"]], int(raw.get("validationBatchEvaluations", 0)))


@dataclass(frozen=True)
class Done:
    """Nothing left to do: `result` is the completed search (None when the run stopped at the end
    of training because `search=False` was asked)."""

    result: Optional[SearchResult]
    position: Optional[int]

    kind = "done"


Question = Union[ValidationBatchQuestion, FullValidationQuestion]
Turn = Union[TrainStep, ValidationBatchQuestion, FullValidationQuestion, Done]


def turn_of(raw: Dict[str, Any]) -> Turn:
    """Decodes an `ask` answer (or the `next` of a search tell)."""
    if raw.get("done"):
        return Done(SearchResult.of(raw.get("result")), raw.get("position"))
    kind = raw.get("kind", "train")
    if kind == "train":
        return TrainStep(int(raw["step"]), list(raw["architecture"]), raw["phase"], raw["sampler"], float(raw["flops"]), int(raw["position"]), raw)
    if kind == "validation-batch":
        return ValidationBatchQuestion(raw["searchId"], int(raw["evaluation"]), int(raw["batch"]), list(raw["architecture"]), int(raw["position"]), raw)
    if kind == "full-validation":
        return FullValidationQuestion(raw["searchId"], int(raw["candidate"]), list(raw["architecture"]), int(raw["bnRecalibrationBatches"]), int(raw["position"]), raw)
    raise ValueError(f"unknown turn kind {kind!r}")


@dataclass(frozen=True)
class Reward:
    """The recorded reward of a training step (`duplicate`: it was already recorded; nothing written)."""

    step: int
    loss: float
    moving_average_loss: float
    reward: float
    duplicate: bool
    position: int

    @staticmethod
    def of(raw: Dict[str, Any]) -> "Reward":
        return Reward(int(raw["step"]), float(raw["loss"]), float(raw["movingAverageLoss"]), float(raw["reward"]), bool(raw["duplicate"]), int(raw["position"]))


@dataclass(frozen=True)
class Told:
    """A recorded search answer and what comes next."""

    duplicate: bool
    position: int
    next: Turn


@dataclass(frozen=True)
class FullValidation:
    top1: float
    loss: float
    top5: Optional[float] = None


@dataclass(frozen=True)
class Checkpoint:
    step: int
    epoch: int
    location: str
    sha256: str
    size: int
    stream_position: int

    @staticmethod
    def of(raw: Dict[str, Any]) -> "Checkpoint":
        return Checkpoint(int(raw["step"]), int(raw["epoch"]), raw["location"], raw["sha256"], int(raw["size"]), int(raw["streamPosition"]))


@dataclass(frozen=True)
class Event:
    position: int
    stream_version: int
    type: str
    data: Any
    metadata: Any
    created_at: str
    #: gap-safe checkpoint `txid:position`: the SSE id, resume after it with Last-Event-ID
    checkpoint: str

    @staticmethod
    def of(raw: Dict[str, Any]) -> "Event":
        return Event(int(raw["position"]), int(raw["streamVersion"]), raw["type"], raw.get("data"), raw.get("metadata"), raw.get("createdAt", ""), raw["checkpoint"])


@dataclass(frozen=True)
class ExperimentStatus:
    id: str
    name: Optional[str]
    lifecycle: str
    phase: Optional[str]
    last_rewarded_step: int
    next_step: Optional[int]
    pending_step: Optional[int]
    total_training_steps: int
    position: int
    newest_checkpoint: Optional[Checkpoint]
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @staticmethod
    def of(raw: Dict[str, Any]) -> "ExperimentStatus":
        ckpt = raw.get("newestCheckpoint")
        return ExperimentStatus(
            raw["id"], raw.get("name"), raw["lifecycle"], raw.get("phase"), int(raw["lastRewardedStep"]), raw.get("nextStep"), raw.get("pendingStep"),
            int(raw["totalTrainingSteps"]), int(raw["position"]), Checkpoint.of(ckpt) if ckpt else None, raw,
        )
