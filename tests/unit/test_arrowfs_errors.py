"""Which errors of the pyarrow-backed remotes (Azure, GCS) are worth retrying
(remotes/arrowfs.py ``_RETRYABLE``): ``transfer`` retries only what the backend calls retryable.

A unit test, not the contract suite: no real server (Azurite, the GCS emulator) can be made to drop
a connection mid-response on demand, which is where these texts come from. The messages are those
of pyarrow wrapping the Azure SDK's curl transport (azure-core-cpp, curl.cpp) and libcurl."""

from __future__ import annotations

import pytest

from git_mlv.remotes.arrowfs import AzureRemote, GCSRemote

# pyarrow's form: "<operation> failed for '<path>'. ... Azure Error: [<code>] <the SDK's message>"
_PREFIX = "GetProperties failed for 'c/p/packs/x.idx'. Azure Error: [] "

TRANSIENT = [
    # seen in CI: Azurite closed the connection while a pack's ranged read was being answered
    "Connection closed before getting full response or response is less than expected. "
    "Expected response length = 4096. Read until now = 1024",
    "Connection was closed by the server while trying to read a response",
    "Error while polling for socket ready read",
    "Error while reading from network socket. CURLE code: 56. Failure when receiving data from the peer",
    "Error while sending request. Couldn't connect to server",
    "Error while sending request. Server returned nothing (no headers, no data)",
    "Error while sending request. Failed sending data to the peer",
    "Timeout waiting for socket to read.",
]

PERMANENT = [
    "404 The specified resource does not exist. ResourceNotFound",
    "403 This request is not authorized to perform this operation. AuthorizationPermissionMismatch",
]


@pytest.mark.parametrize("text", TRANSIENT)
def test_a_dropped_or_failed_connection_is_retryable(text: str) -> None:
    for remote in (AzureRemote("c", "p", account="devstoreaccount1"), GCSRemote("b", "p")):
        err = remote._error(OSError(_PREFIX + text), "packs/x.idx")
        assert err.retryable, (type(remote).__name__, text)
        assert "connection failed" in str(err)


@pytest.mark.parametrize("text", PERMANENT)
def test_what_a_retry_cannot_mend_is_not_retryable(text: str) -> None:
    err = AzureRemote("c", "p", account="devstoreaccount1")._error(OSError(_PREFIX + text), "packs/x.idx")
    assert not err.retryable, text
