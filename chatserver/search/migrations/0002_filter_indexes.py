"""Partial indexes for the has:/is: filters (see FILTER_PREDICATES in search/schema.py)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from chatserver.search import schema

    with schema_editor.connection.cursor() as cursor:
        schema.install_filter_indexes(cursor)


def backwards(apps, schema_editor):
    from chatserver.search import schema

    with schema_editor.connection.cursor() as cursor:
        schema.uninstall_filter_indexes(cursor)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_search_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
