"""Run by test_ratelimit in separate processes: take single tokens from one Redis bucket for N seconds."""

import sys
import time

from django_sinch_whatsapp.ratelimit.redis import RedisTokenBucket

url, key, seconds, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
bucket = RedisTokenBucket(url)
while time.time() < start_at:  # every process starts racing at the same moment
    time.sleep(0.001)
granted = 0
first = last = 0.0
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    asked = time.time()
    if bucket.acquire(key, 1, 100, 10) == 0.0:
        granted += 1
        first = first or asked
        last = time.time()
# The bucket's promise is about wall time: burst + rate x (from the first try to the last grant).
print(granted, first, last)
