from django.urls import path

from renewals import views

app_name = "renewals"

urlpatterns = [
    path("", views.board, name="board"),
    path("export/", views.board_export, name="board_export"),
    path("findings/", views.finding_list, name="finding_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/outreach/", views.case_outreach, name="case_outreach"),
    path("cases/<int:pk>/renew/", views.case_renew, name="case_renew"),
    path("cases/<int:pk>/lose/", views.case_lose, name="case_lose"),
    path("calendar/tokens/add/", views.token_add, name="token_add"),
    path("calendar/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
