from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from intaglio.web import views

urlpatterns = [
    path("", views.landing, name="landing"),
    # Browsers, bookmarks and feed readers ask for /favicon.ico whatever the page declares.
    path("favicon.ico", RedirectView.as_view(url=static("web/favicon.svg"), permanent=True)),
    path("signup/", views.sign_up, name="signup"),
    path("signup/done/", views.sign_up_done, name="signup-done"),
    path("verify-email/resend/", views.resend_verification, name="verify-email-resend"),
    path("verify-email/<uidb64>/<token>/", views.verify_email, name="verify-email"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="web/password_reset_done.html"),
        name="password-reset-done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="web/password_reset_complete.html"),
        name="password-reset-complete",
    ),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("uploads/", views.upload, name="upload"),
    path("jobs/list/", views.job_list_fragment, name="job-list"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/panel/", views.job_panel, name="job-panel"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel, name="job-cancel"),
    path("jobs/<int:job_id>/delete/", views.job_delete, name="job-delete"),
    path("credits/", views.credits_page, name="credits"),
    path("engrave/", include("intaglio.web.engrave.urls")),
    path("engrave/", include("intaglio.web.library.urls")),
    path("jewellery/", include("intaglio.web.jewellery_urls")),
    path("", include("intaglio.web.consent_urls")),
    path("", include("intaglio.web.rights_urls")),
    path("", include("intaglio.web.notice_urls")),
    path("account/", views.account, name="account"),
    path("account/email/", views.account_email, name="account-email"),
    path("account/email/confirm/<str:token>/", views.account_email_confirm, name="email-change-confirm"),
    path("account/password/", views.account_password, name="account-password"),
    path("account/tokens/", views.account_token_create, name="account-token-create"),
    path("account/tokens/<int:token_id>/revoke/", views.account_token_revoke, name="account-token-revoke"),
    path("account/close/", views.account_close, name="account-close"),
    path("account/closed/", views.account_closed, name="account-closed"),
]
