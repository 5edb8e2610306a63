from django.contrib import admin

from evalhub.crowd.models import RaterExclusion


@admin.register(RaterExclusion)
class RaterExclusionAdmin(admin.ModelAdmin):
    list_display = ["at", "study", "rater", "action", "reason", "by", "judgments"]
    list_filter = ["action"]
    readonly_fields = ["at"]
