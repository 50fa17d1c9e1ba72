"""JSON for the shell tests, without Python in the scripts.

    json_tool.py object KEY VALUE...     a JSON object of strings (values escaped)
    json_tool.py get EXPR [FILE]         EXPR evaluated with j = the JSON document on stdin
                                         (or in FILE); a string prints bare, anything else
                                         as JSON
    json_tool.py dump EXPR [FILE]        the same, a string too as JSON
    json_tool.py lines                   stdin's lines (stripped) as a JSON list
    json_tool.py fault METHOD PATH STATUS RAW
                                         an emulator fault whose one answer is RAW verbatim
"""

import json
import sys


def load(args):
    if args:
        with open(args[0], "rb") as f:
            return json.loads(f.read().decode("utf-8", "surrogateescape"))
    return json.load(sys.stdin)


def main(argv):
    if len(argv) < 1:
        sys.exit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == "object" and len(args) % 2 == 0:
        print(json.dumps(dict(zip(args[::2], args[1::2]))))
    elif cmd in ("get", "dump") and len(args) in (1, 2):
        v = eval(args[0], {"j": load(args[1:])})
        print(v if cmd == "get" and isinstance(v, str) else json.dumps(v))
    elif cmd == "lines" and not args:
        print(json.dumps([l.strip() for l in sys.stdin]))
    elif cmd == "fault" and len(args) == 4:
        method, path, status, raw = args
        print(json.dumps({"method": method, "path": path,
                          "responses": [{"raw": raw, "status": int(status)}]}))
    else:
        sys.exit(__doc__)


main(sys.argv[1:])
