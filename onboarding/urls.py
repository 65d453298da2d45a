from django.urls import path

from onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("", views.board, name="board"),
    path("new/", views.order_add, name="order_add"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:pk>/claim/", views.task_claim, name="task_claim"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:pk>/fail/", views.task_fail, name="task_fail"),
    path("exceptions/", views.exception_list, name="exception_list"),
    path("exceptions/<int:pk>/resolve/", views.exception_resolve, name="exception_resolve"),
    path("<str:order_id>/", views.order_detail, name="order_detail"),
    path("<str:order_id>/edit/", views.order_edit, name="order_edit"),
    path("<str:order_id>/validate/", views.order_validate, name="order_validate"),
    path("<str:order_id>/return/", views.order_return, name="order_return"),
    path("<str:order_id>/cancel/", views.order_cancel, name="order_cancel"),
    path("<str:order_id>/override/", views.order_override, name="order_override"),
    path("<str:order_id>/status-link/", views.order_status_link, name="order_status_link"),
]
