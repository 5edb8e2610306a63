from django.contrib import admin

from generation.judging.models import JudgeCall, JudgePrice, PairConsistency, VerdictCacheEntry


@admin.register(JudgePrice)
class JudgePriceAdmin(admin.ModelAdmin):
    list_display = ["model", "usd_per_mtok_in", "usd_per_mtok_out", "updated_at"]


@admin.register(JudgeCall)
class JudgeCallAdmin(admin.ModelAdmin):
    list_display = ["id", "judge", "item", "order", "attempt", "outcome", "http_status"]
    list_filter = ["outcome"]


admin.site.register(VerdictCacheEntry)
admin.site.register(PairConsistency)
