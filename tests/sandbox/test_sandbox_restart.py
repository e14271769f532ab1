"""A stopped sandbox restarts at once on the same ports; a port really in use is still refused clearly."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sandbox_testkit import get_order, post_order

from sandbox.ports import HOST, PortInUseError
from sandbox.program.evaluation import Program
from sandbox.runtime import Sandbox


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind((HOST, 0))
        return [int(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def _plain_bind_fails(port: int) -> bool:
    """True when a bind without SO_REUSEADDR fails: the port has sockets (TIME_WAIT or listening)."""
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return True
        return False


def _connections_closed_by_the_server(port: int, path: str, count: int) -> None:
    # HTTP/1.0 without keep-alive, and the client waits for the server's FIN before closing:
    # the server closes first, so its side of each connection (the listening port) enters TIME_WAIT.
    for _ in range(count):
        with socket.create_connection((HOST, port), timeout=10) as connection:
            connection.sendall(f"GET {path} HTTP/1.0\r\nHost: {HOST}\r\n\r\n".encode())
            while connection.recv(65536):
                pass


def test_a_stopped_sandbox_restarts_at_once_on_the_same_ports(
    dev_program: Program, tmp_path: Path, own_sandbox_process: None
) -> None:
    # GIVEN a sandbox on fixed ports that served keep-alive and closed connections, then stopped
    api_port, aws_port = _free_ports(2)
    first = Sandbox(dev_program, api_port=api_port, aws_port=aws_port, state_dir=tmp_path, on_trace=lambda _: None)
    with first:
        assert post_order(first, 11, 10).status == 201
        first.client("dynamodb").list_tables()  # boto3 keeps its connection alive
        _connections_closed_by_the_server(api_port, "/order/11", 3)
        _connections_closed_by_the_server(aws_port, "/moto-api/", 3)
    # (the ports hold TIME_WAIT sockets now: a probe without SO_REUSEADDR is refused)
    assert _plain_bind_fails(api_port)
    assert _plain_bind_fails(aws_port)
    # WHEN it is started again at once on the same ports
    second = Sandbox(dev_program, api_port=api_port, aws_port=aws_port, state_dir=tmp_path, on_trace=lambda _: None)
    with second:
        # THEN it comes up there and serves
        assert (second.api_url, second.endpoint_url) == (first.api_url, first.endpoint_url)
        assert post_order(second, 12, 10).status == 201
        assert get_order(second, 12).status == 200


@pytest.mark.parametrize(("port_argument", "variable"), [("api_port", "API_PORT"), ("aws_port", "AWS_PORT")])
def test_a_port_with_a_listening_socket_is_refused_naming_its_variable(
    dev_program: Program, tmp_path: Path, port_argument: str, variable: str, own_sandbox_process: None
) -> None:
    # GIVEN something listening on a port
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind((HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = {"api_port": 0, "aws_port": 0, port_argument: port}
        sandbox = Sandbox(dev_program, state_dir=tmp_path, on_trace=lambda _: None, **ports)
        # WHEN the sandbox is asked to serve there
        with pytest.raises(PortInUseError) as refused:
            sandbox.start()
    # THEN it says which port and which make variable to change
    assert f"port {port}" in str(refused.value)
    assert f"make sandbox {variable}=" in str(refused.value)
