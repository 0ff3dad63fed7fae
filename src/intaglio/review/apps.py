from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "intaglio.review"
    label = "review"

    def ready(self):
        from intaglio.review.personal_data import declare

        declare()  # reviewers' verdicts on a person's photos, for privacy's rights
