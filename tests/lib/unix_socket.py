"""A Unix socket for the tests that need one at a path.

    unix_socket.py bind PATH    leaves a socket file nobody listens on, and exits
    unix_socket.py mute PATH    listens, accepts every connection, never says a word
                                (until killed)
"""

import socket
import sys

if len(sys.argv) != 3 or sys.argv[1] not in ("bind", "mute"):
    sys.exit(__doc__)
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[2])
if sys.argv[1] == "mute":
    s.listen(8)
    held = []
    while True:
        held.append(s.accept()[0])
