"""API tokens move from DRF's authtoken (raw keys in the database) to django-rest-knox
(SHA-512 digests only). Existing keys keep working: each becomes a knox token with the
digest of the same key, and the old table, which holds the raw keys, is dropped."""

from datetime import UTC, datetime

from django.db import migrations
from knox.crypto import hash_token
from knox.settings import CONSTANTS

OLD_TABLE = "authtoken_token"


def move_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("knox", "AuthToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {OLD_TABLE}")  # noqa: S608
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        if isinstance(created, datetime) and created.tzinfo is None:  # stored in UTC
            created = created.replace(tzinfo=UTC)
        digest = hash_token(key)
        AuthToken.objects.bulk_create([AuthToken(
            digest=digest, token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id,
            expiry=None,
        )])
        AuthToken.objects.filter(pk=digest).update(created=created)  # not auto_now_add's
    schema_editor.execute(f"DROP TABLE {OLD_TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_roles"),
        ("knox", "0009_extend_authtoken_field"),
    ]
    operations = [migrations.RunPython(move_tokens, migrations.RunPython.noop)]
