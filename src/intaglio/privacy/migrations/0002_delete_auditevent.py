from django.db import migrations

# AuditEvent moved to core, which keeps using this table: only the state changes.
STATE = [migrations.DeleteModel(name="AuditEvent")]


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("privacy", "0001_initial")]
    operations = [migrations.SeparateDatabaseAndState(state_operations=STATE)]
