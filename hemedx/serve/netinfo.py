"""The address students type or scan: the machine's LAN address when listening on all interfaces.

Found without sending a packet: the host name's addresses, else (Linux) each interface's IPv4 address.
"""

from __future__ import annotations

import socket
import struct

_SIOCGIFADDR = 0x8915  # Linux ioctl: an interface's IPv4 address


def _from_hostname() -> list[str]:
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        return []


def _from_interfaces() -> list[str]:
    try:
        import fcntl
    except ImportError:  # not on this platform
        return []
    out = []
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        return []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for name in names:
            try:
                packed = fcntl.ioctl(s.fileno(), _SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue
            out.append(socket.inet_ntoa(packed[20:24]))
    return out


def lan_address() -> str | None:
    """The machine's first non-loopback IPv4 address, or None if it has none."""
    for address in (*_from_hostname(), *_from_interfaces()):
        if not address.startswith("127."):
            return address
    return None


def public_host(host: str) -> str:
    """The host to print in URLs: the LAN address for 0.0.0.0 / ::, else the host as given."""
    if host in ("0.0.0.0", "::", ""):
        return lan_address() or "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def terminal_qr(url: str) -> str:
    """The URL as a QR code drawn with block characters (needs the ``serve`` extra's segno)."""
    import io

    import segno

    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue()
