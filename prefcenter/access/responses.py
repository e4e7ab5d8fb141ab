"""The streamed download of an access export, shared by the admin, the preference page and
the API. The request is marked completed only when the last byte has been produced."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import StreamingHttpResponse

from crm.models import Person
from prefcenter.access.export import export_filename, export_json, export_zip
from prefcenter.access.models import AccessRequest
from prefcenter.access.services import access_request_complete

FORMATS = {
    "zip": ("application/zip", export_zip),
    "json": ("application/json", export_json),
}


def _until_complete(pieces: Iterator[bytes], access_request: AccessRequest) -> Iterator[bytes]:
    for piece in pieces:
        if piece:
            yield piece
    access_request_complete(access_request=access_request)


def export_response(
    *, person: Person, access_request: AccessRequest, export_format: str = "zip"
) -> StreamingHttpResponse:
    content_type, produce = FORMATS[export_format]
    pieces = produce(person=person, access_request=access_request)
    response = StreamingHttpResponse(
        _until_complete(pieces, access_request), content_type=content_type
    )
    filename = export_filename(person=person, extension=export_format)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    return response
