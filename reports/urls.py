import datetime as dt

from django.urls import path, register_converter

from reports import views


class MonthConverter:
    """YYYY-MM in a URL, as the first day of that month."""

    regex = r"[0-9]{4}-[0-9]{2}"

    def to_python(self, value: str) -> dt.date:
        try:
            return dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError as error:
            raise ValueError(value) from error

    def to_url(self, value) -> str:
        return value.strftime("%Y-%m") if hasattr(value, "strftime") else str(value)


register_converter(MonthConverter, "month")

app_name = "reports"

urlpatterns = [
    path("board-pack/", views.board_pack_latest, name="board_pack_latest"),
    path("board-pack/<month:month>/", views.board_pack, name="board_pack"),
    path("board-pack/<month:month>.pdf", views.board_pack_pdf, name="board_pack_pdf"),
    path("board-pack/<month:month>.xlsx", views.board_pack_xlsx, name="board_pack_xlsx"),
    path("board-pack/<month:month>/accounts/", views.pack_accounts, name="pack_accounts"),
    path("snapshots/", views.snapshot_list, name="snapshot_list"),
    path("snapshots/<month:month>/refreeze/", views.snapshot_refreeze, name="snapshot_refreeze"),
    path("digest/", views.digest_preference, name="digest_preference"),
    path("digest/unsubscribe/<str:token>/", views.digest_unsubscribe, name="digest_unsubscribe"),
]
