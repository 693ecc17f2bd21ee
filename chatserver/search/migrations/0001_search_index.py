"""Create the full-text and trigram indexes over chat_message (see search/schema.py)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from chatserver.search import schema

    schema.install(schema_editor.connection)


def backwards(apps, schema_editor):
    from chatserver.search import schema

    schema.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
