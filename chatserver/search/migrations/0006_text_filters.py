"""PostgreSQL: the text index again for messages with a link or with code (see
TEXT_FILTERS in search/schema.py). Nothing on SQLite."""

from django.db import migrations


def forwards(apps, schema_editor):
    from chatserver.search import schema

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        schema.pg_install_text_filters(cursor)


def backwards(apps, schema_editor):
    from chatserver.search import schema

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        schema.pg_uninstall_text_filters(cursor)


class Migration(migrations.Migration):
    dependencies = [("search", "0005_out_of_time")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
