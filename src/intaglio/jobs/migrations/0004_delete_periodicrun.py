from django.db import migrations


class Migration(migrations.Migration):
    """PeriodicRun moved to core, which keeps using this table: only the state changes."""

    dependencies = [("core", "0001_initial"), ("jobs", "0003_job_result")]
    operations = [migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="PeriodicRun")])]
