"""The store protocol over the run-history REST server (`tb-runhistory server`), with requests.

Every call retries connection errors, 5xx and 429 with exponential backoff until `timeout`
seconds have passed, then raises StoreError: the background writer keeps its points and tries
again later, so bounded buffering stays the writer's job. Writes of points carry a batch id
(`Idempotency-Key`) that the server remembers, so a retry after a lost response never
duplicates points; a write that failed is replayed with the same ids when the same batches
come back (which is what the writer does).

The wire format is `store/wire.py`, which the server imports too.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import threading
import time
import urllib.parse
import uuid
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import requests

from .._filter import RunFilter
from .._types import ChunkSummaries, ExperimentInfo, FileInfo, MetricHistory, MetricInfo, NewRun, Record, RecordBatch, RunInfo, ScalarBatch
from .._validate import check_file_name
from ..errors import ConflictError, InvalidArgumentError, RunHistoryError, StoreError, error_for_status
from . import wire
from ._base import Store
from ._pool import Pool
from .wire import (
    API_PREFIX,
    IDEMPOTENCY_HEADER,
    TOKEN_ENV,
    history_from_json,
    record_batch_json,
    record_from_json,
    scalar_batch_json,
    summaries_from_json,
)

DEFAULT_TIMEOUT = 30.0  # seconds one call may take, retries included
_CONNECT_TIMEOUT = 5.0  # seconds to open a connection, per attempt
_IDLE_SESSIONS = 8  # HTTP sessions kept between calls; concurrent calls beyond it open (and close) extras
_BACKOFF = (0.1, 2.0)  # seconds, first and longest wait between attempts
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REQUEST_BYTES = 8 << 20  # bytes of encoded points per write request (the server takes 64 MiB)
_POINT_BYTES = 32  # bytes per scalar point once base64 encoded (24 raw)
_BATCH_OVERHEAD = 512  # bytes of JSON around one batch


# -- client ----------------------------------------------------------------
@dataclasses.dataclass(eq=False)
class _Part:
    """One write request: pieces (batch, lo, hi) sent together under one batch id."""

    batch_id: str
    pieces: list[tuple[ScalarBatch | RecordBatch, int, int]]
    state: str = "new"  # new (unsent), done, unknown (no answer), failed (refused)


class HttpStore(Store):
    """A store behind `tb-runhistory server` at `url` (http:// or https://)."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = DEFAULT_TIMEOUT, create: bool = True) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidArgumentError(f"store URL {url!r} must look like http://host:port")
        # No credentials in the URI we show; the token travels only in the Authorization header.
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        netloc += f":{parts.port}" if parts.port else ""
        self.uri = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self._base = self.uri + API_PREFIX
        self._token = token if token is not None else os.environ.get(TOKEN_ENV) or None
        self.timeout = float(timeout)
        self._write_lock = threading.Lock()
        self._progress: dict[int, tuple[weakref.ref, list[_Part]]] = {}  # id(batch) -> requests of a failed call
        # Sessions (each with keep-alive sockets) are pooled, not kept per thread: servers run each request on a new thread.
        self._sessions: Pool[requests.Session] = Pool(self._new_session, requests.Session.close, idle=_IDLE_SESSIONS, name=self.uri)

    # -- transport ---------------------------------------------------------

    @property
    def token(self) -> str | None:
        """The bearer token this client sends (so a launched TensorBoard can be given it)."""
        return self._token

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.headers["User-Agent"] = "tb-runhistory"
        if self._token:
            session.headers["Authorization"] = f"Bearer {self._token}"
        return session

    def _session_request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        session = self._sessions.take()
        broken = True
        try:
            resp = session.request(method, url, **kwargs)
            broken = False
            return resp
        finally:
            self._sessions.give(session, broken=broken)

    def _request(
        self, method: str, path: str, *, params: Any = None, body: Any = None, data: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> requests.Response:
        """Send with retries. An error answer to a retry carries `after_retry = True`: an earlier
        attempt may have been applied (a 409 then often means "already done by us")."""
        url = self._base + path
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers = {**(headers or {}), "Content-Type": "application/json"}
        deadline = time.monotonic() + self.timeout
        delay, attempt, last = _BACKOFF[0], 0, "no attempt"
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            try:
                resp = self._session_request(
                    method, url, params=params, data=data, headers=headers, timeout=(min(_CONNECT_TIMEOUT, max(remaining, 0.5)), max(remaining, 0.5))
                )
            except requests.RequestException as exc:
                # Name the failure, not the request: the exception text never includes our headers.
                last = f"{type(exc).__name__}: {exc}"
                wait = delay
            else:
                if resp.status_code < 400:
                    return resp
                if resp.status_code not in _RETRY_STATUSES:
                    error = self._error(resp)
                    error.after_retry = attempt > 1  # type: ignore[attr-defined]
                    raise error
                last = f"HTTP {resp.status_code}: {_message(resp)}"
                wait = _retry_after(resp, delay)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StoreError(f"run history server {self.uri} gave no answer to {method} {path} within {self.timeout:.0f} s: {last}")
            time.sleep(min(wait * random.uniform(0.8, 1.2), remaining))
            delay = min(delay * 2, _BACKOFF[1])

    def _error(self, resp: requests.Response) -> RunHistoryError:
        message = _message(resp)
        if resp.status_code in (401, 403):
            # Keep the writer's points (StoreError) and say how to fix it; a token cannot fix itself.
            return StoreError(f"run history server {self.uri} refused the request ({resp.status_code}): {message}; set token= or ${TOKEN_ENV}")
        return error_for_status(resp.status_code, message)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self._request(method, path, **kwargs)
        try:
            return resp.json()
        except ValueError as exc:  # a proxy's HTML page, a cut-off body: not our server's answer
            raise StoreError(f"run history server {self.uri} answered {method} {path} with a body that is not JSON: {exc}") from None

    def close(self) -> None:
        """Close the HTTP sessions."""
        self._sessions.close()

    # -- experiments -------------------------------------------------------
    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        return ExperimentInfo(**self._json("POST", "/experiments", body={"name": name}))

    def get_experiment(self, name_or_id: str) -> ExperimentInfo:
        return ExperimentInfo(**self._json("GET", f"/experiments/{_seg(name_or_id)}"))

    def list_experiments(self) -> list[ExperimentInfo]:
        return [ExperimentInfo(**e) for e in self._json("GET", "/experiments")]

    # -- runs --------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        *,
        run_id: str,
        display_name: str,
        parent_id: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, Any] | None = None,
        start_time: float,
        logs_dir: str | None = None,
        run_type: str | None = None,
    ) -> RunInfo:
        new = NewRun(run_id, display_name, start_time, parent_id, description, dict(tags or {}), dict(properties or {}), logs_dir, run_type)
        try:
            return RunInfo(**self._json("POST", f"/experiments/{_seg(experiment_id)}/runs", body=_new_run_json(new)))
        except ConflictError as exc:
            # A retry after a lost response finds the run our first attempt created.
            existing = self._maybe_own_run(run_id, experiment_id, start_time) if getattr(exc, "after_retry", False) else None
            if existing is None:
                raise
            return existing

    def create_runs(self, experiment_id: str, runs: Sequence[NewRun]) -> list[RunInfo]:
        news = list(runs)
        if not news:
            return []
        try:
            answer = self._json("POST", f"/experiments/{_seg(experiment_id)}/runs/batch", body={"runs": [_new_run_json(new) for new in news]})
            return [RunInfo(**r) for r in answer]
        except ConflictError as exc:
            # A retry after a lost response finds every run our first attempt created (all or none).
            if getattr(exc, "after_retry", False):
                found = [self._maybe_own_run(new.run_id, experiment_id, new.start_time) for new in news]
                if all(found):
                    return [info for info in found if info is not None]
            raise

    def _maybe_own_run(self, run_id: str, experiment_id: str, start_time: float) -> RunInfo | None:
        try:
            info = self.get_run(run_id)
        except RunHistoryError:
            return None
        return info if info.experiment_id == experiment_id and info.start_time == start_time and not info.is_terminal else None

    def get_run(self, run_id: str) -> RunInfo:
        return RunInfo(**self._json("GET", f"/runs/{_seg(run_id)}"))

    def list_runs(self, experiment_id: str, filter: RunFilter | None = None, *, limit: int | None = None, offset: int = 0) -> list[RunInfo]:
        params = wire.filter_params(filter)
        if limit is not None:
            params["limit"] = int(limit)
        if offset:
            params["offset"] = int(offset)
        return [RunInfo(**r) for r in self._json("GET", f"/experiments/{_seg(experiment_id)}/runs", params=params)]

    def count_runs(self, experiment_id: str, filter: RunFilter | None = None) -> int:
        return self._json("GET", f"/experiments/{_seg(experiment_id)}/runs/count", params=wire.filter_params(filter))["count"]

    def list_descendants(self, run_id: str) -> list[RunInfo]:
        return [RunInfo(**r) for r in self._json("GET", f"/runs/{_seg(run_id)}/descendants")]

    def set_run_status(
        self,
        run_id: str,
        status: str,
        *,
        end_time: float | None = None,
        error: str | None = None,
        traceback: str | None = None,
        error_code: str | None = None,
    ) -> RunInfo:
        body = {"status": str(status), "end_time": end_time, "error": error, "traceback": traceback, "error_code": error_code}
        try:
            return RunInfo(**self._json("POST", f"/runs/{_seg(run_id)}/status", body=body))
        except ConflictError as exc:
            # A retry after a lost response finds the run already ended by our first attempt.
            if getattr(exc, "after_retry", False):
                info = self.get_run(run_id)
                if info.status == status and (end_time is None or info.end_time == end_time) and info.error == error:
                    return info
            raise

    def heartbeat(self, run_ids: Sequence[str], time: float) -> None:
        if run_ids:
            self._request("POST", "/heartbeats", body={"run_ids": list(run_ids), "time": time})

    def set_logs_dir(self, run_id: str, logs_dir: str | None) -> None:
        self._request("POST", f"/runs/{_seg(run_id)}/logs-dir", body={"logs_dir": logs_dir})

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        self._request("POST", f"/runs/{_seg(run_id)}/tags", body={"tags": dict(tags)})

    def remove_tags(self, run_id: str, keys: Sequence[str]) -> None:
        self._request("POST", f"/runs/{_seg(run_id)}/tags/remove", body={"keys": list(keys)})

    def add_properties(self, run_id: str, properties: Mapping[str, Any]) -> None:
        self._request("POST", f"/runs/{_seg(run_id)}/properties", body={"properties": dict(properties)})

    def add_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        self._request("POST", f"/runs/{_seg(run_id)}/params", body={"params": dict(params)})

    # -- metrics -----------------------------------------------------------

    def write_metrics(self, scalars: Sequence[ScalarBatch] = (), records: Sequence[RecordBatch] = (), *, batch_id: str | None = None) -> None:
        """Upload points in requests of at most ~8 MiB, each applied once however often it is retried.

        Atomic per request, not per call once a call needs several requests. After a failed call,
        passing the same batch objects again (as the background writer does, whole or one by one)
        skips the requests that succeeded and resends unanswered ones under their first batch ids.
        """
        items: list[ScalarBatch | RecordBatch] = [b for b in scalars if len(b.steps)] + [b for b in records if b.records]
        with self._write_lock:
            parts = self._plan(items, batch_id)
            try:
                for part in parts:
                    self._send(part)
            except BaseException:
                self._remember(items, parts)
                raise
            self._remember(items, [])

    def _remember(self, items: list[ScalarBatch | RecordBatch], parts: list[_Part]) -> None:
        """Keep, per batch object of a failed call, the requests that carried it (weakly: dropped batches are forgotten)."""
        self._progress = {k: v for k, v in self._progress.items() if v[0]() is not None}
        for batch in items:
            mine = [p for p in parts if any(b is batch for b, _, _ in p.pieces)]
            if mine:
                self._progress[id(batch)] = (weakref.ref(batch), mine)
            else:
                self._progress.pop(id(batch), None)

    def _plan(self, items: list[ScalarBatch | RecordBatch], batch_id: str | None) -> list[_Part]:
        present = {id(b) for b in items}
        replay: list[_Part] = []
        pieces: list[tuple[Any, int, int]] = []
        for batch in items:
            ref, previous = self._progress.get(id(batch), (None, []))
            if ref is None or ref() is not batch:
                pieces.append((batch, 0, len(batch.steps) if isinstance(batch, ScalarBatch) else len(batch.records)))
                continue
            for part in previous:
                if part.state == "done":
                    continue
                if part.state in ("new", "unknown") and all(id(b) in present for b, _, _ in part.pieces):
                    if not any(p is part for p in replay):
                        replay.append(part)  # exactly as before, under the same batch id
                else:
                    pieces += [piece for piece in part.pieces if piece[0] is batch]
        fresh = _pack(pieces)
        for i, part in enumerate(fresh):
            part.batch_id = f"{batch_id}.{i}" if batch_id is not None else uuid.uuid4().hex
        return replay + fresh

    def _send(self, part: _Part) -> None:
        body: dict[str, list] = {"scalars": [], "records": []}
        for batch, lo, hi in part.pieces:
            if isinstance(batch, ScalarBatch):
                body["scalars"].append(scalar_batch_json(batch, lo, hi))
            else:
                body["records"].append(record_batch_json(batch, lo, hi))
        try:
            self._request("POST", "/metrics", body=body, headers={IDEMPOTENCY_HEADER: part.batch_id})
        except StoreError:
            part.state = "unknown"
            raise
        except BaseException:
            part.state = "failed"
            raise
        part.state = "done"

    def list_metrics(self, run_id: str) -> list[MetricInfo]:
        return [MetricInfo(**m) for m in self._json("GET", f"/runs/{_seg(run_id)}/metrics")]

    def last_values(self, run_ids: Sequence[str]) -> dict[str, list[MetricInfo]]:
        found = self._json("POST", "/last-values", body={"run_ids": list(run_ids)})
        return {run_id: [MetricInfo(**m) for m in infos] for run_id, infos in found.items()}

    def read_scalars(self, run_id: str, name: str, *, start: int = 0, stop: int | None = None) -> MetricHistory:
        params = {"name": name, "start": start, **({} if stop is None else {"stop": stop})}
        return history_from_json(self._json("GET", f"/runs/{_seg(run_id)}/scalars", params=params))

    def read_summaries(self, run_id: str, name: str) -> ChunkSummaries:
        return summaries_from_json(self._json("GET", f"/runs/{_seg(run_id)}/summaries", params={"name": name}))

    def read_records(self, run_id: str, name: str, *, start: int = 0, stop: int | None = None) -> list[Record]:
        params = {"name": name, "start": start, **({} if stop is None else {"stop": stop})}
        return [record_from_json(r) for r in self._json("GET", f"/runs/{_seg(run_id)}/records", params=params)]

    # -- files -------------------------------------------------------------
    def put_file(self, run_id: str, name: str, data: bytes) -> FileInfo:
        check_file_name(name)
        headers = {"Content-Type": "application/octet-stream"}
        return FileInfo(**self._json("PUT", f"/runs/{_seg(run_id)}/files/{_path(name)}", data=bytes(data), headers=headers))

    def list_files(self, run_id: str) -> list[FileInfo]:
        return [FileInfo(**f) for f in self._json("GET", f"/runs/{_seg(run_id)}/files")]

    def read_file(self, run_id: str, name: str) -> bytes:
        check_file_name(name)
        return self._request("GET", f"/runs/{_seg(run_id)}/files/{_path(name)}").content


def _pack(pieces: list[tuple[Any, int, int]]) -> list[_Part]:
    """Group pieces into requests of about _REQUEST_BYTES, splitting pieces that are larger."""
    parts: list[_Part] = []
    current: list[tuple[Any, int, int]] = []
    size = 0
    for batch, lo, hi in pieces:
        while lo < hi:
            if isinstance(batch, ScalarBatch):
                room = max(1, (_REQUEST_BYTES - size - _BATCH_OVERHEAD) // _POINT_BYTES)
                take = min(hi - lo, room)
                cost = _BATCH_OVERHEAD + take * _POINT_BYTES
            else:
                take, cost = 0, _BATCH_OVERHEAD
                for record in batch.records[lo:hi]:
                    item = 96 + len(json.dumps(record.meta)) + (len(record.data) * 4 // 3 if record.data else 0)
                    if take and size + cost + item > _REQUEST_BYTES:
                        break
                    take, cost = take + 1, cost + item
            if current and size + cost > _REQUEST_BYTES:
                parts.append(_Part("", current))
                current, size = [], 0
                continue
            current.append((batch, lo, lo + take))
            size += cost
            lo += take
    if current:
        parts.append(_Part("", current))
    return parts


def _new_run_json(new: NewRun) -> dict[str, Any]:
    return {
        "run_id": new.run_id,
        "display_name": new.display_name,
        "parent_id": new.parent_id,
        "description": new.description,
        "tags": dict(new.tags),
        "properties": dict(new.properties),
        "start_time": new.start_time,
        "logs_dir": new.logs_dir,
        "run_type": new.run_type,
    }


def _seg(value: str) -> str:
    """One URL path segment; '.' and '..' are encoded so no HTTP layer resolves them as dot segments."""
    quoted = urllib.parse.quote(value, safe="")
    return quoted.replace(".", "%2E") if value in (".", "..") else quoted


def _path(name: str) -> str:
    """A '/'-separated file name as URL path segments (the server refuses '..' and '.' parts)."""
    return "/".join(_seg(part) for part in name.split("/"))


def _message(resp: requests.Response) -> str:
    try:
        return str(resp.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"{resp.status_code} {resp.reason}"


def _retry_after(resp: requests.Response, default: float) -> float:
    try:
        return min(float(resp.headers.get("Retry-After", default)), 30.0)
    except ValueError:
        return default
