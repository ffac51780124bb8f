"""(d) Peak RSS of one bulk send, in a fresh process: ``python bench/memory.py N SANDBOX_URL``.

Prints one JSON line: the recipients, the RSS before the send (Django loaded,
connected) and the process's peak RSS after it (``VmHWM``: ``ru_maxrss`` is no use
here, Linux carries the parent's high-water mark across fork and exec), in MiB.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench.common as common


def status_mib(field: str) -> float:
    """A ``/proc/self/status`` memory figure (``VmRSS``, ``VmHWM``) in MiB."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def main() -> None:
    recipients, sandbox_url = int(sys.argv[1]), sys.argv[2]
    common.setup_django()
    from django.utils import timezone

    from django_sinch_whatsapp import services
    from django_sinch_whatsapp.models import Bot, OutboundMessage

    bot = common.bench_bot(sandbox_url)
    Bot.objects.filter(pk=bot.pk).exists()  # connected before the "before" figure
    before = status_mib("VmRSS")
    # An iterator, as a caller streaming recipients would pass (issue 9: "an iterator in"): a list
    # would put the bench's own 100,000 strings (about 7 MiB) into the send's peak.
    numbers = (str(46710000000 + i) for i in range(recipients))  # valid Swedish mobile numbers
    started = timezone.now()
    services.send_message(bot, numbers, {"type": "text", "text": "Hello"}, allow_outside_window=True)
    peak = status_mib("VmHWM")
    recorded = OutboundMessage.objects.filter(bot=bot, created_at__gte=started, sinch_message_id__isnull=False).count()
    if recorded != recipients:
        raise SystemExit(f"only {recorded} of {recipients} recipients were sent: the figure would mean nothing")
    print(json.dumps({"recipients": recipients, "before_mib": before, "peak_mib": peak}))


if __name__ == "__main__":
    main()
