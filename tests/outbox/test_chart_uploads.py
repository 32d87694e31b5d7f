"""The stand-in uploads files the way Slack does (three steps), and files_upload_v2 works
against it; an upload whose bytes never arrived is refused."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.support.slack import SlackStandin

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def test_files_upload_v2_takes_three_steps_and_records_the_file(standin: SlackStandin) -> None:
    client = WebClient(token="xoxb-test", base_url=standin.base_url)
    response = client.files_upload_v2(
        file=PNG, filename="kpis.png", title="KPIs", alt_txt="3 KPIs: 2 on track"
    )
    [uploaded] = standin.uploaded_files()
    assert response["file"]["id"] == uploaded.id
    assert (uploaded.filename, uploaded.title, uploaded.alt_txt) == (
        "kpis.png",
        "KPIs",
        "3 KPIs: 2 on track",
    )
    assert uploaded.data == PNG and uploaded.channel is None
    assert [c.method for c in standin.calls()] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    [asked] = standin.calls("files.getUploadURLExternal")
    assert asked.response["upload_url"].startswith(standin.base_url.removesuffix("api/"))


def test_completing_an_upload_whose_bytes_never_arrived_is_refused(
    standin: SlackStandin,
) -> None:
    client = WebClient(token="xoxb-test", base_url=standin.base_url)
    started = client.files_getUploadURLExternal(filename="a.png", length=len(PNG))
    with pytest.raises(SlackApiError) as refused:
        client.files_completeUploadExternal(files=[{"id": started["file_id"], "title": "a"}])
    assert refused.value.response["error"] == "file_not_found"
    assert not standin.uploaded_files()


def test_a_scripted_failure_of_the_bytes_fails_the_upload(standin: SlackStandin) -> None:
    standin.fail("upload", status=500, error="server error")
    client = WebClient(token="xoxb-test", base_url=standin.base_url)
    with pytest.raises(OSError):  # urllib's HTTPError: the sender retries it
        client.files_upload_v2(file=PNG, filename="a.png", title="a")
    assert not standin.uploaded_files()
    client.files_upload_v2(file=PNG, filename="a.png", title="a")
    assert len(standin.uploaded_files()) == 1
