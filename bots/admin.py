"""Admin pages: bot health (pause/resume), runs, schedules and stored values."""

from django.contrib import admin

from .models import BotRun, BotState, BotValue, ScheduledJob


@admin.register(BotState)
class BotStateAdmin(admin.ModelAdmin):
    list_display = ("bot", "paused", "consecutive_failures", "muted_until")
    list_editable = ("paused",)


@admin.register(BotRun)
class BotRunAdmin(admin.ModelAdmin):
    list_display = ("id", "bot", "kind", "command", "caller", "room", "status", "approved_by",
                    "created_at")
    list_filter = ("status", "kind")
    search_fields = ("command", "canonical")
    readonly_fields = [f.name for f in BotRun._meta.fields]


@admin.register(ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin):
    list_display = ("bot", "handler", "interval_seconds", "cron", "tz", "next_run_at",
                    "last_run_at")


@admin.register(BotValue)
class BotValueAdmin(admin.ModelAdmin):
    list_display = ("bot", "scope", "key", "updated_at")
    search_fields = ("key",)
