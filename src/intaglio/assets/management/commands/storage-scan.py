import json as _json

from django.core.management.base import BaseCommand

from intaglio.assets.scan import storage_delete_orphans, storage_scan


class Command(BaseCommand):
    help = "List blobs that no Asset references and Assets whose blob is missing. Exits 1 when either exists."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--delete-orphans", action="store_true", help="delete orphan blobs older than an hour after listing them"
        )

    def handle(self, *args, json: bool = False, delete_orphans: bool = False, **options):
        report = storage_scan()
        deleted = storage_delete_orphans(report) if delete_orphans else 0
        if json:
            payload = {
                "blobs": report.blobs,
                "assets": report.assets,
                "orphan_blobs": report.orphan_blobs,
                "missing_blobs": report.missing_blobs,
                "deleted_orphans": deleted,
            }
            self.stdout.write(_json.dumps(payload, indent=2))
        else:
            self.stdout.write(
                f"blobs={report.blobs} assets={report.assets} orphan_blobs={len(report.orphan_blobs)} "
                f"missing_blobs={len(report.missing_blobs)}" + (f" deleted_orphans={deleted}" if delete_orphans else "")
            )
            for key in report.orphan_blobs:
                self.stdout.write(f"orphan blob: {key}")
            for pk in report.missing_blobs:
                self.stdout.write(f"missing blob for asset {pk}")
        if not report.clean:
            raise SystemExit(1)
