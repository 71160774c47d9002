"""Real servers for the tests: PostgreSQL, Redis, nginx and an OpenID Connect provider, each
started from its installed program in a folder of its own on a free loopback port, and
stopped with its whole process group.

``scripts/ensure-services.sh`` (run by ``make test``) installs the programs. One that is
still missing raises :class:`Unavailable`, which the fixtures turn into a skip naming it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.server import free_port

ROOT = Path(__file__).resolve().parent.parent
OIDC_DIR = ROOT / "tests" / "oidc"


class Unavailable(RuntimeError):
    """A program a test needs is not installed; the message says which and how to get it."""


@dataclass
class Service:
    """A running server: its base URL, folder and log, and how to stop it."""

    name: str
    url: str
    folder: Path
    log_path: Path
    proc: subprocess.Popen | None = None
    on_stop: list[Callable[[], None]] = field(default_factory=list)

    def log(self) -> str:
        """What the server logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop the server and everything it started, then remove its folder."""
        for step in self.on_stop:
            step()
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _folder(name: str) -> Path:
    # Short and world-traversable: PostgreSQL's socket lives in it and, as root, it runs as
    # the `postgres` user; nginx's workers run as `nobody`.
    folder = Path(tempfile.mkdtemp(prefix=f"icp-{name}-"))
    folder.chmod(0o755)
    return folder


def _spawn(args: list[str], log_path: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        args, stdout=log_path.open("wb"), stderr=subprocess.STDOUT, start_new_session=True, **kwargs
    )


def _wait_until(ready: Callable[[], bool], service: Service, timeout_s: float = 60) -> Service:
    """``service`` once ``ready()``; RuntimeError with its log when it exits or never is."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if service.proc is not None and service.proc.poll() is not None:
            service.stop()
            raise RuntimeError(f"{service.name} exited with {service.proc.returncode}:\n{service.log()}")
        try:
            if ready():
                return service
        except OSError:
            pass
        time.sleep(0.1)
    log = service.log()
    service.stop()
    raise RuntimeError(f"{service.name} was not ready within {timeout_s}s:\n{log}")


def _program(name: str, package: str, *extra: str) -> str:
    found = shutil.which(name) or next((p for p in extra if Path(p).is_file()), None)
    if not found:
        raise Unavailable(f"{name} is not installed (Debian package {package}; scripts/ensure-services.sh)")
    return found


def postgres_bin() -> Path:
    """The newest Debian PostgreSQL's bin folder (``/usr/lib/postgresql/N/bin``)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    if not found:
        raise Unavailable("PostgreSQL is not installed (Debian package postgresql; scripts/ensure-services.sh)")
    return found[-1].parent


def start_postgres() -> Service:
    """A PostgreSQL server of Debian's package on 127.0.0.1 with trust authentication, its data
    in a temp folder (no fsync: a test server), as ``postgres`` when run as root (initdb
    refuses root). Its URL names the ``postgres`` database."""
    bin_dir = postgres_bin()
    folder = _folder("pg")
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("the system user postgres is missing (Debian package postgresql)") from None
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    log_path = folder / "postgres.log"
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")

    def stop() -> None:
        subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)

    service = Service("postgres", f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", folder,
                      log_path, on_stop=[stop])
    for step in (
        [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log_path), "-o", options, "-w", "-t", "60", "start"],
    ):
        done = subprocess.run([*run_as, *step], capture_output=True, text=True)
        if done.returncode != 0:
            log = service.log()
            service.stop()
            raise RuntimeError(f"{Path(step[0]).name} failed:\n{done.stdout}{done.stderr}{log}")
    return service


def start_redis() -> Service:
    """A Redis server on 127.0.0.1 that keeps nothing on disk (a cache, as in production)."""
    exe = _program("redis-server", "redis-server")
    folder, port = _folder("redis"), free_port()
    service = Service("redis", f"redis://127.0.0.1:{port}/0", folder, folder / "redis.log")
    service.proc = _spawn(
        [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        service.log_path,
    )

    def pong() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    return _wait_until(pong, service)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return cert_path, key_path


NGINX_CONF = """\
daemon off;
{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    client_max_body_size 100m;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


def start_nginx(upstream: str, port: int | None = None) -> Service:
    """nginx terminating HTTPS (a self-signed certificate for 127.0.0.1, ``Service.folder /
    "cert.pem"``) on ``port`` and proxying to ``upstream`` with the X-Forwarded-* headers a
    production proxy sets."""
    exe = _program("nginx", "nginx", "/usr/sbin/nginx")
    folder = _folder("nginx")
    port = port or free_port()
    cert, key = _self_signed(folder)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(
        # As root, workers would run as nobody, who cannot write the temp folders here.
        user="user root;" if os.geteuid() == 0 else "",
        folder=folder, port=port, cert=cert, key=key, upstream=upstream,
    ))
    service = Service("nginx", f"https://127.0.0.1:{port}", folder, folder / "error.log")
    service.proc = _spawn([exe, "-p", str(folder), "-c", str(conf), "-e", str(service.log_path)],
                          folder / "nginx.out")

    def listening() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    return _wait_until(listening, service)


def start_oidc_provider(
    client_id: str, client_secret: str, redirect_uri: str, accounts: dict[str, dict]
) -> Service:
    """node-oidc-provider (tests/oidc) on 127.0.0.1 with ICP Lens as its one client and
    ``accounts`` ({login: {email, groups}}) able to sign in with any password."""
    node = _program("node", "nodejs")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        raise Unavailable("oidc-provider is not installed: run scripts/ensure-services.sh (npm ci in tests/oidc)")
    folder, port = _folder("oidc"), free_port()
    service = Service("oidc-provider", f"http://127.0.0.1:{port}", folder, folder / "provider.log")
    env = {**os.environ, "PORT": str(port), "CLIENT_ID": client_id, "CLIENT_SECRET": client_secret,
           "REDIRECT_URI": redirect_uri, "ACCOUNTS": json.dumps(accounts)}
    service.proc = _spawn([node, "provider.js"], service.log_path, cwd=OIDC_DIR, env=env)

    def discovery() -> bool:
        import requests

        try:
            return requests.get(service.url + "/.well-known/openid-configuration", timeout=2).ok
        except requests.ConnectionError:
            return False

    return _wait_until(discovery, service)
