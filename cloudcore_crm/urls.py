from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cloudcore_crm import views as core_views
from customers import views as customer_views
from onboarding import views as onboarding_views

admin.site.site_header = "CloudCore CRM — data stewardship"
admin.site.site_title = "CloudCore CRM admin"

urlpatterns = [
    path("", customer_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/logins/", core_views.login_audit, name="login_audit"),
    path("accounts/logins/unlock/", core_views.login_unlock, name="login_unlock"),
    path("customers/", include("customers.urls")),
    path("search/", customer_views.search, name="search"),
    path("search/suggest/", customer_views.search_suggest, name="search_suggest"),
    path("migration/", include("migration.urls")),
    path("support/", include("support_bridge.urls")),
    path("api/support/", include("support_bridge.api_urls")),
    path("pipeline/", include("pipeline.urls")),
    path("reports/", include("reports.urls")),
    path("renewals/", include("renewals.urls")),
    path("profile/", core_views.profile, name="profile"),
    path("billing/", include("billing_sync.urls")),
    path("admin/", admin.site.urls),
    path("onboarding/", include("onboarding.urls")),
    path("api/onboarding/events", onboarding_views.inbound_event, name="onboarding_events"),
    path("status/<str:signed>/", onboarding_views.customer_status, name="onboarding_status"),
]
