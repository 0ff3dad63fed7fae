from pathlib import PurePath

from django.db import migrations, models


def title_uploads(apps, schema_editor):
    """Uploads stored before titles existed are called after their download name ("photo-20261207-082654")."""
    Asset = apps.get_model("assets", "Asset")
    uploads = Asset.objects.filter(produced_by__isnull=True, title="")
    for asset in uploads.only("pk", "download_name").iterator():
        Asset.objects.filter(pk=asset.pk).update(title=PurePath(asset.download_name).stem[:120])


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0003_retention_per_job_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="asset",
            name="title",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.RunPython(title_uploads, migrations.RunPython.noop),
    ]
