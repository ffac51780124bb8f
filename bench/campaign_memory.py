"""Peak RSS of a whole campaign (validate, store, send) at two sizes: flat means a ratio near 1.0.

    PYTHONPATH=. python bench/campaign_memory.py [2000 20000]

Each size runs in a fresh process (``ru_maxrss`` is per process): it writes a
CSV of that many rows (1% bad), runs ``manage.py sinch_whatsapp_campaign`` on
it in-process against the sandbox (its own process, so its request log is not
counted), and prints the counts, seconds and peak RSS. The database is
``DATABASE_URL`` (default: a temporary SQLite file per size).
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.measure_send_path import make_bot, setup_django, start_sandbox  # noqa: E402


def child(rows: int, base_url: str) -> None:
    setup_django()
    from django.core.management import call_command

    from django_sinch_whatsapp.models import Campaign
    from django_sinch_whatsapp.services import campaigns
    from tests.campaign_files import write_campaign_csv

    bot = make_bot(base_url)
    path = Path(tempfile.mkdtemp()) / "campaign.csv"
    expected = write_campaign_csv(path, rows)
    started = time.perf_counter()
    call_command(
        "sinch_whatsapp_campaign", str(path), "--bot", str(bot.pk), "--template", "spring_offer",
        "--number-column", "phone", "--param-column", "first_name", "--param-column", "offer",
        "--progress", "none", stdout=io.StringIO(),
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    summary = campaigns.summarize(Campaign.objects.get(bot=bot))
    assert (summary.accepted, summary.rejected) == (expected["accepted"], expected["rejected"]), summary
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": rows, "accepted": summary.accepted, "rejected": summary.rejected,
                      "sent": summary.sent, "failed": summary.failed, "unknown": summary.unknown,
                      "seconds": round(elapsed, 1), "peak_rss_mb": round(peak_kib / 1024, 1)}))  # fmt: skip


def main(sizes: list[int]) -> None:
    sandbox, base_url = start_sandbox()
    try:
        results = []
        for size in sizes:
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            if "DATABASE_URL" not in os.environ:
                env["DATABASE_URL"] = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "campaign.sqlite3")
            output = subprocess.run(
                [sys.executable, __file__, "child", str(size), base_url],
                cwd=REPO, env=env, check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            results.append(json.loads(output.strip().splitlines()[-1]))
            print(results[-1], flush=True)
        if len(results) > 1:
            first, last = results[0], results[-1]
            print(
                f"rows x{last['rows'] / first['rows']:.0f}: peak RSS {first['peak_rss_mb']} MB -> "
                f"{last['peak_rss_mb']} MB, ratio {last['peak_rss_mb'] / first['peak_rss_mb']:.2f} (flat: about 1.0)"
            )
    finally:
        sandbox.terminate()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(int(sys.argv[2]), sys.argv[3])
    else:
        main([int(n) for n in sys.argv[1:]] or [2_000, 20_000])
