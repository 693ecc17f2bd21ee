"""SQLite: keep messages made only of ASCII letters, digits and spaces out of the
trigram table (see TRIGRAM_ROWS in search/schema.py). PostgreSQL: nothing."""

from django.db import migrations


def forwards(apps, schema_editor):
    from chatserver.search import schema

    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            schema.sqlite_rebuild_trigram(cursor, only=schema.TRIGRAM_ROWS)


def backwards(apps, schema_editor):
    from chatserver.search import schema

    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            schema.sqlite_rebuild_trigram(cursor, only="")


class Migration(migrations.Migration):
    dependencies = [("search", "0002_filter_indexes")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
