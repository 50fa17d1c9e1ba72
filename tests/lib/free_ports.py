#!/usr/bin/env python3
"""free_ports.py N: prints N distinct TCP ports free on 127.0.0.1 now, one a line.

All N sockets are bound at once (so the ports differ) and closed before printing; a test
that starts servers on them right away races only with other programs binding port 0.
"""
import socket
import sys

socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
ports = [s.getsockname()[1] for s in socks]
for s in socks:
    s.close()
print("\n".join(str(p) for p in ports))
