"""Fails unless FILE is valid UTF-8 without a control character: no C0 control but LF (and
TAB, with `json`), no DEL, no C1 control (U+0080..U+009F).

    no_controls.py WHAT FILE [json]
"""

import re
import sys

if len(sys.argv) not in (3, 4):
    sys.exit(__doc__)
what, path = sys.argv[1:3]
json_text = len(sys.argv) == 4
with open(path, "rb") as f:
    data = f.read()
data.decode("utf-8")
c0 = rb"[\x00-\x08\x0b-\x1f\x7f]" if json_text else rb"[\x00-\x09\x0b-\x1f\x7f]"
bad = re.search(c0 + rb"|\xc2[\x80-\x9f]", data)
if bad:
    sys.exit("FAIL: %s: control byte %r at %d in %r" % (what, bad.group(), bad.start(), data))
