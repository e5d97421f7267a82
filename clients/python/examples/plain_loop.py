#!/usr/bin/env python3
"""A plain training loop against the mctnas service, written out step by step.

Takes the lease (heartbeats in the background), asks what is needed next, trains or evaluates,
tells the answer, until the experiment is done; the search runs over the same loop. Replace the
three marked functions with your PyTorch code. Kill it at any time and run it again with the
same --worker: it resumes where the service says the run stands (nothing is repeated).

    pip install ./clients/python        # standard library only, works offline
    MCTNAS_URL=http://127.0.0.1:3000 MCTNAS_API_TOKEN=... python3 plain_loop.py <experiment-id> --worker gpu-node-7
"""
import argparse
import math
import os
import socket

from mctnas_client import Client, Done, FullValidation, TrainStep, ValidationBatchQuestion


def train_step(architecture, step):
    """YOUR CODE: one supernet step on `architecture` (an op index per layer); returns the loss."""
    return 2.3 * math.exp(-step / 500) + 0.05 * sum(architecture) / len(architecture) + 0.01 * (step % 7)


def validation_batch_loss(architecture, batch):
    """YOUR CODE: the loss of `architecture` on validation batch `batch`."""
    return 1.0 + 0.02 * sum(architecture) / len(architecture)


def full_validation(architecture, recalibration_batches):
    """YOUR CODE: recalibrate BatchNorm on that many training batches, validate, restore weights."""
    top1 = 60.0 + 3.0 * sum(architecture) / len(architecture)
    return FullValidation(top1=top1, loss=1.0 - top1 / 100.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment")
    parser.add_argument("--worker", default=socket.gethostname(), help="a stable name: a restarted worker with the same name gets its lease back at once")
    parser.add_argument("--ttl-ms", type=int, default=30_000)
    args = parser.parse_args()

    client = Client.from_env()
    with client.lease(args.experiment, args.worker, args.ttl_ms, wait=args.ttl_ms / 1000 + 5) as lease:
        turn = client.ask(args.experiment, lease.lease_id)
        while not isinstance(turn, Done):
            lease.check()  # raises if another worker took the lease over
            if isinstance(turn, TrainStep):
                reward = client.tell(args.experiment, lease.lease_id, turn.step, train_step(turn.architecture, turn.step))
                if turn.step % 100 == 0:
                    print(f"step {turn.step} ({turn.phase}): loss {reward.loss:.4f}, reward {reward.reward:.4f}")
                turn = client.ask(args.experiment, lease.lease_id)
            elif isinstance(turn, ValidationBatchQuestion):
                turn = client.answer(args.experiment, lease.lease_id, turn, loss=validation_batch_loss(turn.architecture, turn.batch)).next
            else:
                result = full_validation(turn.architecture, turn.bn_recalibration_batches)
                print(f"candidate {turn.candidate} {turn.architecture}: top-1 {result.top1:.2f}%")
                turn = client.answer_full_validation(args.experiment, lease.lease_id, turn, result).next
    best = turn.result.best
    print(f"done: best {best.architecture} with top-1 {best.top1:.2f}%")


if __name__ == "__main__":
    main()
