"""How the OpenAPI document describes the API: every operation's errors as problem details,
the bearer key, the ``Idempotency-Key`` header on POST, and /api/v1/ only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from prefcenter.api.idempotency import HEADER, KEY_MAX_LENGTH
from prefcenter.api.problems import PROBLEM_CONTENT_TYPE, TITLES

API_PREFIX = "/api/v1/"


class ProblemFieldErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(
        help_text="A JSON pointer into the body, ?name for a query parameter, header:Name."
    )
    detail = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = ProblemFieldErrorSerializer(many=True, required=False)


IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": KEY_MAX_LENGTH,
        "pattern": "^[!-~]([ -~]*[!-~])?$",
    },
    OpenApiParameter.HEADER,
    required=False,
    description=f"Up to {KEY_MAX_LENGTH} printable ASCII characters, unique per request. "
    "A retry with the same key and body gets the first answer again (for a day); the same "
    "key with another body gets 422.",
)


class ProblemAutoSchema(AutoSchema):
    """Adds the errors each operation can answer, all in the problem details shape."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def _error_codes(self) -> list[int]:
        codes = [400, 401, 403, 404, 406, 429]
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append(415)
        if self.method == "POST":
            codes += [409, 422]
        return codes

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if not self.path.startswith(API_PREFIX):
            return responses
        for code in self._error_codes():
            if str(code) not in responses:
                response = self._get_response_for_code(
                    ProblemSerializer, str(code), [PROBLEM_CONTENT_TYPE], direction
                )
                response["description"] = TITLES[code]
                responses[str(code)] = response
        return responses


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "prefcenter.api.auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key made in the admin: `Authorization: Bearer pck_...`.",
        }


def only_api_v1(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """Spectacular's preprocessing hook: the document describes /api/v1/ and nothing else."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(API_PREFIX)]
