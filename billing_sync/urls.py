from django.urls import path

from billing_sync import views

app_name = "billing_sync"

urlpatterns = [
    path("", views.import_list, name="import_list"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("imports/files/<int:pk>/rejected.csv", views.importfile_rejected, name="importfile_rejected"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/<int:pk>/map/", views.contact_map, name="contact_map"),
    path("discrepancies/", views.discrepancy_list, name="discrepancy_list"),
    path("discrepancies/<int:pk>/", views.discrepancy_detail, name="discrepancy_detail"),
    path("discrepancies/<int:pk>/resolve/", views.discrepancy_resolve, name="discrepancy_resolve"),
    path("handoffs/", views.handoff_list, name="handoff_list"),
]
