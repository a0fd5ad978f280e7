"""TLS and mutual TLS with real certificates over real sockets (docs/security.md): ``deconflict serve``
serves HTTPS from DECONFLICTION_TLS_CERT_FILE and ..._KEY_FILE, sends HSTS, refuses bad files at start
naming the setting (and never printing a key); with DECONFLICTION_TLS_CLIENT_CA_FILE a party's systems
authenticate by a client certificate the party bound to itself, alongside its API key; a certificate
not bound, revoked, or from another CA gets nothing. A CA and certificates are made here with
``cryptography``; both backends."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from bench.servers import Server
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deconfliction.domain.party import Role
from deconfliction.service.parties import create_party
from deconfliction.settings import Settings
from deconfliction.store import open_store
from tests.conftest import make_postgres_database, square, volume_json

NOW = datetime.now(UTC)


@dataclass
class Issued:
    cert: Path
    key: Path
    der: bytes

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(folder: Path, cn: str) -> tuple[Issued, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # key_cert_sign, crl_sign
        .sign(key, hashes.SHA256())
    )
    return _write(folder, cn, cert, key), key


def issue(folder: Path, cn: str, ca: Issued, ca_key: ec.EllipticCurvePrivateKey, *, server: bool = False) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = x509.load_der_x509_certificate(ca.der)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return _write(folder, cn, builder.sign(ca_key, hashes.SHA256()), key)


def _write(folder: Path, cn: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Issued:
    stem = cn.replace(" ", "-")
    cert_path, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Issued(cert_path, key_path, cert.public_bytes(serialization.Encoding.DER))


@dataclass
class Pki:
    ca: Issued
    server: Issued
    north: Issued  # bound by North
    stray: Issued  # signed by the CA, bound by nobody
    rogue: Issued  # from another CA
    folder: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca, ca_key = make_ca(folder, "Cell CA")
    other, other_key = make_ca(folder, "Other CA")
    return Pki(
        ca,
        issue(folder, "deconfliction server", ca, ca_key, server=True),
        issue(folder, "north gateway", ca, ca_key),
        issue(folder, "stray system", ca, ca_key),
        issue(folder, "rogue system", other, other_key),
        folder,
    )


@dataclass
class Cell:
    server: Server
    url: str
    pki: Pki
    coordinator_key: str

    def client(self, cert: Issued | None = None, key: str | None = None) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.pki.ca.cert))
        if cert is not None:
            context.load_cert_chain(cert.cert, cert.key)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, verify=context, headers=headers, timeout=30)


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def cell(request: pytest.FixtureRequest, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cell]:
    workdir = tmp_path_factory.mktemp("tls")
    if request.param == "sqlite":
        url, drop = f"sqlite:///{workdir / 'tls.db'}", None
    else:
        url, drop = make_postgres_database()
    rt = Settings().runtime(open_store(url))
    try:
        _, ckey = create_party(rt, None, "Coordination Cell", Role.COORDINATOR)
    finally:
        rt.store.close()
    env = {
        "DECONFLICTION_TLS_CERT_FILE": str(pki.server.cert),
        "DECONFLICTION_TLS_KEY_FILE": str(pki.server.key),
        "DECONFLICTION_TLS_CLIENT_CA_FILE": str(pki.ca.cert),
    }
    server = Server(url, workdir, env=env)
    try:
        server.wait_ready()
        yield Cell(server, server.url, pki, ckey)
    finally:
        server.stop()
        if drop is not None:
            drop()


def test_the_service_speaks_tls_with_hsts_and_not_plain_http(cell: Cell) -> None:
    assert cell.url.startswith("https://")
    with cell.client() as c:
        r = c.get("/v1/health")
    assert r.status_code == 200
    assert r.headers["strict-transport-security"].startswith("max-age=")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    with pytest.raises(httpx.TransportError):  # the same port does not answer plain HTTP
        httpx.get(cell.url.replace("https://", "http://") + "/v1/health", timeout=5).raise_for_status()
    # a client that does not trust the deployment's CA is refused by its own TLS stack
    with pytest.raises(httpx.ConnectError):
        httpx.get(cell.url + "/v1/health", timeout=5)


def test_a_party_binds_a_certificate_and_its_systems_then_act_with_no_api_key(cell: Cell) -> None:
    with cell.client(key=cell.coordinator_key) as coordinator:
        r = coordinator.post("/v1/parties", json={"name": f"North {cell.server.port}", "role": "party"})
        assert r.status_code == 201, r.text
        north_id, north_key = r.json()["party"]["id"], r.json()["api_key"]

    # before it is bound, the certificate alone is nobody: 401, nothing done
    with cell.client(cert=cell.pki.north) as gateway:
        assert gateway.get("/v1/operations").status_code == 401

    with cell.client(key=north_key) as north:
        colons = ":".join(cell.pki.north.fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()  # as openssl prints
        r = north.post("/v1/certificates", json={"fingerprint": colons, "label": "north-c2 gateway"})
        assert r.status_code == 201, r.text
        assert r.json()["certificate"]["fingerprint"] == cell.pki.north.fingerprint
        again = north.post("/v1/certificates", json={"fingerprint": cell.pki.north.fingerprint, "label": "x"})
        assert again.status_code == 409 and again.json()["code"] == "already_exists"
        bad = north.post("/v1/certificates", json={"fingerprint": "not hex", "label": "x"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "fingerprint"

    # the gateway now acts as North: it declares, and the operation is North's
    with cell.client(cert=cell.pki.north) as gateway:
        r = gateway.post("/v1/operations", json={"kind": "air", "volumes": [volume_json(square(40, 35), start=NOW)]})
        assert r.status_code == 201, r.text
        assert r.json()["operation"]["owner"] == north_id
        assert [c["label"] for c in gateway.get("/v1/certificates").json()["items"]] == ["north-c2 gateway"]
    # the API key still works alongside (a certificate is another way in, not a replacement)
    with cell.client(key=north_key) as north:
        assert north.get("/v1/operations").status_code == 200
    # a key sent over a bound certificate is what counts: the coordinator's key over North's certificate
    with cell.client(cert=cell.pki.north, key=cell.coordinator_key) as both:
        assert both.get("/v1/certificates").json()["items"] == []  # the coordinator's (none), not North's

    # a certificate of the same CA that nobody bound gets nothing; another CA's does not get through TLS
    with cell.client(cert=cell.pki.stray) as stray:
        r = stray.get("/v1/operations")
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    with pytest.raises(httpx.TransportError), cell.client(cert=cell.pki.rogue) as rogue:
        rogue.get("/v1/operations")

    # the coordinator sees the binding in the ledger; North revokes it and the gateway is refused at once
    with cell.client(key=cell.coordinator_key) as coordinator:
        lines = [json.loads(line) for line in coordinator.get("/v1/ledger").text.splitlines()]
        bound = [e["content"] for e in lines if e.get("content", {}).get("type") == "party.certificate_bound"]
        assert [e["payload"]["fingerprint"] for e in bound] == [cell.pki.north.fingerprint]
    with cell.client(key=north_key) as north:
        r = north.post(f"/v1/certificates/{cell.pki.north.fingerprint}/revoke")
        assert r.status_code == 200 and r.json()["certificate"]["revoked_at"] is not None
    with cell.client(cert=cell.pki.north) as gateway:
        assert gateway.get("/v1/operations").status_code == 401

    # each certificate bound to nobody was a failed authentication: counted by kind and logged
    with cell.client() as anyone:
        page = anyone.get("/metrics").text
    assert 'deconfliction_auth_failures_total{kind="certificate"} 3.0' in page  # before binding, stray, revoked
    # nothing of a certificate or a key reaches the server's output
    log = cell.server.log_path.read_text(errors="replace")
    assert log.count("event=auth.failed kind=certificate") == 3
    assert "BEGIN" not in log and north_key not in log


def _serve(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("deconflict")
    full = {**os.environ, "COLUMNS": "400", "DECONFLICTION_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", **env}
    return subprocess.run(
        [str(exe), "serve", "--port", "1"], env=full, capture_output=True, text=True, timeout=60, check=False
    )


def test_bad_files_are_refused_at_start_naming_the_setting(pki: Pki, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    cert, key, ca = str(pki.server.cert), str(pki.server.key), str(pki.ca.cert)
    cases = {
        "DECONFLICTION_TLS_CERT_FILE": {
            "DECONFLICTION_TLS_CERT_FILE": str(tmp_path / "missing.crt"),
            "DECONFLICTION_TLS_KEY_FILE": key,
        },
        "DECONFLICTION_TLS_CERT_FILE ": {
            "DECONFLICTION_TLS_CERT_FILE": str(garbage),
            "DECONFLICTION_TLS_KEY_FILE": key,
        },
        "DECONFLICTION_TLS_KEY_FILE": {
            "DECONFLICTION_TLS_CERT_FILE": cert,
            "DECONFLICTION_TLS_KEY_FILE": str(pki.north.key),
        },
        "DECONFLICTION_TLS_KEY_FILE ": {"DECONFLICTION_TLS_CERT_FILE": cert},
        "DECONFLICTION_TLS_CLIENT_CA_FILE": {
            "DECONFLICTION_TLS_CERT_FILE": cert,
            "DECONFLICTION_TLS_KEY_FILE": key,
            "DECONFLICTION_TLS_CLIENT_CA_FILE": str(garbage),
        },
        "DECONFLICTION_TLS_CLIENT_CA_FILE  ": {"DECONFLICTION_TLS_CLIENT_CA_FILE": ca},
    }
    north_key_text = pki.north.key.read_text().splitlines()[1]
    for named, env in cases.items():
        done = _serve(env, tmp_path)
        output = done.stdout + done.stderr
        assert done.returncode == 2, (named, output)
        assert "error" in output and named.strip() in output, (named, output)
        assert north_key_text not in output and "not base64" not in output  # paths only, never content
