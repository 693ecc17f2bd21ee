"""Messages out of time (see OUT_OF_TIME in search/schema.py): listed by trigger,
so a before:/on: search can start just under the ids written before its date."""

from django.db import migrations


def forwards(apps, schema_editor):
    from chatserver.search import schema

    with schema_editor.connection.cursor() as cursor:
        schema.install_out_of_time(cursor, schema_editor.connection.vendor)


def backwards(apps, schema_editor):
    from chatserver.search import schema

    with schema_editor.connection.cursor() as cursor:
        schema.uninstall_out_of_time(cursor, schema_editor.connection.vendor)


class Migration(migrations.Migration):
    dependencies = [("search", "0004_room_tokens")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
