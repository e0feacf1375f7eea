#!/usr/bin/env python3
"""bench-site.py TEMPLATE OUT KIND LOCATION: the benchmarks' site file, lab3's with one media
repository (KIND `url` or `directory`, at LOCATION) in place of its media block, and without
its cloud: block (whose images are files beside the example, not what the benchmarks measure;
airstrap mirror would refuse the missing files)."""
import re
import sys

if len(sys.argv) != 5 or sys.argv[3] not in ("url", "directory"):
    sys.exit(__doc__)
src, dst, kind, location = sys.argv[1:]
text = open(src).read()
media = "media:\n  repos:\n    - name: bench\n      %s: %s\n\n" % (kind, location)
text, n = re.subn(r"(?ms)^media:\n.*?(?=^\S)", media, text)
if n != 1:
    sys.exit("cannot find the media block in " + src)
text = re.sub(r"(?ms)^cloud:\n.*?(?=^\S|\Z)", "", text)
open(dst, "w").write(text)
