"""`opsloop shell`: the real app, a local Slack stand-in and a prompt — no Slack needed.

Type slash commands as in Slack (`/ops help`); the request is signed and dispatched through
the real Bolt app, and whatever the bot would post, say privately or open is printed.
Numbered elements can be clicked (`click 3`), modal fields filled (`set 2 Acme`) and
submitted (`submit`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import secrets
import shlex
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.engine import make_url

from bot.playbook.service import apply_playbook_if_changed, load_playbook_file
from bot.settings import load_settings
from bot.shell import payloads
from bot.shell.driver import Result, SlackDriver
from bot.shell.example import Person, people_in_playbook
from bot.shell.screen import BlockPrinter, Clickable, Field, Screen, slack_to_terminal
from bot.shell.standin import ApiCall, SlackStandin
from bot.slack.executor import TrackingExecutor
from bot.wiring import build_app, make_deps, make_sender, prepare_schema

SHELL_HELP = """\
Type what you would type in Slack, and more:
  /ops help                 any slash command, e.g. /feedback Acme: slow export nps:6
  click N [VALUE]           press element [N] (a user id as VALUE for user pickers)
  set N VALUE               fill modal field {N}; several values with commas
  submit | close            submit or close the open modal
  shortcut ID TEXT          run a message shortcut on a message saying TEXT (by U0OTHER)
  home                      open your App Home tab (KPI charts are written to a
                            folder, --charts DIR, and their paths printed)
  as USER | in CHANNEL      act as another user (an id or @name) / in another channel id
  people                    who @name means (the people the playbook names)
  help | quit
@name anywhere (e.g. /ops owner onboarding @dana) is sent as Slack sends a mention, <@U…>.
"""

# Not a credential: the stand-in accepts any token.
PLAYGROUND_TOKEN = "xoxb-playground"  # noqa: S105
# The workspace the playground plays in, and the channel commands are typed into.
PLAYGROUND_TEAM = "T0PLAYGROUND"
PLAYGROUND_CHANNEL = "C0GENERAL"

_QUIET_METHODS = {
    "auth.test",
    "users.info",
    "conversations.open",
    "chat.getPermalink",
    "files.getUploadURLExternal",
    "upload",
}

# `@dana`, `@tomas`, `@dana.okafor` — not an e-mail address or a `<@U…>` already written.
_HANDLE = re.compile(r"(?<![\w<@])@([A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)*)")


class PlaygroundShell:
    """The state of one playground session: the open modal and what can be clicked."""

    def __init__(
        self,
        driver: SlackDriver,
        out: TextIO,
        people: Sequence[Person] = (),
        charts_dir: Path | None = None,
    ) -> None:
        self.driver = driver
        self.out = out
        self.people = list(people)
        self._handles = {person.handle: person for person in self.people}
        # Where uploaded charts are written so they can be looked at (None: a temp folder).
        self.charts_dir = charts_dir
        self.clickables: dict[int, Clickable] = {}
        self._numbers = itertools.count(1)
        self.view: dict[str, Any] | None = None
        self.fields: list[Field] = []
        self.values: dict[str, dict[str, dict[str, Any]]] = {}
        self._message_ts = itertools.count(1)

    # -- output ----------------------------------------------------------------------------
    def say(self, line: str = "") -> None:
        print(line, file=self.out)

    def _print_blocks(
        self, title: str, text: str | None, blocks: list[dict[str, Any]], source: dict[str, Any]
    ) -> Screen:
        screen = Screen()
        printer = BlockPrinter(next(self._numbers))
        if blocks:
            printer.render(blocks, source, screen)
        elif text:
            screen.lines.extend("  " + line for line in slack_to_terminal(text).splitlines())
        self._numbers = itertools.count(printer.next_number)
        self.say(title)
        for line in screen.lines:
            self.say(line)
        for clickable in screen.clickables:
            self.clickables[clickable.number] = clickable
        return screen

    def show(self, result: Result, *, submitted: bool = False) -> None:
        if result.status == 401:
            self.say("! Slack would reject this request (bad signature).")
            return
        if result.status == 404:
            self.say("! No listener handles this (Slack would show 'dispatch_failed').")
            return
        if result.status >= 500:
            self.say(f"! The app answered HTTP {result.status}.")
        body = result.body if isinstance(result.body, dict) else {}
        if body.get("response_action") == "errors":
            self.say("! The modal shows errors:")
            for block_id, message in body.get("errors", {}).items():
                label = next((f.label for f in self.fields if f.block_id == block_id), block_id)
                self.say(f"    {label}: {message}")
        elif body.get("text") or body.get("blocks"):
            self._print_blocks(
                "[only you]", body.get("text"), body.get("blocks") or [], {"kind": "ephemeral"}
            )
        view_changed = False
        for call in result.calls:
            view_changed |= self._show_call(call)
        if body.get("response_action") in ("update", "push") and body.get("view"):
            self._open_view(body["view"], body["view"].get("id", self.view_id))
        elif body.get("response_action") == "clear" or (
            # A submission Slack accepted without a new view closes the modal, as in Slack.
            submitted and not view_changed and "response_action" not in body
        ):
            self._close_view()

    @property
    def view_id(self) -> str:
        return str((self.view or {}).get("id", "V0000001"))

    def _show_call(self, call: ApiCall) -> bool:
        params = call.params
        method = call.method
        blocks = params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if method == "response_url":
            if params.get("delete_original"):
                self.say("[only you] (message removed)")
                return False
            where = (
                "[only you, replacing the message]"
                if params.get("replace_original")
                else "[only you]"
            )
            self._print_blocks(where, params.get("text"), blocks, {"kind": "ephemeral"})
        elif method == "chat.postMessage":
            channel = str(call.response.get("channel", params.get("channel")))
            where = (
                f"[DM to {params.get('channel')}]" if channel.startswith("D") else f"[#{channel}]"
            )
            if params.get("thread_ts"):
                where += " (in thread)"
            message = {"ts": call.response.get("ts"), "text": params.get("text"), "blocks": blocks}
            self._print_blocks(
                where,
                params.get("text"),
                blocks,
                {"kind": "message", "channel": channel, "message": message},
            )
        elif method == "chat.update":
            message = {"ts": params.get("ts"), "text": params.get("text"), "blocks": blocks}
            self._print_blocks(
                f"[#{params.get('channel')}, message updated]",
                params.get("text"),
                blocks,
                {"kind": "message", "channel": params.get("channel"), "message": message},
            )
        elif method == "chat.postEphemeral":
            self._print_blocks(
                f"[only {params.get('user')} in #{params.get('channel')}]",
                params.get("text"),
                blocks,
                {"kind": "ephemeral"},
            )
        elif method in ("views.open", "views.push", "views.update"):
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            self._open_view(view or {}, str(call.response.get("view", {}).get("id", "V1")))
            return True
        elif method == "views.publish":
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            self._print_blocks(
                f"[App Home of {params.get('user_id')}]",
                None,
                (view or {}).get("blocks", []),
                {"kind": "home", "view": view},
            )
        elif method == "files.completeUploadExternal":
            self._save_uploads(call)
        elif method not in _QUIET_METHODS:
            self.say(f"· {method}")
        return False

    def _save_uploads(self, call: ApiCall) -> None:
        """Write each file Slack would now hold to the charts folder and say where."""
        if self.charts_dir is None:
            self.charts_dir = Path(tempfile.mkdtemp(prefix="opsloop-shell-charts-"))
        self.charts_dir.mkdir(parents=True, exist_ok=True)
        for uploaded in call.response.get("files") or []:
            stored = self.driver.standin.files.get(str(uploaded.get("id")))
            if stored is None or stored.data is None:
                continue
            path = self.charts_dir / f"{stored.id}-{Path(stored.filename).name}"
            path.write_bytes(stored.data)
            self.say(f"[file uploaded] {stored.title} → {path}")
            if stored.alt_txt:
                self.say(f"  {stored.alt_txt}")

    def _open_view(self, view: dict[str, Any], view_id: str) -> None:
        self.view = {**view, "id": view_id}
        title = view.get("title", {}).get("text", "")
        screen = self._print_blocks(
            f"[modal] {title}", None, view.get("blocks", []), {"kind": "view"}
        )
        self.fields = screen.fields
        self.values = {}
        for f in self.fields:
            self.values.setdefault(f.block_id, {})[f.element.get("action_id", "value")] = (
                _initial_state(f.element)
            )
        submit = (view.get("submit") or {}).get("text")
        if submit:
            self.say(f"  (set N VALUE to fill a field; `submit` to press '{submit}')")

    def _close_view(self) -> None:
        self.view = None
        self.fields = []
        self.values = {}

    # -- input -----------------------------------------------------------------------------
    def mentions(self, text: str) -> str:
        """`@dana` → `<@U05CSLEAD|dana>`, as Slack sends a mention typed in a command; an
        @word that names nobody stays as typed (Slack leaves it as text too)."""

        def mention(match: re.Match[str]) -> str:
            person = self._handles.get(match.group(1).lower())
            return f"<@{person.user_id}|{person.handle}>" if person else match.group(0)

        return _HANDLE.sub(mention, text)

    def user_id_of(self, word: str) -> str:
        """A user id typed as `@dana` or as the id itself."""
        person = self._handles.get(word.removeprefix("@").lower()) if word.startswith("@") else None
        return person.user_id if person else word

    def list_people(self) -> None:
        if not self.people:
            self.say("(nobody: the playbook names no one after a user id, e.g. U0123  # Dana)")
            return
        for person in self.people:
            self.say(f"  @{person.handle:<12} {person.user_id:<12} {person.name}")

    def handle(self, line: str) -> bool:
        """Run one line; False means quit."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            command, _, text = line.partition(" ")
            self.show(self.driver.command(command, self.mentions(text)))
            return True
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        verb, args = words[0].lower(), words[1:]
        if verb in ("quit", "exit"):
            return False
        if verb == "help":
            self.say(SHELL_HELP)
        elif verb == "people":
            self.list_people()
        elif verb == "click" and args and args[0].isdigit():
            self.click(int(args[0]), self.user_id_of(args[1]) if len(args) > 1 else None)
        elif verb == "set" and len(args) >= 2 and args[0].isdigit():
            self.set_field(int(args[0]), line.split(None, 2)[2])
        elif verb == "submit":
            self.submit()
        elif verb == "close":
            self._close_view()
            self.say("(modal closed)")
        elif verb == "shortcut" and args:
            text = line.split(None, 2)[2] if len(args) > 1 else ""
            ts = f"{1_690_000_000 + next(self._message_ts)}.000200"
            message = {"type": "message", "user": "U0OTHER", "text": text, "ts": ts}
            self.show(self.driver.message_shortcut(args[0], message))
        elif verb == "home":
            event = {
                "type": "app_home_opened",
                "user": self.driver.user_id,
                "tab": "home",
                "channel": "D" + self.driver.user_id[1:],
                "event_ts": "1.0",
            }
            self.show(self.driver.event(event))
        elif verb == "as" and args:
            self.driver.user_id = self.user_id_of(args[0])
            self.say(f"(you are now {self.driver.user_id})")
        elif verb == "in" and args:
            self.driver.channel_id = args[0].lstrip("#")
            self.say(f"(you are now in #{self.driver.channel_id})")
        else:
            self.say("? I did not understand that. Type `help`.")
        return True

    def click(self, number: int, value: str | None) -> None:
        clickable = self.clickables.get(number)
        if clickable is None:
            self.say(f"? There is no element [{number}].")
            return
        element, option, source = clickable.element, clickable.option, clickable.source
        action: dict[str, Any] = {
            "action_id": element.get("action_id", ""),
            "block_id": clickable.block_id,
            "type": element.get("type", "button"),
            "action_ts": "1.0",
        }
        kind = element.get("type")
        if kind == "button":
            if "value" in element:
                action["value"] = element["value"]
            action["text"] = element.get("text")
        elif kind == "checkboxes":
            selected = [o for o in element.get("initial_options") or []]
            values = {o.get("value") for o in selected}
            if option is not None and option.get("value") in values:
                selected = [o for o in selected if o.get("value") != option.get("value")]
            elif option is not None:
                selected.append(option)
            action["selected_options"] = selected
        elif kind in ("overflow", "static_select", "radio_buttons"):
            action["selected_option"] = option
        elif kind == "users_select":
            if not value:
                self.say("? Say which user: click N U123")
                return
            action["selected_user"] = value
        view = self.view if source.get("kind") == "view" else source.get("view")
        if view is not None and source.get("kind") == "view":
            view = {**view, "state": {"values": self.values}}
        result = self.driver.click(
            action["action_id"],
            action.get("value"),
            block_id=clickable.block_id,
            action_type=str(kind),
            message=source.get("message"),
            view=view,
            channel=source.get("channel"),
            extra=action,
        )
        self.show(result)

    def set_field(self, number: int, raw: str) -> None:
        field = next((f for f in self.fields if f.number == number), None)
        if field is None:
            self.say(f"? The open modal has no field {{{number}}}.")
            return
        element = field.element
        action_id = element.get("action_id", "value")
        kind = element.get("type")
        state: dict[str, Any]
        if kind == "plain_text_input":
            state = payloads.text_value(raw)
        elif kind == "number_input":
            state = {"type": "number_input", "value": raw}
        elif kind in ("static_select", "radio_buttons"):
            option = _find_option(element, raw)
            if option is None:
                self.say(f"? {raw!r} is not one of the options.")
                return
            state = {"type": kind, "selected_option": option}
        elif kind in ("multi_static_select", "checkboxes"):
            chosen = [_find_option(element, part.strip()) for part in raw.split(",")]
            if any(o is None for o in chosen):
                self.say("? Some of those are not options.")
                return
            state = {"type": kind, "selected_options": chosen}
        elif kind == "users_select":
            state = payloads.user_value(self.user_id_of(raw.strip()))
        elif kind == "datepicker":
            state = {"type": "datepicker", "selected_date": raw.strip()}
        else:
            state = {"type": kind, "value": raw}
        self.values.setdefault(field.block_id, {})[action_id] = state
        self.say(f"  {{{number}}} {field.label} = {raw}")

    def submit(self) -> None:
        if self.view is None:
            self.say("? No modal is open.")
            return
        result = self.driver.submit(
            str(self.view.get("callback_id", "")),
            self.values,
            private_metadata=str(self.view.get("private_metadata", "")),
            view_id=self.view_id,
        )
        self.show(result, submitted=True)


def _find_option(element: dict[str, Any], wanted: str) -> dict[str, Any] | None:
    options = element.get("options") or [
        o for g in element.get("option_groups", []) for o in g.get("options", [])
    ]
    # An option's value first, then its label, and only then its position: `set 3 2` on
    # the NPS select means the score 2, not the second option.
    for matches in (
        lambda index, option: option.get("value") == wanted,
        lambda index, option: option.get("text", {}).get("text", "") == wanted,
        lambda index, option: str(index) == wanted,
    ):
        for index, option in enumerate(options, start=1):
            if matches(index, option):
                return dict(option)
    return None


def _initial_state(element: dict[str, Any]) -> dict[str, Any]:
    kind = element.get("type")
    if kind == "plain_text_input":
        return payloads.text_value(element.get("initial_value"))
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": element.get("initial_option")}
    if kind in ("multi_static_select", "checkboxes"):
        return {"type": kind, "selected_options": element.get("initial_options") or []}
    if kind == "users_select":
        return payloads.user_value(element.get("initial_user"))
    if kind == "number_input":
        return {"type": kind, "value": element.get("initial_value")}
    if kind == "datepicker":
        return {"type": kind, "selected_date": element.get("initial_date")}
    return {"type": kind}


def reusable_database_url(database_url: str) -> str:
    """The URL to give `opsloop digest|nudge` from any folder: a relative SQLite path made
    absolute, a password hidden."""
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        if url.database and url.database != ":memory:" and not Path(url.database).is_absolute():
            url = url.set(database=str(Path(url.database).resolve()))
        return url.render_as_string(hide_password=False)
    return url.render_as_string(hide_password=True)


def _read_lines(stdin: TextIO, out: TextIO) -> Iterator[str]:
    """The lines typed or piped in. At a terminal they are read through `readline`: the
    terminal's own line editing (canonical mode) keeps at most 4,095 characters of a line
    and silently drops the rest of a long paste; readline reads the keys itself, so a paste
    of any length arrives whole (and the arrow keys recall earlier lines)."""
    if not (stdin is sys.stdin and stdin.isatty()):
        yield from iter(stdin.readline, "")
        return
    with contextlib.suppress(ImportError):  # not on Windows: the terminal's limit applies
        import readline

        readline.set_history_length(500)
    while True:
        try:
            yield input("opsloop> ") + "\n"
        except EOFError:
            out.write("\n")
            return
        except KeyboardInterrupt:
            out.write("\n(Ctrl-D or `quit` leaves the playground)\n")


def run_shell(
    *,
    database_url: str,
    user_id: str,
    playbook: Path | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    charts_dir: Path | None = None,
) -> None:
    """Start the stand-in and the real app on `database_url`, then read lines until EOF.

    With `playbook`, it is imported for the playground team first (again only when it
    changed) and the people it names are who `@name` means.
    """
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    signing_secret = secrets.token_hex(16)
    with SlackStandin() as standin:
        settings = load_settings(
            database_url=database_url,
            slack_api_url=standin.base_url,
            slack_signing_secret=signing_secret,
            slack_bot_token=PLAYGROUND_TOKEN,
        )
        deps = make_deps(settings)
        prepare_schema(deps)
        intro = [
            f"Opsloop playground: team {PLAYGROUND_TEAM}, channel #{PLAYGROUND_CHANNEL}, "
            f"you are {user_id}. No Slack: a local stand-in answers for it."
        ]
        people: list[Person] = []
        if playbook is not None:
            parsed = load_playbook_file(playbook)
            summary = apply_playbook_if_changed(
                deps.sessions, playbook=parsed, team_id=PLAYGROUND_TEAM, now=deps.clock()
            )
            people = people_in_playbook(playbook.read_text(encoding="utf-8"))
            for person in people:
                standin.add_user(person.user_id, person.name, tz=parsed.timezone or "UTC")
            kpis = ", ".join(kpi.key for kpi in parsed.kpis) or "none"
            templates = ", ".join(t.name for t in parsed.checklists) or "none"
            intro += [
                f"Playbook {playbook}: {summary.describe()}.",
                f"  KPIs: {kpis}. Checklist templates: {templates}.",
            ]
            admin = next((p for p in people if p.user_id in parsed.admins), None)
            if people:
                handles = " ".join(f"@{p.handle}" for p in people)
                hint = f"; `as @{admin.handle}` to act as an admin" if admin else ""
                intro.append(f"  People: {handles} (`people` lists them{hint}).")
        else:
            intro.append("No playbook: an empty team (`opsloop shell` without --empty has one).")
        intro += [
            f"Data in {database_url}. The same data from the command line:",
            f"  DATABASE_URL={reusable_database_url(database_url)} opsloop digest --dry-run",
            "Type `help` for the shell's verbs, or /ops help.",
        ]
        executor = TrackingExecutor(max_workers=4)
        app = build_app(deps, executor=executor)
        sender = make_sender(deps)
        driver = SlackDriver(
            app,
            standin,
            executor,
            signing_secret=signing_secret,
            team_id=PLAYGROUND_TEAM,
            user_id=user_id,
            channel_id=PLAYGROUND_CHANNEL,
            sender=sender,
        )
        shell = PlaygroundShell(driver, out, people, charts_dir)
        for line in intro:
            shell.say(line)
        echo = not (stdin is sys.stdin and stdin.isatty())
        for line in _read_lines(stdin, out):
            if echo:
                shell.say(f"opsloop> {line.rstrip()}")
            if not shell.handle(line):
                break
        executor.shutdown(wait=True)
        sender.stop()
        deps.engine.dispose()
