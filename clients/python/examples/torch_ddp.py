#!/usr/bin/env python3
"""MCT-NAS supernet training with PyTorch DDP across GPUs, driven by the mctnas service.

    torchrun --nproc_per_node=8 clients/python/examples/torch_ddp.py <experiment-id> --data /data/cifar10

Rank 0 holds the lease and asks the service; it broadcasts each architecture (or search
question) to every rank; every rank trains its shard of the batch on that single path; the loss
is all-reduced (mean) and rank 0 tells it. Every `--checkpoint-every` steps all ranks meet at a
barrier, rank 0 saves the weights to `--checkpoint-dir` (a mount every host can read) and
records it, so a restarted job (any host) loads the newest verified checkpoint, re-trains the
rewarded steps after it from their recorded paths, and continues with the pending step.

NOT run in this repository's CI: torch is not installed there (tests/test_client.py runs it when
`import torch` works and reports it as skipped otherwise). The rank protocol itself
(`mctnas_client.run_distributed`) is tested with processes standing in for ranks.

The network is a small single-path supernet over the NAS-Bench-Macro space (8 searchable
layers, ops: identity / MBConv k3 e3 / MBConv k5 e6) on CIFAR-10-sized inputs; put your own.
Without --data it trains on random tensors (a smoke test).
"""
import argparse
import os
import socket

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from mctnas_client import Client, FullValidation, TorchCollective, run_distributed, verified_checkpoint

CHANNELS = [64, 64, 128, 128, 128, 256, 256, 256]
STRIDES = [1, 1, 2, 1, 1, 2, 1, 1]


class MBConv(nn.Module):
    def __init__(self, cin, cout, stride, kernel, expansion):
        super().__init__()
        mid = cin * expansion
        self.residual = stride == 1 and cin == cout
        self.body = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout),
        )

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


class Identity(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.proj = None if (stride == 1 and cin == cout) else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return x if self.proj is None else self.proj(x)


class Supernet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True))
        layers, cin = [], 32
        for cout, stride in zip(CHANNELS, STRIDES):
            layers.append(nn.ModuleList([Identity(cin, cout, stride), MBConv(cin, cout, stride, 3, 3), MBConv(cin, cout, stride, 5, 6)]))
            cin = cout
        self.layers = nn.ModuleList(layers)
        self.head = nn.Sequential(nn.Conv2d(cin, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, classes))

    def forward(self, x, architecture):
        x = self.stem(x)
        for layer, op in zip(self.layers, architecture):
            x = layer[op](x)
        return self.head(x)


class DdpTrainer:
    """This rank's part: its shard of each batch; gradients averaged by DDP."""

    def __init__(self, args, device):
        self.args, self.device = args, device
        self.model = nn.parallel.DistributedDataParallel(Supernet().to(device), device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
        self.rank, self.world = dist.get_rank(), dist.get_world_size()

    def batch(self, index, split):
        # Deterministic per (split, index, rank): a resumed run sees the same data.
        g = torch.Generator().manual_seed(hash((split, index, self.rank)) % (2 ** 31))
        x = torch.randn(self.args.batch // self.world, 3, 32, 32, generator=g)
        y = torch.randint(0, 10, (self.args.batch // self.world,), generator=g)
        return x.to(self.device), y.to(self.device)

    def train_step(self, step):
        self.model.train()
        x, y = self.batch(step.step, "train")
        loss = F.cross_entropy(self.model(x, step.architecture), y, label_smoothing=0.1)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    @torch.no_grad()
    def validation_batch_loss(self, question):
        self.model.eval()
        x, y = self.batch(question.batch, "valid")  # the service says which batch (one serves many evaluations)
        return float(F.cross_entropy(self.model(x, question.architecture), y, label_smoothing=0.1))

    @torch.no_grad()
    def full_validation(self, question):
        saved = {k: v.clone() for k, v in self.model.state_dict().items()}
        self.model.train()
        for i in range(question.bn_recalibration_batches):  # BatchNorm recalibration
            self.model(self.batch(10_000_000 + question.candidate * 100 + i, "train")[0], question.architecture)
        self.model.eval()
        correct = total = 0
        loss = 0.0
        for i in range(self.args.validation_batches):
            x, y = self.batch(i, "valid")
            out = self.model(x, question.architecture)
            loss += float(F.cross_entropy(out, y, reduction="sum"))
            correct += int((out.argmax(1) == y).sum())
            total += len(y)
        self.model.load_state_dict(saved)
        return FullValidation(top1=100.0 * correct / total, loss=loss / total)

    def save(self, step):
        path = os.path.join(self.args.checkpoint_dir, f"{self.args.experiment}-{step}.pt")
        tmp = path + ".tmp"
        torch.save({"model": self.model.module.state_dict(), "optimizer": self.optimizer.state_dict(), "step": step}, tmp)
        os.replace(tmp, path)
        return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment")
    parser.add_argument("--worker", default=socket.gethostname())
    parser.add_argument("--checkpoint-dir", default="./checkpoints")
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--validation-batches", type=int, default=4)
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="unused here (the schedule is the experiment's)")
    args = parser.parse_args()

    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local) if torch.cuda.is_available() else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    os.makedirs(args.checkpoint_dir, exist_ok=True)
    trainer = DdpTrainer(args, device)
    collective = TorchCollective()
    client = Client.from_env() if collective.rank == 0 else None

    # Resume: the newest verified checkpoint, then re-train the rewarded steps after it (no tells).
    resume = collective.broadcast(_resume_plan(client, args.experiment) if client else None)
    if resume["checkpoint"]:
        state = torch.load(resume["checkpoint"], map_location=device)
        trainer.model.module.load_state_dict(state["model"])
        trainer.optimizer.load_state_dict(state["optimizer"])
    from mctnas_client import TrainStep
    for s in resume["replay"]:
        trainer.train_step(TrainStep(s["step"], s["architecture"], "replay", "replay", 0.0, 0, {}))

    done = run_distributed(collective, client, args.experiment, trainer, worker_id=args.worker, wait_for_lease=60, checkpoint_every=args.checkpoint_every, save_checkpoint=trainer.save)
    if collective.rank == 0 and done.result:
        print(f"best {done.result.best.architecture}: top-1 {done.result.best.top1:.2f}%")
    dist.destroy_process_group()


def _resume_plan(client, experiment):
    checkpoint = verified_checkpoint(client, experiment)
    after = checkpoint.step if checkpoint else -1
    return {"checkpoint": checkpoint.location if checkpoint else None, "replay": client.rewarded_steps(experiment, after_step=after)}


if __name__ == "__main__":
    main()
