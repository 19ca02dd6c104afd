"""A real RFC 3161 time-stamping authority for the tests: OpenSSL's `ts -reply` over HTTP.

`make_tsa(directory)` creates, with the openssl command, a test CA and a TSA
certificate it issues (critical extendedKeyUsage timeStamping) and the `tsa`
section of an OpenSSL configuration; `TsaServer` answers every
POST application/timestamp-query by running
`openssl ts -reply -queryfile ... -config ...` and sending its reply as
application/timestamp-reply. Nothing of ours makes the tokens.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CONFIG = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""

TSA_EXTENSIONS = """\
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


@dataclass(frozen=True)
class TsaFiles:
    """The files of one test TSA: its CA (the trust anchor), its certificate and config."""

    directory: Path
    ca_pem: Path
    tsa_pem: Path
    config: Path
    subject: str


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def make_tsa(directory: Path, name: str = "Test TSA") -> TsaFiles:
    """A CA and a time-stamping certificate issued by it, made by openssl in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_pem = directory / "ca.key", directory / "ca.pem"
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_pem,
        "-days", "3650", "-subj", f"/CN={name} Root CA/O=eBox tests",
        "-addext", "basicConstraints=critical,CA:true",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    tsa_key, csr = directory / "tsa.key", directory / "tsa.csr"
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", tsa_key, "-out", csr,
        "-subj", f"/CN={name}/O=eBox tests",
    )  # fmt: skip
    extensions = directory / "tsa.ext"
    extensions.write_text(TSA_EXTENSIONS)
    tsa_pem = directory / "tsa.pem"
    _openssl(
        "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
        "-out", tsa_pem, "-days", "3650", "-extfile", extensions,
    )  # fmt: skip
    (directory / "serial").write_text("01\n")
    config = directory / "openssl.cnf"
    config.write_text(CONFIG.format(dir=directory))
    return TsaFiles(directory, ca_pem, tsa_pem, config, f"{name}")


class TsaServer:
    """`openssl ts -reply` behind http.server on a free port of 127.0.0.1.

    `broken`: answer 500 to every request (a TSA that is down in all but name).
    `replies` counts the tokens served.
    """

    def __init__(self, tsa: TsaFiles) -> None:
        self.tsa = tsa
        self.broken = False
        self.replies = 0
        self.authorizations: list[str | None] = []
        """The Authorization header of each request, in order."""
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                query = self.rfile.read(length)
                server.authorizations.append(self.headers.get("Authorization"))
                if server.broken or self.headers.get("Content-Type") != (
                    "application/timestamp-query"
                ):
                    self.send_response(500 if server.broken else 415)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                reply = server.reply(query)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/tsa"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def reply(self, query: bytes) -> bytes:
        with self.lock, tempfile.TemporaryDirectory() as scratch:
            query_file, reply_file = Path(scratch) / "q.tsq", Path(scratch) / "r.tsr"
            query_file.write_bytes(query)
            _openssl(
                "ts", "-reply", "-queryfile", query_file, "-config", self.tsa.config,
                "-out", reply_file,
            )  # fmt: skip
            self.replies += 1
            return reply_file.read_bytes()

    def __enter__(self) -> TsaServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
