"""Shared helpers: the service under test comes from MCTNAS_URL / MCTNAS_API_TOKEN (the node
harness test/clients/python-client.test.ts starts a real service and sets them)."""
from __future__ import annotations

import math
import os
import unittest
import uuid

from mctnas_client import Client, FullValidation

URL = os.environ.get("MCTNAS_URL")
TOKEN = os.environ.get("MCTNAS_API_TOKEN")


def client() -> Client:
    if not URL:
        raise unittest.SkipTest("MCTNAS_URL is not set (run through `npm test`, which starts the service)")
    return Client(URL, TOKEN, retries=3)


def small_run(name: str = "py", strategy: str = "hierarchical", candidates: int = 3) -> dict:
    """35 training steps (5 warm-up, 20 tree building, 10 MCT) and a search of `candidates`."""
    return {
        "name": f"{name}-{uuid.uuid4().hex[:6]}",
        "searchSpace": {"preset": "nas-bench-macro"},
        "schedule": {"stepsPerEpoch": 5, "warmupSteps": 5, "treeBuildingSteps": 20, "mctSteps": 10},
        "dataset": {"kind": "synthetic"},
        "search": {"strategy": strategy, "candidates": candidates},
        "seed": 7,
    }


def step_loss(architecture, step: int) -> float:
    """A deterministic loss with signal (higher op indices train better)."""
    return 2.3 - 0.06 * sum(architecture) + ((step * 7919) % 13) * 0.01


class FakeTrainer:
    """Deterministic answers for every question (what a real supernet would compute)."""

    def __init__(self, offset: float = 0.0):
        self.offset = offset
        self.steps = []
        self.questions = []

    def train_step(self, step):
        self.steps.append(step.step)
        return step_loss(step.architecture, step.step) + self.offset

    def validation_batch_loss(self, question):
        self.questions.append(question)
        return 1.0 + 0.01 * sum(question.architecture) + self.offset

    def full_validation(self, question):
        self.questions.append(question)
        top1 = 80.0 + sum(a * (i + 1) for i, a in enumerate(question.architecture)) / 10.0 + self.offset
        return FullValidation(top1=top1, loss=math.log(1 + top1 / 100.0), top5=None)
