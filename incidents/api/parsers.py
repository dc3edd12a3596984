"""The API's JSON parser: DRF's, refusing bodies nested deeper than any request of ours needs.

Python's json module parses by recursion, so a body like `[[[[…]]]]` a thousand deep raises
RecursionError (a 500) instead of a parse error, and one a few hundred deep parses but can
exhaust the stack of whatever walks it next. Both become a ParseError, which the API answers
as `{"body": [...]}` with 400 (errors.py).
"""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The deepest request body we accept: a report is 3 deep ({"attributes": {"kind": [...]}}).
MAX_DEPTH = 32


def nested_deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and objects in `data` nest more than `limit` deep (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(f"lists and objects nest more than {MAX_DEPTH} deep.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if isinstance(data, (dict, list)) and nested_deeper_than(data, MAX_DEPTH):
            raise too_deep
        return data
