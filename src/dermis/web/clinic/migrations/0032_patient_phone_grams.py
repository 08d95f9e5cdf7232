"""Phone search among many patients: each stored number's runs of seven digits, indexed (GIN) on
PostgreSQL, so that a number typed whole or in part (seven digits or more) is looked up among the
numbers holding all of its runs before `LIKE` checks it (`patients.filters._phone`). The trigram
index alone read most of itself for a number: a trigram of digits is common to most numbers.

`dermis_phone_grams(text)` is the number's digits' runs of seven, as a text array: IMMUTABLE, so
that an index may be built on it and a search's constant side is worked out once as it is
planned. SQLite keeps its b-tree index and `LIKE`.

Self-contained on purpose: a migration must go on doing what it did when written.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION dermis_phone_grams(number text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(s.digits, i, 7)), '{}')
  FROM (SELECT regexp_replace(number, '[^0-9]', '', 'g') AS digits) AS s,
       generate_series(1, length(s.digits) - 6) AS i
$$
"""
INDEX = (
    "CREATE INDEX IF NOT EXISTS clinic_patient_phone_grams ON clinic_patient "
    "USING gin (dermis_phone_grams(phone_normalised))"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    schema_editor.execute(INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS clinic_patient_phone_grams")
    schema_editor.execute("DROP FUNCTION IF EXISTS dermis_phone_grams(text)")


class Migration(migrations.Migration):
    dependencies = [("clinic", "0031_recall_version")]

    operations = [migrations.RunPython(forwards, backwards)]
