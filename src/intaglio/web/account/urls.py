"""Signing up and in, the password, and the account settings page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from intaglio.web.account import views

urlpatterns = [
    path("signup/", views.sign_up, name="signup"),
    path("signup/done/", views.sign_up_done, name="signup-done"),
    path("verify-email/resend/", views.resend_verification, name="verify-email-resend"),
    path("verify-email/<uidb64>/<token>/", views.verify_email, name="verify-email"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/link/", views.sign_in_link, name="sign-in-link"),
    path("login/link/<str:token>/", views.sign_in_link_use, name="sign-in-link-use"),
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
    path("account/", views.account, name="account"),
    path("account/email/", views.account_email, name="account-email"),
    path("account/email/confirm/<str:token>/", views.account_email_confirm, name="email-change-confirm"),
    path("account/password/", views.account_password, name="account-password"),
    path("account/tokens/", views.account_token_create, name="account-token-create"),
    path("account/tokens/<int:token_id>/revoke/", views.account_token_revoke, name="account-token-revoke"),
    path("account/close/", views.account_close, name="account-close"),
    path("account/closed/", views.account_closed, name="account-closed"),
]
