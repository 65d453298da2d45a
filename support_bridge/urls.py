from django.urls import path

from support_bridge import views

app_name = "support"

urlpatterns = [
    path("lookup/", views.lookup_page, name="lookup"),
    path("unmapped/", views.unmapped_list, name="unmapped_list"),
    path("unmapped/<int:pk>/map/", views.unmapped_map, name="unmapped_map"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("concerns/<str:code>/add/", views.concern_add, name="concern_add"),
]
