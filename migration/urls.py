from django.urls import path

from migration import views

app_name = "migration"

urlpatterns = [
    path("", views.importrun_list, name="importrun_list"),
    path("runs/<int:pk>/", views.importrun_detail, name="importrun_detail"),
    path("runs/<int:pk>/confirm/", views.importrun_confirm, name="importrun_confirm"),
    path("files/<int:pk>/rejected.csv", views.importfile_rejected, name="importfile_rejected"),
    path("conflicts/", views.importconflict_list, name="importconflict_list"),
    path("conflicts/<int:pk>/resolve/", views.importconflict_resolve, name="importconflict_resolve"),
    path("reviews/", views.matchreview_list, name="matchreview_list"),
    path("conflicts/bulk/", views.importconflict_bulk, name="importconflict_bulk"),
    path("reviews/group/", views.matchreview_resolve_group, name="matchreview_resolve_group"),
    path("reviews/<int:pk>/resolve/", views.matchreview_resolve, name="matchreview_resolve"),
    path("subscriptions/", views.evidence_list, name="evidence_list"),
    path("subscriptions/<int:pk>/decide/", views.evidence_decide, name="evidence_decide"),
    path("held/", views.held_list, name="held_list"),
    path("held/<int:pk>/map/", views.held_map, name="held_map"),
    path("drift/", views.drift_list, name="drift_list"),
    path("drift/<int:pk>/resolve/", views.drift_resolve, name="drift_resolve"),
]
