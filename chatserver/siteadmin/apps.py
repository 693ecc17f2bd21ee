from django.apps import AppConfig


class SiteAdminConfig(AppConfig):
    name = "chatserver.siteadmin"
    label = "siteadmin"
    verbose_name = "Site administration"
