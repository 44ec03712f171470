"""DNS-rebinding defence: without an API key the server binds 127.0.0.1 and answers only requests
whose ``Host`` is loopback, ``--host`` or an ``--allowed-host``; other hosts get an OpenAI-style 421.
With an API key the Host header is checked only when ``--allowed-host`` is given."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from slmforge.serve.config import ServeConfig
from slmforge.serve.middleware import allowed_hosts, host_name
from tests.serve.conftest import start_server, stop_server
from tests.serve.scripted import ScriptedEngine, serve_in_thread


def test_host_name_and_allow_list():
    assert host_name("Example.ORG:8000") == "example.org"
    assert host_name("[::1]:8000") == host_name("[::1]") == host_name("::1") == "::1"
    assert host_name("") == ""
    assert allowed_hosts("127.0.0.1") == {"localhost", "127.0.0.1", "::1"}
    assert allowed_hosts("0.0.0.0", ["My.Lan"]) == {"localhost", "127.0.0.1", "::1", "my.lan"}  # a wildcard is no name
    assert "192.168.1.5" in allowed_hosts("192.168.1.5")
    assert ServeConfig(model="m").host == "127.0.0.1"


def _get(root: str, host: str) -> httpx.Response:
    return httpx.get(f"{root}/v1/models", headers={"Host": host, "Authorization": "Bearer k"}, timeout=10)


@pytest.mark.parametrize(("api_key", "extra", "checked"), [
    (None, [], True), (None, ["myhost.test"], True), ("k", [], False), ("k", ["myhost.test"], True)])
def test_host_header_allow_list(api_key, extra, checked):
    cfg = ServeConfig(model="stub", api_key=api_key, allowed_hosts=extra)
    with serve_in_thread(cfg, ScriptedEngine()) as (root, _):
        port = root.rsplit(":", 1)[1]
        for host in ("localhost", f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST"):
            assert _get(root, host).status_code == 200, host
        assert _get(root, "myhost.test:80").status_code == (200 if extra or not checked else 421)
        for evil in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", "localhost.evil.example"):
            r = _get(root, evil)
            assert r.status_code == (421 if checked else 200), evil
            if checked:
                err = r.json()["error"]
                assert err["code"] == "invalid_host" and err["type"] == "invalid_request_error"
                assert "--allowed-host" in err["message"]
        if checked:  # every route, /health included
            assert httpx.get(f"{root}/health", headers={"Host": "evil.example"}).status_code == 421


def _listen_addresses(port: int) -> set[str]:
    """Local addresses listening on TCP ``port`` (IPv4 hex as in /proc/net/tcp, IPv6 as in tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.add(addr)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
def test_server_without_key_listens_on_loopback_and_checks_host(tiny_model, tmp_path):
    srv = start_server(tiny_model, "--allowed-host", "myhost.test", log=tmp_path / "serve.log")
    try:
        port = int(srv.root.rsplit(":", 1)[1])
        assert _listen_addresses(port) == {"0100007F"}  # 127.0.0.1 only, no 0.0.0.0
        assert httpx.get(f"{srv.base_url}/models").status_code == 200
        assert httpx.get(f"{srv.base_url}/models", headers={"Host": "myhost.test"}).status_code == 200
        r = httpx.post(f"{srv.base_url}/chat/completions", headers={"Host": f"rebind.evil.example:{port}"},
                       json={"model": "x", "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 421 and r.json()["error"]["code"] == "invalid_host"
    finally:
        stop_server(srv)
