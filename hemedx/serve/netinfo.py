"""The address students type or scan: the machine's LAN address when listening on all interfaces."""

from __future__ import annotations

import socket


def lan_address() -> str | None:
    """The machine's first non-loopback IPv4 address from its own host name (no packet is sent)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return None
    for info in infos:
        address = str(info[4][0])
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
