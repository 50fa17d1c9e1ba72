"""An HTTPS server that answers every request with a body trickling in a byte every 0.1 s.

    trickle_server.py DIR

Serves DIR/slow.pem with DIR/slow.key on 127.0.0.1, on a free port it writes to DIR/slow.port
(renamed into place once listening); DIR/slow.conns counts the connections so far.
"""

import os
import socket
import ssl
import sys
import threading
import time

if len(sys.argv) != 2:
    sys.exit(__doc__)
d = sys.argv[1]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(d, "slow.pem"), os.path.join(d, "slow.key"))
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
conns = 0
def serve(c):
    try:
        with ctx.wrap_socket(c, server_side=True) as s:
            s.settimeout(30)
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += s.recv(4096)
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 100000\r\n\r\n{")
            for _ in range(600):  # a byte every 0.1 s: it would take a minute
                s.sendall(b" ")
                time.sleep(0.1)
    except OSError:
        pass
with open(os.path.join(d, "slow.port.tmp"), "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(os.path.join(d, "slow.port.tmp"), os.path.join(d, "slow.port"))
while True:
    c, _ = srv.accept()
    conns += 1
    with open(os.path.join(d, "slow.conns"), "w") as f:
        f.write(str(conns))
    threading.Thread(target=serve, args=(c,), daemon=True).start()
