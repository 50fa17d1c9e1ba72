"""Text columns of a table on stdin, counted in characters (not bytes).

    columns.py widest            the length of the longest line
    columns.py word LINE COLUMN  the word starting at COLUMN of line LINE (both from 1)
"""

import sys

lines = sys.stdin.read().splitlines()
if sys.argv[1:] == ["widest"]:
    print(max(len(l) for l in lines))
elif len(sys.argv) == 4 and sys.argv[1] == "word":
    print(lines[int(sys.argv[2]) - 1][int(sys.argv[3]) - 1:].split()[0])
else:
    sys.exit(__doc__)
