from django.contrib import admin

from evalhub.fits.models import SharedFit


@admin.register(SharedFit)
class SharedFitAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "scope", "status", "compute_runs", "finished_at"]
    list_filter = ["kind", "status"]
    readonly_fields = ["created_at", "finished_at", "result", "inputs"]
