"""The sandbox's two ports: checked before anything heavy is imported or evaluated.

Light on purpose (sockets only), so ``make sandbox`` answers "port in use" at once instead of
after the program has been evaluated.
"""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


class PortInUseError(RuntimeError):
    """A port the sandbox needs is taken."""


def check_port(port: int, what: str) -> None:
    """Fail clearly when something listens on ``port`` (0: any free port, nothing to check).

    The probe sets ``SO_REUSEADDR``, as the servers do: a port whose last connections are in
    TIME_WAIT (for about a minute after a sandbox served load and stopped) is free to listen on
    again, while a port with a listening socket is still refused.
    """
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
            probe.listen()
        except OSError:
            raise PortInUseError(
                f"port {port} on {HOST} is in use, so the {what} cannot start there; "
                f"stop what uses it or choose another port (make sandbox {port_variable(what)}=...)"
            ) from None


def port_variable(what: str) -> str:
    """The ``make sandbox`` variable that sets the port of ``what``."""
    return "API_PORT" if "API" in what else "CONSOLE_PORT" if "console" in what else "AWS_PORT"


def check_ports(api_port: int, aws_port: int, console_port: int | None = None) -> None:
    """The ports of a sandbox, the AWS endpoint's first (as the sandbox starts them); the console's if it has one."""
    check_port(aws_port, "AWS endpoint")
    check_port(api_port, "API")
    if console_port is not None:
        check_port(console_port, "console")
