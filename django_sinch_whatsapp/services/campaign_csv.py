"""Reading a campaign's CSV one row at a time: the file is streamed, never held whole.

Only the columns the campaign maps are kept; a row that cannot be read (wrong
number of fields, a field over the size limit) is yielded with its reason so
the caller rejects it with its line number instead of stopping the campaign.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from ..exceptions import MessageValidationError

#: The longest field we read (a template body parameter is at most 1,024 characters).
MAX_FIELD_CHARACTERS = 4_096


@dataclass(frozen=True)
class ColumnMap:
    """Which CSV columns hold the number and, in order, the template's body parameters."""

    number: str = "number"
    params: tuple[str, ...] = ()


@dataclass
class CsvRow:
    """One data row: its first line in the file (the header is line 1), its values or why it is unreadable."""

    line: int
    number: str
    params: list[str]
    error: str | None = None


def read_rows(stream: TextIO, columns: ColumnMap, *, after_line: int = 0) -> Iterator[CsvRow]:
    """The rows of ``stream`` (text, opened with ``newline=""``), skipping those that start on or before ``after_line``.

    The header must name every mapped column (``MessageValidationError`` naming
    the option and the columns found otherwise). Blank lines are skipped.
    """
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise MessageValidationError("csv", "is empty; the first line must name the columns") from None
    except csv.Error as err:
        raise MessageValidationError("csv", f"header line cannot be read: {err}") from None
    positions = _positions(header, columns)
    width = len(header)
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            previous_end = reader.line_num
            if start > after_line:
                yield CsvRow(line=start, number="", params=[], error=f"cannot be read as CSV: {err}")
            continue
        previous_end = reader.line_num
        if start <= after_line or not any(field.strip() for field in fields):
            continue
        if len(fields) != width:
            error = f"has {len(fields)} fields; the header has {width}"
            yield CsvRow(line=start, number=_cell(fields, positions[0]), params=[], error=error)
            continue
        too_long = [header[i] for i in positions if len(fields[i]) > MAX_FIELD_CHARACTERS]
        if too_long:
            error = f"column {too_long[0]!r} is over {MAX_FIELD_CHARACTERS} characters"
            yield CsvRow(line=start, number=fields[positions[0]][:64], params=[], error=error)
            continue
        yield CsvRow(line=start, number=fields[positions[0]], params=[fields[i] for i in positions[1:]])


def _positions(header: Sequence[str], columns: ColumnMap) -> list[int]:
    names = [name.strip().lstrip("\ufeff") for name in header]
    positions = []
    for option, name in [("number_column", columns.number), *(("param_column", p) for p in columns.params)]:
        if name not in names:
            raise MessageValidationError(option, f"column {name!r} is not in the CSV header (it has {names})")
        positions.append(names.index(name))
    return positions


def _cell(fields: Sequence[str], index: int) -> str:
    return fields[index][:64] if index < len(fields) else ""
