#!/usr/bin/env python3
"""An external trainer for the MCT-NAS service, using only the standard library.

It acquires the experiment's lease, then loops: ask for the next step's architecture, train
it (here a fake loss; replace `train_step` with your PyTorch step on the sampled path), tell
the loss, heartbeat well within the lease TTL. Every call is safe to retry: asking again
returns the same pending step, and telling a recorded step again with the same loss returns
the recorded reward without counting it twice. So a crashed trainer just restarts this script.

    MCTNAS_URL=http://127.0.0.1:3000 MCTNAS_API_TOKEN=... \
        python3 examples/external_trainer.py <experiment-id> [--worker NAME] [--steps N]
"""
import argparse
import json
import math
import os
import random
import socket
import sys
import time
import urllib.error
import urllib.request

URL = os.environ.get("MCTNAS_URL", "http://127.0.0.1:3000").rstrip("/")
TOKEN = os.environ.get("MCTNAS_API_TOKEN", "")
TTL_MS = 30_000


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body.get('code')}: {body.get('message')}")
        self.status = status
        self.body = body


def call(method, path, body=None, retries=5):
    """One JSON request; network errors and 5xx are retried (every call here is idempotent)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(URL + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {TOKEN}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for attempt in range(retries):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            payload = json.loads(error.read() or b"{}")
            if error.code < 500:
                raise ApiError(error.code, payload) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            pass
        time.sleep(min(2 ** attempt, 10))
    raise SystemExit(f"giving up on {method} {path} after {retries} attempts")


def train_step(step, architecture):
    """Stand-in for one supernet training step on `architecture` (one op index per layer)."""
    return 2.3 * math.exp(-step / 500) + 0.05 * sum(architecture) / len(architecture) + random.uniform(0, 0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment")
    parser.add_argument("--worker", default=f"{socket.gethostname()}-{os.getpid()}")
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps (default: until training is over)")
    args = parser.parse_args()
    base = f"/experiments/{args.experiment}"

    lease = call("POST", f"{base}/lease", {"workerId": args.worker, "ttlMs": TTL_MS})
    lease_id = lease["leaseId"]
    print(f"worker {args.worker} holds the lease until {lease['expiresAt']}")
    last_beat = time.monotonic()
    done = 0
    try:
        while args.steps is None or done < args.steps:
            if time.monotonic() - last_beat > TTL_MS / 3000:
                call("POST", f"{base}/lease/heartbeat", {"leaseId": lease_id})
                last_beat = time.monotonic()
            sample = call("POST", f"{base}/ask", {"leaseId": lease_id})
            if sample["done"]:
                print("training is over")
                break
            loss = train_step(sample["step"], sample["architecture"])
            reward = call("POST", f"{base}/tell", {"leaseId": lease_id, "step": sample["step"], "loss": loss})
            done += 1
            print(f"step {reward['step']:>6} [{sample['phase']}] arch {''.join(map(str, sample['architecture']))} "
                  f"loss {loss:.4f} Ltilde {reward['movingAverageLoss']:.4f} Q {reward['reward']:.4f}")
    except ApiError as error:
        # 409: the lease was lost (expired and taken over) or the experiment is paused/finished;
        # 422: a loss the service refuses (NaN, infinite, <= 0). Stop and let an operator look.
        print(error, file=sys.stderr)
        return 1
    finally:
        try:
            call("DELETE", f"{base}/lease/{lease_id}", retries=1)
        except (ApiError, SystemExit):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
