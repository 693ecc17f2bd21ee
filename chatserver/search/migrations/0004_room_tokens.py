"""SQLite: rebuild the word table with each message's room as a token (see
ROOM_COLUMN in search/schema.py), so room-scoped searches intersect in FTS5.
PostgreSQL: nothing (its room-scoped searches combine the GIN index with the
(room_id, id) index)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from chatserver.search import schema

    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            schema.sqlite_rebuild_words(cursor, schema.config_name(), room=True)


def backwards(apps, schema_editor):
    from chatserver.search import schema

    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            schema.sqlite_rebuild_words(cursor, schema.config_name(), room=False)


class Migration(migrations.Migration):
    dependencies = [("search", "0003_trigram_rows")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
