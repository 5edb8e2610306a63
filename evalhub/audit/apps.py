from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "evalhub.audit"
    label = "audit"
