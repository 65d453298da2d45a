"""The helpdesk's endpoints, under /api/support/ (no session: a signature or a token)."""

from django.urls import path

from support_bridge import views

app_name = "support_api"

urlpatterns = [
    path("webhook", views.webhook, name="webhook"),
    path("lookup", views.api_lookup, name="lookup"),
]
