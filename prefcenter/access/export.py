"""The access export, streamed: one JSON document, or a zip of that document and one CSV
per section.

Rows come from server-side cursors and are written out as they arrive; the zip is written
by ``zipfile`` into a sink that hands each finished piece to the response, so the memory an
export needs stays flat however long the person's history is.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from crm.models import Person
from crm.phone import mdn_text
from prefcenter.access.models import AccessRequest
from prefcenter.access.registry import SECTIONS, Section

FORMAT = "prefcenter-access-export/1"
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Encoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        if type(o).__name__ == "PhoneNumber":
            return mdn_text(o)
        return super().default(o)


def _json(value: Any) -> str:
    return json.dumps(value, cls=_Encoder, ensure_ascii=False)


def export_json(*, person: Person, access_request: AccessRequest) -> Iterator[bytes]:
    """The whole export as one JSON object, produced piece by piece."""
    head = {
        "format": FORMAT,
        "request_id": str(access_request.public_id),
        "generated_at": timezone.now(),
        "person_id": person.pk,
        "sections_described": {section.name: section.about for section in SECTIONS},
    }
    yield _json(head)[:-1].encode() + b', "sections": {'
    for position, section in enumerate(SECTIONS):
        yield (", " if position else "").encode() + _json(section.name).encode() + b": ["
        for index, row in enumerate(section.rows(person)):
            yield (",\n" if index else "\n").encode() + _json(row).encode()
        yield b"]"
    yield b"}}\n"


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = _json(value)
    text = mdn_text(value) if type(value).__name__ == "PhoneNumber" else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_lines(section: Section, person: Person) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(section.columns)
    for row in section.rows(person):
        writer.writerow([_csv_cell(row[column]) for column in section.columns])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


class _Sink(io.RawIOBase):
    """A write-only, unseekable file: ``zipfile`` then writes data descriptors instead of
    seeking back, and each piece it writes can be sent at once."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._pieces.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._pieces)
        self._pieces.clear()
        return data


def export_zip(*, person: Person, access_request: AccessRequest) -> Iterator[bytes]:
    """A zip: ``export.json`` (the whole document) and ``<section>.csv`` per section."""
    sink = _Sink()
    files: list[tuple[str, Callable[[], Iterator[bytes]]]] = [
        ("export.json", lambda: export_json(person=person, access_request=access_request))
    ]
    files += [
        (f"{section.name}.csv", lambda section=section: _csv_lines(section, person))
        for section in SECTIONS
    ]
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, produce in files:
            with archive.open(name, mode="w") as entry:
                for piece in produce():
                    entry.write(piece)
                    yield sink.take()
            yield sink.take()
    yield sink.take()


def export_filename(*, person: Person, extension: str) -> str:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return f"personal-data-{person.pk}-{stamp}.{extension}"
