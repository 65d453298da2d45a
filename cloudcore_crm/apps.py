from django.apps import AppConfig


class CloudcoreCrmConfig(AppConfig):
    """Project-wide pieces: roles (groups), context processors, shared templates."""

    name = "cloudcore_crm"
    verbose_name = "CloudCore CRM"
