"""`intaglio privacy_publish --version V [--material] --summary "…"`: publish a privacy notice version (E16, J32).

A material version is e-mailed once to every open account. Running the same command again is safe: it only reaches
the accounts an interrupted or failed run left out."""

from django.core.management.base import BaseCommand, CommandError

from intaglio.privacy.notice import PolicyPublishError, policy_publish


class Command(BaseCommand):
    help = (
        "Publish a version of the privacy notice. With --material, every open account is e-mailed once; run it again "
        "to finish after an interruption."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version names the notice version; it replaces Django's own --version (the program's version).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--version", required=True, help="the new version's name, e.g. 2025-06 or 1.1")
        parser.add_argument("--summary", required=True, help="what changed, in plain words (shown and e-mailed)")
        parser.add_argument(
            "--material", action="store_true", help="a material change: e-mail every open account about it"
        )

    def handle(self, *args, version, summary, material, **options):
        try:
            result = policy_publish(version=version, summary=summary, material=material)
        except PolicyPublishError as exc:
            raise CommandError(str(exc)) from exc
        policy = result.policy
        when = f"{policy.published_at:%Y-%m-%d %H:%M} UTC"
        if result.created:
            self.stdout.write(
                f"Published version {policy.version} ({'material' if policy.material else 'minor'}), {when}."
            )
        else:
            self.stdout.write(f"Version {policy.version} was already published ({when}); carrying on.")
        if policy.material:
            self.stdout.write(f"E-mailed {result.emailed} account(s); {result.already_told} had already been told.")
            if result.failed:
                raise CommandError(
                    f"{result.failed} e-mail(s) could not be sent (see the log). Run the same command again to retry "
                    "them; nobody is e-mailed twice."
                )
        else:
            self.stdout.write("Not material: no e-mails sent.")
