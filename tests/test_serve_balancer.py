"""Past one machine: two `captty serve` behind HAProxy, more clients than one server's slots,
every client served. A full server answers a proxied upgrade with HTTP 503, which HAProxy
retries on the other server (`retry-on 503`, `option redispatch`); README, "Several servers"."""
import asyncio
import shutil
import socket
import subprocess

import pytest

from serve_helpers import ServeProcess, demo_pcm, transcribe

HAPROXY = shutil.which("haproxy") or next(
    (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if shutil.which(p)), None)
pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed "
                                "(Debian: apt-get install haproxy; .ci/run installs it)")

CONFIG = """
global
    maxconn 64
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 60s
    retries 3
    option redispatch 1
    retry-on 503 conn-failure
    option forwardfor
frontend asr
    bind 127.0.0.1:{port}
    default_backend captty
backend captty
    balance roundrobin
    server one 127.0.0.1:{one}
    server two 127.0.0.1:{two}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def balanced(tmp_path):
    servers = [ServeProcess("--batch-size", "1"), ServeProcess("--batch-size", "2")]
    port = free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(CONFIG.format(port=port, one=servers[0].port, two=servers[1].port))
    haproxy = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    for _ in range(100):  # until it listens
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if haproxy.poll() is not None:
            pytest.fail("haproxy did not start: " + haproxy.communicate()[0])
        subprocess.run(["sleep", "0.05"])
    yield f"ws://127.0.0.1:{port}/api/asr-streaming", servers
    haproxy.terminate()
    haproxy.communicate(timeout=10)
    for server in servers:
        server.kill()


async def test_two_servers_behind_haproxy_serve_more_clients_than_one_has_slots(balanced):
    url, servers = balanced
    pcm = demo_pcm(3.0)
    results = await asyncio.gather(*(transcribe(url, pcm) for _ in range(3)))
    for got in results:  # 3 clients at once on 1 + 2 slots: each one served whole
        assert got.types[0] == "Ready" and got.types[-1] == "Marker"
        assert "Error" not in got.types and got.of("Word")
    logs = [server.terminate() for server in servers]
    assert sum(log.count("ended: client closed") for log in logs) == 3
    assert all("via 127.0.0.1" in log for log in logs)  # each one got clients, through HAProxy
