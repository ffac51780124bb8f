"""CSV files for the campaign tests and benchmark: valid rows with 1% bad ones, written a line at a time."""

from __future__ import annotations

import csv
from pathlib import Path

FIRST_NAMES = ["Anna", "Björn", "Carla", "Dawit", "Eva"]
OFFERS = ["spring", "summer"]
#: Every ``BAD_EVERY``-th data row is bad, cycling through these kinds.
BAD_EVERY = 100
BAD_KINDS = ["invalid number", "empty parameter", "missing field", "parameter too long"]


def number_for(index: int) -> str:
    """A valid Swedish mobile number, unique per index (written in mixed spellings, as people do)."""
    digits = f"{index:07d}"
    return f"+46 70 {digits[:3]} {digits[3:]}" if index % 2 else f"+4670{digits}"


def wire_for(index: int) -> str:
    return f"4670{index:07d}"


def write_campaign_csv(path: Path, rows: int) -> dict[str, int]:
    """``rows`` data rows to ``path``; returns the expected counts (and which kinds were bad)."""
    expected = {"accepted": 0, "rejected": 0}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "first_name", "offer"])
        for index in range(1, rows + 1):
            name, offer = FIRST_NAMES[index % len(FIRST_NAMES)], OFFERS[index % len(OFFERS)]
            if index % BAD_EVERY == 0:
                kind = BAD_KINDS[(index // BAD_EVERY) % len(BAD_KINDS)]
                expected["rejected"] += 1
                expected[kind] = expected.get(kind, 0) + 1
                if kind == "invalid number":
                    writer.writerow([f"12-{index}", name, offer])
                elif kind == "empty parameter":
                    writer.writerow([number_for(index), "", offer])
                elif kind == "missing field":
                    writer.writerow([number_for(index), name])
                else:  # whatsapp-message.md: body_params, up to 1024 characters in all
                    writer.writerow([number_for(index), name * 300, offer])
                continue
            expected["accepted"] += 1
            writer.writerow([number_for(index), name, offer])
    return expected
