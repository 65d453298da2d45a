from django.apps import AppConfig


class CloudcoreCrmConfig(AppConfig):
    """Project-wide pieces: roles (groups), context processors, shared templates."""

    name = "cloudcore_crm"
    verbose_name = "CloudCore CRM"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from cloudcore_crm.lib.security import start_session_clock

        # Infrastructure: the session timeout's clock starts at login, so ordinary requests
        # do not write the session.
        user_logged_in.connect(start_session_clock, dispatch_uid="cloudcore_session_clock")
