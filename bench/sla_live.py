"""`python -m bench.sla_live`: SLA clocks live, from outside, in real time (about 3 minutes).

Starts the Web API stand-in, `opsloop serve` and `opsloop scheduler` on a fresh SQLite file
with a playbook whose SEV1 acknowledgement promise is one minute, raises a SEV1 through a
signed modal submission, and prints how long after the deadline the owner's DM and the
*breached* message update arrived; then waits one more tick and prints how many breach DMs
and thread notes there are (one each).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.servers import free_port
from bot.shell import payloads
from bot.shell.standin import SlackStandin

SECRET = "bench-signing-secret"
TEAM = "T0STANDIN"  # the stand-in's auth.test workspace: where the playbook is imported
OWNER = "U0OWNER"
PLAYBOOK = """\
timezone: UTC
channels:
  escalations: C0ESC
admins: [U0ADMIN]
processes:
  - key: escalations
    name: Escalation handling
    owner: U0PROC
severity_slas:
  sev1: {ack_minutes: 1, resolve_minutes: 60}
"""


def _new_sev1() -> str:
    values = {
        "title": {"value": payloads.text_value("Checkout down")},
        "customer": {"value": payloads.text_value("Acme")},
        "severity": {"value": payloads.select_value("sev1")},
        "description": {"value": payloads.text_value("All card payments fail.")},
        "owner": {"value": payloads.user_value(OWNER)},
        "link": {"value": {"type": "url_text_input", "value": None}},
    }
    return payloads.view_submission(
        callback_id="escalation.new_form",
        values=values,
        team_id=TEAM,
        user_id="U0REPORTER",
        private_metadata="{}",
    )


def _wait_healthy(port: int) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("opsloop serve did not start")


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="opsloop-sla-"))
    (workdir / "playbook.yaml").write_text(PLAYBOOK, encoding="utf-8")
    standin = SlackStandin().start()
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": standin.base_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'opsloop.db'}",
        "OPSLOOP_PLAYBOOK": str(workdir / "playbook.yaml"),
        "OPSLOOP_TIMEZONE": "UTC",
    }
    subprocess.run(["opsloop", "migrate"], env=env, check=True)
    processes = [subprocess.Popen(["opsloop", "serve", "--port", str(port)], env=env)]
    try:
        _wait_healthy(port)
        body = _new_sev1()
        headers = payloads.signed_headers(SECRET, body, content_type=payloads.FORM)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/slack/events", data=body.encode(), headers=headers
        )
        opened = time.time()
        with urllib.request.urlopen(request, timeout=10) as answer:
            print("escalation submitted:", answer.status)
        processes.append(subprocess.Popen(["opsloop", "scheduler"], env=env))
        deadline = opened + 60
        told = breached = None
        while time.time() < deadline + 150 and (told is None or breached is None):
            for call in standin.calls("chat.postMessage"):
                text = str(call.params.get("text"))
                if call.params.get("channel") == OWNER and "missed its acknowledgement" in text:
                    told = told or call.at
            for call in standin.calls("chat.update"):
                if "*breached*" in json.dumps(call.params):
                    breached = breached or call.at
            time.sleep(0.5)
        for what, at in (("owner told", told), ("message shows breached", breached)):
            print(f"{what}: {at - deadline:+.1f} s after the deadline" if at else f"NOT {what}")
        time.sleep(65)  # one more tick adds nothing
        posts = standin.calls("chat.postMessage")
        dms = [c for c in posts if c.params.get("channel") == OWNER and "missed its" in str(c)]
        notes = [c for c in posts if c.params.get("thread_ts") and "promise ran out" in str(c)]
        print(f"breach DMs to the owner: {len(dms)}; breach notes in the thread: {len(notes)}")
        return 0 if told and breached and len(dms) == len(notes) == 1 else 1
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(30)
        standin.stop()


if __name__ == "__main__":
    raise SystemExit(main())
