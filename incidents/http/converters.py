class PublicIdConverter:
    """A report's public id, e.g. CT-2026-000123: letters, digits and dashes only, so anything
    else in the path is a plain 404."""

    regex = "[A-Za-z0-9-]{1,40}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value

