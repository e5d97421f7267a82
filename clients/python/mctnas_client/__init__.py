"""Python client of the mctnas MCT-NAS experiment service (standard library only).

    from mctnas_client import Client, run_experiment
    client = Client("http://127.0.0.1:3000", token)
    experiment = client.create_experiment({"searchSpace": {"preset": "nas-bench-macro"}, ...})
    done = run_experiment(client, experiment, MyTorchTrainer(), worker_id="gpu-node-7")
    print(done.result.best)
"""
from .client import Client, LeaseKeeper
from .distributed import Collective, TorchCollective, run_distributed
from .errors import (
    ApiError,
    BadRequestError,
    ConflictError,
    ExperimentStateError,
    IdempotencyConflictError,
    LeaseConflictError,
    MctnasError,
    NotFoundError,
    PositionNotReachedError,
    StepOrderError,
    TransportError,
    UnauthorizedError,
    UnavailableError,
    UnprocessableError,
)
from .trainer import Trainer, record_checkpoint, run_experiment, verified_checkpoint
from .types import (
    Candidate,
    Checkpoint,
    Done,
    Event,
    ExperimentStatus,
    FullValidation,
    FullValidationQuestion,
    Lease,
    Reward,
    SearchResult,
    Told,
    TrainStep,
    ValidationBatchQuestion,
)

__version__ = "0.1.0"
__all__ = [name for name in dir() if not name.startswith("_")]
