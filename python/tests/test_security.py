# Copyright 2026 The Weightserver Authors.
"""TLS and the access policy from Python: ws.configure and the environment.
Certificates are made with openssl at test time."""
import hashlib
import json
import subprocess

import numpy as np
import pytest

import weightserver as ws
from conftest import Server


def _pki(d):
    script = f"""set -e; cd '{d}'
key() {{ openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }}
key ca; openssl req -x509 -new -key ca.key -out ca.pem -days 30 -subj /CN=ca \\
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
key server; openssl req -new -key server.key -out server.csr -subj /CN=localhost
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \\
  -out server.pem -days 30 -extfile ext 2>/dev/null
"""
    subprocess.run(["bash", "-c", script], check=True)


@pytest.fixture
def secure_server(tmp_path, monkeypatch):
    from safetensors.numpy import save_file
    (tmp_path / "repo" / "a").mkdir(parents=True)
    (tmp_path / "repo" / "b").mkdir(parents=True)
    save_file({"w": np.arange(64, dtype=np.float32)}, str(tmp_path / "repo" / "a" / "model.safetensors"))
    save_file({"w": np.ones(8, dtype=np.float32)}, str(tmp_path / "repo" / "b" / "model.safetensors"))
    _pki(tmp_path)
    policy = {"identities": [{"name": "a", "models": ["a"],
                              "token_sha256": [hashlib.sha256(b"token-a").hexdigest()]}]}
    (tmp_path / "auth.json").write_text(json.dumps(policy))
    s = Server(tmp_path / "repo", ["--tls_cert", str(tmp_path / "server.pem"),
                                   "--tls_key", str(tmp_path / "server.key"),
                                   "--auth_file", str(tmp_path / "auth.json")])
    for k in list(__import__("os").environ):
        if k.startswith("WEIGHTSERVER_"):
            monkeypatch.delenv(k)
    monkeypatch.setattr(ws, "_CREDENTIALS", {})
    yield s, tmp_path
    s.stop()


def test_configure_gives_tls_and_a_token(secure_server):
    s, d = secure_server
    ws.configure(tls_ca=str(d / "ca.pem"), token="token-a")
    assert [m.name for m in ws.list_models(s.address)] == ["a"]
    t = ws.load(s.uri("a"))["w"]
    np.testing.assert_array_equal(t, np.arange(64, dtype=np.float32))
    with pytest.raises(ws.WeightserverError) as e:
        ws.load(s.uri("b"))
    assert e.value.code == "NOT_FOUND"


def test_the_environment_gives_them_too(secure_server, monkeypatch):
    s, d = secure_server
    (d / "token").write_text("token-a\n")
    monkeypatch.setenv("WEIGHTSERVER_TLS_CA", str(d / "ca.pem"))
    monkeypatch.setenv("WEIGHTSERVER_TOKEN_FILE", str(d / "token"))
    assert ws.load(s.uri("a"))["w"].shape == (64,)


def test_without_token_or_tls_the_errors_say_why(secure_server, monkeypatch):
    s, d = secure_server
    ws.configure(tls_ca=str(d / "ca.pem"))
    with pytest.raises(ws.WeightserverError) as e:
        ws.list_models(s.address)
    assert e.value.code == "UNAUTHENTICATED"
    monkeypatch.setattr(ws, "_CREDENTIALS", {})
    ws.configure(token="token-a")  # Plaintext to a TLS server.
    with pytest.raises(ws.WeightserverError) as e:
        ws.list_models(s.address)
    assert e.value.code == "UNAVAILABLE"
    with pytest.raises(ws.WeightserverError) as e:
        ws.list_models("10.1.2.3:50051")
    assert e.value.code == "INVALID_ARGUMENT"
    assert "clear text" in str(e.value)
