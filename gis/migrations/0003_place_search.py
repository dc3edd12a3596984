"""Finding places by name and sorting names the Vietnamese way.

- pg_trgm and unaccent (both shipped with PostgreSQL, both trusted: a database owner may create
  them) let a search for "hoa luu" find "Xã Hoả Lựu": names are folded by citypin_fold(),
  unaccent then lower (in that order, so a "C"-collated database lowercases what unaccent has
  already made ASCII). unaccent() itself is only STABLE (its dictionary could change), so the
  wrapper names the dictionary and is declared IMMUTABLE, the documented way to index it.
- Trigram GIN indexes on the folded names of areas and assets serve both LIKE '%…%' and the
  word-similarity operator (<%) used by gis.places.
- vi_icu, an ICU collation for Vietnamese: ORDER BY name COLLATE vi_icu puts "Phường Đại
  Thành" after "Phường D…" and "Thốt" before "Thuận", which the database's default collation
  (often C or en_US) does not.
"""

from django.db import migrations

FORWARD = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE FUNCTION citypin_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;

CREATE INDEX geo_area_name_vi_trgm ON geo_area USING gin (citypin_fold(name_vi) gin_trgm_ops);
CREATE INDEX geo_area_name_en_trgm ON geo_area USING gin (citypin_fold(name_en) gin_trgm_ops);
CREATE INDEX geo_asset_name_trgm ON geo_asset USING gin (citypin_fold(name) gin_trgm_ops);

CREATE COLLATION IF NOT EXISTS vi_icu (provider = icu, locale = 'vi');
"""

BACKWARD = """
DROP COLLATION IF EXISTS vi_icu;
DROP INDEX geo_asset_name_trgm;
DROP INDEX geo_area_name_en_trgm;
DROP INDEX geo_area_name_vi_trgm;
DROP FUNCTION citypin_fold(text);
"""


class Migration(migrations.Migration):
    dependencies = [("geo", "0002_spatial_support")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
