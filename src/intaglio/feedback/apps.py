from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "intaglio.feedback"
    label = "feedback"

    def ready(self):
        from intaglio.feedback import jobs  # noqa: F401  register the burn-photo job kind
        from intaglio.feedback.personal_data import declare

        declare()  # burn reports, for privacy's rights
