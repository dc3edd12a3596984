"""Atom 1.0 documents (RFC 4287) with a GeoRSS-Simple point per entry, written by Django's own
feed generator (django.contrib.gis.feeds.GeoAtom1Feed: XML escaping, RFC 3339 dates,
georss:point as "lat lon").

Texts are plain: a summary is escaped, then its line breaks become <br>, and sent as
type="html", so a feed reader shows what the citizen typed ("<b>" stays literally "<b>") and
can never be made to render markup from it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.gis.feeds import GeoAtom1Feed
from django.utils.html import escape

# An empty feed has nothing newer than this: a fixed `updated` keeps its ETag stable.
NOTHING_YET = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    id: str  # stable: the report's URL, or its URL with #event-<id>
    link: str  # the public page it is about
    title: str
    summary: str  # plain text
    published: datetime
    updated: datetime
    point: tuple[float, float] | None  # lon, lat of the PUBLIC point, SRID 4326
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    subtitle: str
    self_url: str
    alternate_url: str  # the HTML page about the same thing
    language: str
    entries: list[Entry]
    rights: str = ""
    point: tuple[float, float] | None = None  # lon, lat (SRID 4326), for one report's feed

    @property
    def updated(self) -> datetime:
        """The newest entry's `updated` (NOTHING_YET for an empty feed)."""
        return max((e.updated for e in self.entries), default=NOTHING_YET)


class _GeoAtom(GeoAtom1Feed):
    def latest_post_date(self) -> datetime:
        return self.feed["updated"]  # Django's falls back to now(), which would change the ETag


def as_html(text: str) -> str:
    return escape(text).replace("\r\n", "\n").replace("\n", "<br>")


def render(feed: Feed) -> bytes:
    document = _GeoAtom(
        title=feed.title, link=feed.alternate_url, description=feed.subtitle, subtitle=feed.subtitle,
        language=feed.language, feed_url=feed.self_url, feed_guid=feed.id, author_name="Citypin",
        feed_copyright=feed.rights or None, updated=feed.updated, geometry=feed.point)
    for e in feed.entries:
        document.add_item(title=e.title, link=e.link, description=as_html(e.summary), unique_id=e.id,
                          pubdate=e.published, updateddate=e.updated, categories=e.categories, geometry=e.point)
    out = io.StringIO()
    document.write(out, "utf-8")
    return out.getvalue().encode("utf-8")
