"""Every API error is `{field: [messages]}`: a client can put each message beside its field."""

from __future__ import annotations

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from incidents.http.outage import is_outage


def field_error_handler(exc, context):
    if is_outage(exc):  # raised on to DatabaseOutageMiddleware, which waits for the database and retries a read
        return None
    if isinstance(exc, exceptions.ParseError):
        return Response({"body": [f"Malformed JSON: {exc.detail}"]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return Response(
            {"content_type": [f"Send application/json, not {exc.detail}".replace("Unsupported media type ", "")]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError) and not isinstance(response.data, dict):
        response.data = {"non_field_errors": response.data}
    elif response is not None and isinstance(response.data, dict) and isinstance(response.data.get("detail"), str):
        # not found (an unknown ?format= too), throttled, not allowed: one message, still a list
        response.data = {"detail": [response.data["detail"]]}
    return response

