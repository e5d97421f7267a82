"""The HTTP client: one method per endpoint, typed results, safe retries."""
from __future__ import annotations

import http.client
import json
import os
import random
import socket
import threading
import time
import urllib.parse
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

from .errors import ApiError, LeaseConflictError, MctnasError, TransportError, UnavailableError, error_for
from .types import Checkpoint, Event, ExperimentStatus, FullValidation, Lease, Question, Reward, Told, Turn, turn_of

_RETRYABLE_STATUS = {502, 503, 504}


class Client:
    """A client of one mctnas service.

    Every call that a trainer makes repeatedly is safe to retry, and is retried on connection
    errors and 502/503/504 with exponential backoff (``retries`` attempts, at most ``max_backoff``
    seconds apart): `ask` returns the pending step or question again, `tell` of a recorded step
    with the same loss returns the recorded reward (``duplicate=True``), the same worker
    re-acquiring its lease extends it. `create_experiment` is not retried once the request may
    have reached the server (it would create a second experiment).
    """

    def __init__(self, url: str, token: Optional[str] = None, *, timeout: float = 30.0, retries: int = 8, max_backoff: float = 5.0):
        parsed = urllib.parse.urlsplit(url.rstrip("/"))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"url must be http(s)://host[:port], got {url!r}")
        self.url = url.rstrip("/")
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port
        self._prefix = parsed.path
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.max_backoff = max_backoff

    @staticmethod
    def from_env(env: Mapping[str, str] = os.environ) -> "Client":
        """`MCTNAS_URL` (default http://127.0.0.1:3000) and `MCTNAS_API_TOKEN`."""
        return Client(env.get("MCTNAS_URL", "http://127.0.0.1:3000"), env.get("MCTNAS_API_TOKEN") or None)

    # -- transport ---------------------------------------------------------------------------

    def _connection(self, timeout: Optional[float]) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=timeout)

    def _headers(self, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if extra:
            headers.update(extra)
        return headers

    def request(self, method: str, path: str, body: Any = None, query: Optional[Mapping[str, Any]] = None, *, retry: bool = True) -> Any:
        """One JSON request; raises an `ApiError` subclass for an error answer."""
        target = self._prefix + path
        if query:
            items = {k: (",".join(map(str, v)) if isinstance(v, (list, tuple)) else v) for k, v in query.items() if v is not None}
            if items:
                target += "?" + urllib.parse.urlencode(items)
        # NaN and infinities are not JSON: a ValueError here, before anything is sent.
        payload = None if body is None else json.dumps(body, allow_nan=False).encode()
        headers = self._headers({"Content-Type": "application/json"} if payload is not None else None)
        attempts = self.retries if retry else 1
        last: Optional[BaseException] = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(self.max_backoff, 0.1 * 2 ** attempt) * (0.5 + random.random() / 2))
            connection = self._connection(self.timeout)
            try:
                connection.request(method, target, body=payload, headers=headers)
                response = connection.getresponse()
                raw = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:  # refused, reset, timeout
                last = error
                continue
            finally:
                connection.close()
            try:
                decoded = json.loads(raw) if raw else {}
            except ValueError as error:
                if status in _RETRYABLE_STATUS:
                    last = UnavailableError(status, {"message": raw[:200].decode(errors="replace")})
                    continue
                raise TransportError(f"{method} {path}: HTTP {status} with a body that is not JSON: {raw[:200]!r}") from error
            if status < 400:
                return decoded
            error = error_for(status, decoded if isinstance(decoded, dict) else {"message": decoded})
            if status in _RETRYABLE_STATUS:
                last = error
                continue
            raise error
        if isinstance(last, ApiError):
            raise last
        raise TransportError(f"{method} {path}: no answer after {attempts} attempt(s): {last}") from last

    # -- experiments -------------------------------------------------------------------------

    def health(self) -> Dict[str, Any]:
        return self.request("GET", "/health", retry=False)

    def create_experiment(self, config: Mapping[str, Any]) -> str:
        """Creates an experiment (the same JSON as `POST /experiments`); returns its id."""
        return self.request("POST", "/experiments", dict(config), retry=False)["id"]

    def list_experiments(self) -> List[Dict[str, Any]]:
        """Every experiment, oldest first (the API pages them: `after` = the previous page's `next`)."""
        experiments: List[Dict[str, Any]] = []
        after = 0
        while True:
            page = self.request("GET", "/experiments", query={"limit": 1000, "after": after})
            experiments.extend(page["experiments"])
            if page.get("next") is None:
                return experiments
            after = page["next"]

    def experiment(self, experiment_id: str, *, min_position: Optional[int] = None) -> ExperimentStatus:
        """Status, phase, step, newest checkpoint; with `min_position`, reflects at least that write."""
        return ExperimentStatus.of(self.request("GET", f"/experiments/{_q(experiment_id)}", query={"minPosition": min_position}))

    def pause(self, experiment_id: str, reason: Optional[str] = None) -> int:
        return self.request("POST", f"/experiments/{_q(experiment_id)}/pause", _drop_none({"reason": reason}))["position"]

    def resume(self, experiment_id: str, reason: Optional[str] = None) -> int:
        return self.request("POST", f"/experiments/{_q(experiment_id)}/resume", _drop_none({"reason": reason}))["position"]

    # -- the lease ---------------------------------------------------------------------------

    def acquire_lease(self, experiment_id: str, worker_id: str, ttl_ms: int = 30_000, *, wait: float = 0.0) -> Lease:
        """Takes the experiment's lease (the same worker re-acquiring extends it, so a restarted
        trainer with the same `worker_id` gets its lease back at once). With `wait` > 0, keeps
        trying for that many seconds while another worker holds it (an expired lease is taken
        over)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                return Lease.of(self.request("POST", f"/experiments/{_q(experiment_id)}/lease", {"workerId": worker_id, "ttlMs": ttl_ms}))
            except LeaseConflictError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))

    def heartbeat(self, experiment_id: str, lease_id: str) -> Lease:
        return Lease.of(self.request("POST", f"/experiments/{_q(experiment_id)}/lease/heartbeat", {"leaseId": lease_id}))

    def release_lease(self, experiment_id: str, lease_id: str) -> int:
        return self.request("DELETE", f"/experiments/{_q(experiment_id)}/lease/{_q(lease_id)}")["position"]

    def lease(self, experiment_id: str, worker_id: str, ttl_ms: int = 30_000, *, wait: float = 0.0, release: bool = True) -> "LeaseKeeper":
        """The lease with a background heartbeat (every ttl/3), as a context manager."""
        return LeaseKeeper(self, experiment_id, worker_id, ttl_ms, wait=wait, release=release)

    # -- ask / tell --------------------------------------------------------------------------

    def ask(self, experiment_id: str, lease_id: str, *, search: bool = True) -> Turn:
        """What the experiment needs next: a `TrainStep`, then (unless `search=False`) the
        search's `ValidationBatchQuestion`/`FullValidationQuestion`s, then `Done`."""
        body: Dict[str, Any] = {"leaseId": lease_id}
        if not search:
            body["search"] = False
        return turn_of(self.request("POST", f"/experiments/{_q(experiment_id)}/ask", body))

    def tell(self, experiment_id: str, lease_id: str, step: int, loss: float) -> Reward:
        """Records step `step`'s training loss (idempotent per step)."""
        return Reward.of(self.request("POST", f"/experiments/{_q(experiment_id)}/tell", {"leaseId": lease_id, "step": step, "loss": loss}))

    def answer(self, experiment_id: str, lease_id: str, question: Question, *, loss: float, top1: Optional[float] = None, top5: Optional[float] = None) -> Told:
        """Answers a search question: `loss` for a validation batch; `top1` (percent), `loss` and
        optionally `top5` for a full validation. Idempotent; returns the next turn."""
        body: Dict[str, Any] = {"leaseId": lease_id, "kind": question.kind, "searchId": question.search_id, "loss": loss}
        if question.kind == "validation-batch":
            body["evaluation"] = question.evaluation  # type: ignore[union-attr]
        else:
            if top1 is None:
                raise ValueError("a full-validation answer needs top1")
            body.update(candidate=question.candidate, top1=top1, top5=top5)  # type: ignore[union-attr]
        raw = self.request("POST", f"/experiments/{_q(experiment_id)}/search/tell", body)
        return Told(bool(raw["duplicate"]), int(raw["position"]), turn_of(raw["next"]))

    def answer_full_validation(self, experiment_id: str, lease_id: str, question: Question, result: FullValidation) -> Told:
        return self.answer(experiment_id, lease_id, question, loss=result.loss, top1=result.top1, top5=result.top5)

    # -- checkpoints -------------------------------------------------------------------------

    def record_checkpoint(self, experiment_id: str, lease_id: str, *, step: int, location: str, sha256: str, size: int, epoch: Optional[int] = None) -> Checkpoint:
        """Records weights saved after rewarded step `step` at `location` (a path every worker can
        read). Idempotent per step."""
        body = _drop_none({"leaseId": lease_id, "step": step, "location": location, "sha256": sha256, "size": size, "epoch": epoch})
        return Checkpoint.of(self.request("POST", f"/experiments/{_q(experiment_id)}/checkpoints", body))

    def checkpoints(self, experiment_id: str) -> List[Checkpoint]:
        return [Checkpoint.of(c) for c in self.request("GET", f"/experiments/{_q(experiment_id)}/checkpoints")["checkpoints"]]

    def rewarded_steps(self, experiment_id: str, *, after_step: int = -1) -> List[Dict[str, Any]]:
        """The rewarded training steps after `after_step` (`{step, architecture, loss}`), for
        re-training them after loading a checkpoint (resume without appending anything)."""
        return [e.data for e in self.iter_events(experiment_id, types=["RewardRecorded"], from_step=after_step + 1)]

    # -- events ------------------------------------------------------------------------------

    def events(self, experiment_id: str, *, types: Optional[Sequence[str]] = None, from_step: Optional[int] = None, to_step: Optional[int] = None, after: Optional[int] = None, limit: Optional[int] = None, min_position: Optional[int] = None) -> Dict[str, Any]:
        """One page of the history: `{"events": [Event...], "next": stream version or None}`."""
        raw = self.request(
            "GET",
            f"/experiments/{_q(experiment_id)}/events",
            query={"type": list(types) if types else None, "fromStep": from_step, "toStep": to_step, "after": after, "limit": limit, "minPosition": min_position},
        )
        return {"events": [Event.of(e) for e in raw["events"]], "next": raw.get("next")}

    def iter_events(self, experiment_id: str, **filters: Any) -> Iterator[Event]:
        """Every event of the history (paged), in order."""
        after = filters.pop("after", None)
        while True:
            page = self.events(experiment_id, after=after, limit=1000, **filters)
            yield from page["events"]
            if page["next"] is None:
                return
            after = page["next"]

    def stream_events(self, experiment_id: str, *, types: Optional[Sequence[str]] = None, last_event_id: Optional[str] = None, reconnect: bool = True, read_timeout: Optional[float] = None) -> Iterator[Event]:
        """Live events (server-sent events): the history after `last_event_id` (from the start
        when None), then each event as it is appended. On a dropped connection it reconnects with
        the last id received (no gap, no duplicate) unless `reconnect` is False. Stop by breaking
        out of the loop (or closing the generator)."""
        path = f"{self._prefix}/experiments/{_q(experiment_id)}/events/stream"
        if types:
            path += "?" + urllib.parse.urlencode({"type": ",".join(types)})
        failures = 0
        while True:
            headers = self._headers({"Accept": "text/event-stream"})
            if last_event_id:
                headers["Last-Event-ID"] = last_event_id
            connection = self._connection(read_timeout)
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                if response.status != 200:
                    raw = response.read()
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = {"message": raw[:200].decode(errors="replace")}
                    error = error_for(response.status, body)
                    if response.status not in _RETRYABLE_STATUS:
                        raise error
                    raise ConnectionError(str(error))
                failures = 0
                for message_id, data in _sse_messages(response):
                    event = Event.of(json.loads(data))
                    last_event_id = message_id or event.checkpoint
                    yield event
                raise ConnectionError("the event stream ended")
            except (OSError, http.client.HTTPException, socket.timeout) as error:
                if not reconnect:
                    raise TransportError(f"event stream of {experiment_id}: {error}") from error
                failures += 1
                if failures > self.retries:
                    raise TransportError(f"event stream of {experiment_id}: {error} ({failures} reconnects)") from error
                time.sleep(min(self.max_backoff, 0.1 * 2 ** failures))
            finally:
                connection.close()


def _sse_messages(response: http.client.HTTPResponse) -> Iterator[tuple]:
    """(id, data) of each server-sent event message."""
    message_id: Optional[str] = None
    data: List[str] = []
    while True:
        line = response.readline()
        if not line:
            return
        text = line.decode("utf-8").rstrip("\r\n")
        if text == "":
            if data:
                yield message_id, "\n".join(data)
            message_id, data = None, []
        elif text.startswith(":"):
            continue
        else:
            name, _, value = text.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            elif name == "id":
                message_id = value


class LeaseKeeper:
    """Holds an experiment's lease and heartbeats it from a daemon thread every ttl/3.

    If a heartbeat is refused (the lease expired and another worker took over), `lost` is set
    and `check()` raises `LeaseConflictError`: stop training then. Leaving the `with` block
    releases the lease (unless `release=False`: a trainer that wants to keep it across a
    restart).
    """

    def __init__(self, client: Client, experiment_id: str, worker_id: str, ttl_ms: int, *, wait: float = 0.0, release: bool = True):
        self.client = client
        self.experiment_id = experiment_id
        self.worker_id = worker_id
        self.ttl_ms = ttl_ms
        self.wait = wait
        self.release = release
        self.lease: Optional[Lease] = None
        self.lost = threading.Event()
        self.error: Optional[BaseException] = None
        self.heartbeats = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    @property
    def lease_id(self) -> str:
        if self.lease is None:
            raise MctnasError("the lease is not held (use `with client.lease(...)`)")
        return self.lease.lease_id

    def __enter__(self) -> "LeaseKeeper":
        self.lease = self.client.acquire_lease(self.experiment_id, self.worker_id, self.ttl_ms, wait=self.wait)
        self._thread = threading.Thread(target=self._beat, name=f"mctnas-heartbeat-{self.experiment_id}", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl_ms / 3000.0):
            try:
                self.lease = self.client.heartbeat(self.experiment_id, self.lease_id)
                self.heartbeats += 1
            except LeaseConflictError as error:
                self.error = error
                self.lost.set()
                return
            except MctnasError as error:  # transient: the next beat tries again within the TTL
                self.error = error

    def check(self) -> None:
        """Raises when the lease was lost."""
        if self.lost.is_set():
            raise LeaseConflictError(409, {"code": "LeaseConflictError", "message": f"lease on {self.experiment_id} lost: {self.error}"})

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.client.timeout)
        if self.release and self.lease is not None and not self.lost.is_set():
            try:
                self.client.release_lease(self.experiment_id, self.lease.lease_id)
            except MctnasError:
                pass  # it expires by itself


def _q(segment: str) -> str:
    return urllib.parse.quote(str(segment), safe="")


def _drop_none(body: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}
