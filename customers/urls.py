from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("", views.account_list, name="account_list"),
    path("add/", views.account_add, name="account_add"),
    path("bulk/owner/", views.account_bulk_owner, name="account_bulk_owner"),
    # Before "<str:code>/", which would otherwise read "duplicates" as a client code.
    path("duplicates/", views.duplicate_list, name="duplicate_list"),
    path("duplicates/scan/", views.duplicate_scan, name="duplicate_scan"),
    path("duplicates/<int:pk>/", views.duplicate_detail, name="duplicate_detail"),
    path("duplicates/contacts/<int:pk>/", views.contact_duplicate_detail, name="contact_duplicate_detail"),
    path("duplicates/merges/<int:pk>/", views.merge_detail, name="merge_detail"),
    path("duplicates/contact-merges/<int:pk>/", views.contact_merge_detail, name="contact_merge_detail"),
    path("<str:code>/", views.account_detail, name="account_detail"),
    path("<str:code>/edit/", views.account_edit, name="account_edit"),
    path("<str:code>/history/", views.account_history, name="account_history"),
    path("<str:code>/contacts/add/", views.contact_add, name="contact_add"),
    path("<str:code>/contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("<str:code>/subscriptions/add/", views.subscription_add, name="subscription_add"),
    path("<str:code>/subscriptions/<int:pk>/edit/", views.subscription_edit, name="subscription_edit"),
    path("<str:code>/opportunities/add/", views.opportunity_add, name="opportunity_add"),
    path("<str:code>/opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("<str:code>/activities/add/", views.activity_add, name="activity_add"),
]
