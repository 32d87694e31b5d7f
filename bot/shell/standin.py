"""A local stand-in for Slack's Web API and response URLs.

An HTTP server on 127.0.0.1 (port 0 by default, so parallel runs never clash) that records
every call, answers the way Slack does (`ok`, `ts`, `channel`, `view.id`…) and can be told
to fail: 429 with Retry-After, 5xx, or `{"ok": false, "error": …}`. It can also enforce
Slack's chat.postMessage limits: one message per second per channel
(`channel_rate_per_second`) and, optionally, a workspace-wide cap
(`workspace_rate_per_second`: at most that many posts in any rolling second); both are
off by default and answer 429 with `Retry-After: 1` beyond the limit.

Files are uploaded the way files_upload_v2 does it: `files.getUploadURLExternal` answers an
`upload_url` on this server, a POST there stores the bytes, `files.completeUploadExternal`
records the file (`files`), refusing ids whose bytes never arrived. `fail("upload")`
makes the next POSTs of bytes answer an error status.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from bot.slack.scopes import BOT_SCOPES


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made: a Web API method or a post to a response_url."""

    method: str
    params: dict[str, Any]
    at: float
    status: int
    response: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None
    times: int


@dataclass
class StandinFile:
    """A file being uploaded (`data` once its bytes arrived), `completed` once completed."""

    id: str
    filename: str
    length: int
    alt_txt: str = ""
    title: str = ""
    data: bytes | None = None
    completed: bool = False
    channel: str | None = None
    thread_ts: str | None = None


@dataclass
class StandinUser:
    id: str
    name: str
    tz: str = "UTC"
    deleted: bool = False
    is_admin: bool = False
    email: str = ""  # what users.lookupByEmail finds the user by


class SlackStandin:
    """Records and answers Slack Web API calls. Use as a context manager or start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._calls: list[ApiCall] = []
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._stalls: dict[str, deque[float]] = defaultdict(deque)
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._file_ids = itertools.count(1)
        # Every upload begun, by file id (see `uploaded_files` for the completed ones).
        self.files: dict[str, StandinFile] = {}
        self.users: dict[str, StandinUser] = {}
        self.channels_without_bot: set[str] = set()
        # conversations.info answers channel_not_found for these.
        self.missing_channels: set[str] = set()
        # Sent as `x-oauth-scopes` on every Web API answer, as Slack does (None: no header).
        self.granted_scopes: list[str] | None = list(BOT_SCOPES)
        self.channel_rate_per_second: float | None = None
        self.workspace_rate_per_second: float | None = None
        self._last_post: dict[str, float] = {}
        # What chat.postMessage put in each channel, for conversations.history/replies.
        self.history: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._workspace_posts: deque[float] = deque()
        # Socket Mode: hands out the WebSocket URL apps.connections.open answers with (a new
        # one per call, like Slack); unset, the method answers ok without a URL.
        self.socket_mode_url: Callable[[], str] | None = None
        self._changed = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """Web API base URL to give the WebClient (ends in /api/)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    def response_url(self, key: str = "r") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/respond/{key}"

    def upload_url(self, file_id: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/upload/{file_id}"

    def uploaded_files(self) -> list[StandinFile]:
        """Files whose upload was completed, oldest first."""
        with self._lock:
            return [f for f in self.files.values() if f.completed]

    def start(self) -> SlackStandin:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SlackStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting -------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int | None = 1,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail (429, 5xx, or 200 with ok=false)."""
        with self._lock:
            self._failures[method].append(_Failure(status, error, retry_after, times))

    def stall(self, method: str, *, seconds: float, times: int = 1) -> None:
        """Carry out the next `times` calls of `method` but answer only after `seconds`.

        Like Slack under load: the message is posted, the caller times out waiting.
        """
        with self._lock:
            self._stalls[method].extend([seconds] * times)

    def _stall_of(self, method: str) -> float:
        with self._lock:
            queue = self._stalls.get(method)
            return queue.popleft() if queue else 0.0

    def add_user(self, user_id: str, name: str, tz: str = "UTC", **kwargs: Any) -> None:
        self.users[user_id] = StandinUser(user_id, name, tz, **kwargs)

    def add_message(
        self, channel: str, *, text: str, user: str | None = None, **fields: Any
    ) -> str:
        """A message people wrote (not through the bot), for conversations.history/replies:
        `thread_ts` makes it a reply, `bot_id`, `edited`, `files`, `user_team` shape it as
        Slack does. `text` is given as Slack sends it (entity-escaped). Its ts."""
        ts = str(fields.pop("ts", None) or self._next_ts())
        message: dict[str, Any] = {"type": "message", "ts": ts, "text": text, **fields}
        if user:
            message["user"] = user
        with self._lock:
            self.history[channel].append(message)
        return ts

    # -- inspection ------------------------------------------------------------------------
    def calls(self, method: str | None = None, *, ok_only: bool = True) -> list[ApiCall]:
        """Recorded calls, oldest first; failed (scripted) ones only with ok_only=False."""
        with self._lock:
            return [
                c
                for c in self._calls
                if (method is None or c.method == method) and (not ok_only or c.status == 200)
            ]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        """Block until at least `count` successful calls of `method` were recorded."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self._calls if c.method == method and c.status == 200]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} {method} call(s), saw {len(found)}")
                self._changed.wait(remaining)

    # -- answering -------------------------------------------------------------------------
    def _record(
        self,
        method: str,
        params: dict[str, Any],
        status: int,
        response: dict[str, Any] | None = None,
    ) -> None:
        with self._changed:
            self._calls.append(ApiCall(method, params, time.time(), status, response or {}))
            self._changed.notify_all()

    def _scripted_failure(self, method: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.popleft()
            return failure

    def _rate_limited(self, method: str, params: dict[str, Any]) -> bool:
        per_channel, workspace = self.channel_rate_per_second, self.workspace_rate_per_second
        if method != "chat.postMessage" or (per_channel is None and workspace is None):
            return False
        channel = str(params.get("channel", ""))
        now = time.monotonic()
        with self._lock:
            last = self._last_post.get(channel)
            if per_channel is not None and last is not None and now - last < 1.0 / per_channel:
                return True
            if workspace is not None:
                # A rolling window of one second (longer when the cap is below 1/s).
                window = max(1.0, 1.0 / workspace)
                posts = self._workspace_posts
                while posts and now - posts[0] >= window:
                    posts.popleft()
                if len(posts) >= max(1, int(workspace * window)):
                    return True
                posts.append(now)
            self._last_post[channel] = now
            return False

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        """(status, headers, json body) for one call; records it."""
        failure = self._scripted_failure(method)
        if failure is None and self._rate_limited(method, params):
            failure = _Failure(429, "ratelimited", 1, 1)
        if failure is not None:
            self._record(method, params, failure.status)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            if failure.status == 200:
                return 200, {}, {"ok": False, "error": failure.error}
            return failure.status, headers, {"ok": False, "error": failure.error}
        if (
            method in ("chat.postMessage", "conversations.history", "conversations.replies")
            and params.get("channel") in self.channels_without_bot
        ):
            self._record(method, params, 299)
            return 200, {}, {"ok": False, "error": "not_in_channel"}
        body = self._success(method, params)
        self._record(method, params, 200, body)
        return 200, {}, body

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _success(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if method == "chat.postMessage":
            if channel.startswith(("U", "W")):
                channel = "D" + channel[1:]
            ts = self._next_ts()
            message: dict[str, Any] = {
                "ts": ts,
                "text": params.get("text"),
                "blocks": params.get("blocks"),
            }
            metadata = params.get("metadata")
            if isinstance(metadata, str):
                with contextlib.suppress(json.JSONDecodeError):
                    metadata = json.loads(metadata)
            if metadata:
                message["metadata"] = metadata
            if params.get("thread_ts"):
                message["thread_ts"] = params.get("thread_ts")
            with self._lock:
                self.history[channel].append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method in ("conversations.history", "conversations.replies"):
            with self._lock:
                messages = list(self.history.get(channel, []))
            if method == "conversations.replies":
                # Slack takes the ts of the thread's parent or of any reply in it.
                asked = str(params.get("ts", ""))
                of = next((m for m in messages if m.get("ts") == asked), None)
                parent = str((of or {}).get("thread_ts") or asked)
                messages = [m for m in messages if m.get("thread_ts") == parent]
                if of is None and not messages:
                    return {"ok": False, "error": "thread_not_found"}
            else:
                # A thread's parent is in the history too; its replies are not.
                messages = [
                    m for m in messages if not m.get("thread_ts") or m.get("thread_ts") == m["ts"]
                ]
            if str(params.get("include_all_metadata", "")).lower() not in ("true", "1"):
                messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
            messages = _window(messages, params)
            return {"ok": True, "messages": list(reversed(messages)), "has_more": False}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.update":
            return {
                "ok": True,
                "channel": channel,
                "ts": params.get("ts"),
                "text": params.get("text"),
            }
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts", "")).replace(".", "")
            return {
                "ok": True,
                "channel": channel,
                "permalink": f"https://standin.slack.test/archives/{channel}/p{ts}",
            }
        if method in ("views.open", "views.push", "views.update", "views.publish"):
            view = params.get("view")
            if isinstance(view, str):
                view = json.loads(view)
            view_id = params.get("view_id") or f"V{next(self._views):08d}"
            return {"ok": True, "view": {**(view or {}), "id": view_id, "hash": "h"}}
        if method == "conversations.open":
            users = str(params.get("users", "")).split(",")[0]
            return {"ok": True, "channel": {"id": "D" + users[1:]}}
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {
                "ok": True,
                "user": {
                    "id": user.id,
                    "name": user.name,
                    "real_name": user.name,
                    "tz": user.tz,
                    "deleted": user.deleted,
                    "is_admin": user.is_admin,
                    "profile": {"display_name": user.name, "real_name": user.name},
                },
            }
        if method == "apps.connections.open" and self.socket_mode_url is not None:
            return {"ok": True, "url": self.socket_mode_url()}
        if method == "users.lookupByEmail":
            wanted = str(params.get("email", "")).lower()
            found = next((u for u in self.users.values() if u.email.lower() == wanted), None)
            if not wanted or found is None:
                return {"ok": False, "error": "users_not_found"}
            return {"ok": True, "user": {"id": found.id, "name": found.name, "tz": found.tz}}
        if method == "files.getUploadURLExternal":
            try:
                length = int(params.get("length") or 0)
            except (TypeError, ValueError):
                length = 0
            if not params.get("filename") or length <= 0:
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{next(self._file_ids):09d}"
            with self._lock:
                self.files[file_id] = StandinFile(
                    file_id, str(params["filename"]), length, str(params.get("alt_txt") or "")
                )
            return {"ok": True, "upload_url": self.upload_url(file_id), "file_id": file_id}
        if method == "files.completeUploadExternal":
            return self._complete_upload(params)
        if method == "auth.test":
            return {"ok": True, "team_id": "T0STANDIN", "user_id": "UBOT", "bot_id": "BBOT"}
        if method == "conversations.info":
            if channel in self.missing_channels:
                return {"ok": False, "error": "channel_not_found"}
            is_member = channel not in self.channels_without_bot
            return {
                "ok": True,
                "channel": {"id": channel, "name": channel.lower(), "is_member": is_member},
            }
        return {"ok": True}

    def scope_headers(self) -> dict[str, str]:
        scopes = self.granted_scopes
        return {} if scopes is None else {"x-oauth-scopes": ",".join(scopes)}

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("files")
        if isinstance(wanted, str):
            with contextlib.suppress(json.JSONDecodeError):
                wanted = json.loads(wanted)
        if not isinstance(wanted, list) or not wanted:
            return {"ok": False, "error": "invalid_arguments"}
        done = []
        with self._lock:
            for item in wanted:
                found = self.files.get(str((item or {}).get("id")))
                if found is None or found.data is None:
                    return {"ok": False, "error": "file_not_found"}
                done.append((found, str(item.get("title") or found.filename)))
            for found, title in done:
                found.title, found.completed = title, True
                found.channel = str(params.get("channel_id") or "") or None
                found.thread_ts = str(params.get("thread_ts") or "") or None
        return {
            "ok": True,
            "files": [
                {"id": f.id, "name": f.filename, "title": f.title, "mimetype": "image/png"}
                for f, _ in done
            ],
        }

    def receive_upload(self, file_id: str, data: bytes) -> tuple[int, str]:
        """The POST of a file's bytes to its upload URL: (status, body)."""
        failure = self._scripted_failure("upload")
        if failure is not None:
            self._record("upload", {"file_id": file_id}, failure.status)
            return failure.status, failure.error
        with self._lock:
            found = self.files.get(file_id)
            if found is not None and found.length == len(data):
                found.data = data
        status = 200 if found is not None and found.data is not None else 400
        self._record("upload", {"file_id": file_id, "bytes": len(data)}, status)
        return status, f"OK - {len(data)}" if status == 200 else "bad upload"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.path.startswith("/upload/"):
                    # A file's bytes, as files_upload_v2 sends them to the upload URL.
                    status, text = standin.receive_upload(
                        self.path[len("/upload/") :], self.rfile.read(length) if length else b""
                    )
                    data = text.encode("utf-8")
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                params = _parse(raw, self.headers.get("Content-Type", ""))
                if self.path.startswith("/api/"):
                    method = self.path[len("/api/") :].split("?")[0]
                    status, headers, body = standin.answer(method, params)
                    headers = {**standin.scope_headers(), **headers}
                    time.sleep(standin._stall_of(method))
                elif self.path.startswith("/respond/"):
                    standin._record("response_url", params, 200)
                    status, headers, body = 200, {}, {"ok": True}
                else:
                    status, headers, body = 404, {}, {"ok": False, "error": "unknown_path"}
                data = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                # Read methods (conversations.history, …) come as GET with a query string.
                path, _, query = self.path.partition("?")
                params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
                if path.startswith("/api/"):
                    status, headers, body = standin.answer(path[len("/api/") :], params)
                    headers = {**standin.scope_headers(), **headers}
                else:
                    status, headers, body = 404, {}, {"ok": False, "error": "unknown_path"}
                data = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep test and shell output clean

        return Handler


def _window(messages: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages between `oldest` and `latest` (`inclusive` as Slack reads it), the
    newest `limit` of them, when the call asked for a window with `latest`; else all."""
    latest = params.get("latest")
    if not latest:
        return messages
    inclusive = str(params.get("inclusive", "")).lower() in ("true", "1")
    oldest = float(params.get("oldest") or 0)
    kept = [
        m
        for m in messages
        if (float(m["ts"]) <= float(latest) if inclusive else float(m["ts"]) < float(latest))
        and (float(m["ts"]) >= oldest if inclusive else float(m["ts"]) > oldest)
    ]
    limit = int(params.get("limit") or 100)
    return sorted(kept, key=lambda m: float(m["ts"]))[-limit:]


def _parse(raw: str, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type or raw.lstrip().startswith("{"):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            return {"_raw": raw}
        return data if isinstance(data, dict) else {"_raw": data}
    params: dict[str, Any] = dict(parse_qsl(raw, keep_blank_values=True))
    for key in ("blocks", "view", "attachments"):
        if isinstance(params.get(key), str):
            with contextlib.suppress(json.JSONDecodeError):
                params[key] = json.loads(params[key])
    return params
