"""A trainer process the crash test kills with SIGKILL midway (slow steps, checkpoints)."""
import os
import sys
import time

from mctnas_client import Client, run_experiment

from tests.support import FakeTrainer


class SlowTrainer(FakeTrainer):
    def train_step(self, step):
        time.sleep(0.05)
        return super().train_step(step)


def main() -> None:
    experiment, worker, directory = sys.argv[1:4]
    client = Client(os.environ["MCTNAS_URL"], os.environ.get("MCTNAS_API_TOKEN"))

    def save(step: int) -> str:
        path = os.path.join(directory, f"ckpt-{step}.bin")
        with open(path, "wb") as handle:
            handle.write(f"weights after {step}".encode())
        return path

    run_experiment(client, experiment, SlowTrainer(), worker_id=worker, ttl_ms=60_000, checkpoint_every=5, save_checkpoint=save)


if __name__ == "__main__":
    main()
