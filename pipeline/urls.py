from django.urls import path

from pipeline import views

app_name = "pipeline"

urlpatterns = [
    path("", views.board, name="board"),
    path("list/", views.deal_list, name="deal_list"),
    path("funnel/", views.funnel, name="funnel"),
    path("deals/<int:pk>/move/", views.deal_move, name="deal_move"),
    path("views/save/", views.view_save, name="view_save"),
    path("views/<int:pk>/delete/", views.view_delete, name="view_delete"),
]
