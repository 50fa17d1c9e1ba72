"""The RFC 6238 code of a base32 secret (30 s steps, 6 digits, HMAC-SHA1).

    totp.py BASE32_SECRET [OFFSET_SECONDS [UNIX_TIME]]

UNIX_TIME (default now) plus OFFSET_SECONDS is the moment the code is for.
"""

import base64
import hashlib
import hmac
import struct
import sys
import time



def code(secret, offset=0, now=None):
    secret = secret.upper()
    secret += "=" * (-len(secret) % 8)
    now = time.time() if now is None else now
    mac = hmac.new(base64.b32decode(secret), struct.pack(">Q", int(now + offset) // 30),
                   hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 4:
        sys.exit(__doc__)
    print(code(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0,
               int(sys.argv[3]) if len(sys.argv) > 3 else None))
