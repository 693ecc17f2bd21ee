"""Admin pages of the built-in bots' data; every change is audited like the REST API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from chatserver.audit import log as audit

from .models import (
    Incident,
    IncidentEvent,
    Override,
    Page,
    Reminder,
    Rotation,
    RotationMember,
    RunbookAction,
    StatusEndpoint,
)


class AuditedAdmin(admin.ModelAdmin):
    kind = ""

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.record(actor=request.user, action=f"bots.{self.kind}."
                     f"{'updated' if change else 'created'}", target=f"{self.kind}:{obj.pk}",
                     detail={"changed": sorted(form.changed_data), "via": "admin"})

    def delete_model(self, request: Any, obj: Any) -> None:
        audit.record(actor=request.user, action=f"bots.{self.kind}.deleted",
                     target=f"{self.kind}:{obj.pk}", detail={"name": str(obj), "via": "admin"})
        super().delete_model(request, obj)


class MemberInline(admin.TabularInline):
    model = RotationMember
    extra = 1


class OverrideInline(admin.TabularInline):
    model = Override
    fk_name = "rotation"
    extra = 0


@admin.register(Rotation)
class RotationAdmin(AuditedAdmin):
    kind = "rotation"
    list_display = ("name", "period", "handoff", "tz", "starts_on", "escalate_minutes", "room")
    inlines = [MemberInline, OverrideInline]


@admin.register(RunbookAction)
class RunbookActionAdmin(AuditedAdmin):
    kind = "runbook_action"
    list_display = ("name", "description", "timeout_seconds", "needs_approval", "enabled")
    list_filter = ("enabled", "needs_approval")


@admin.register(StatusEndpoint)
class StatusEndpointAdmin(AuditedAdmin):
    kind = "status_endpoint"
    list_display = ("name", "url", "expected_status", "room", "enabled", "up", "last_status",
                    "last_latency_ms", "last_checked_at")
    readonly_fields = ("up", "failures", "last_status", "last_latency_ms", "last_error",
                       "last_checked_at")


class EventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    readonly_fields = ("kind", "text", "actor", "created_at")


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "sev", "status", "room", "created_at", "resolved_at")
    list_filter = ("status", "sev")
    inlines = [EventInline]


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ("id", "target", "rotation", "created_at", "acked_by", "acked_at")


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("id", "created_by", "room", "due_at", "cron", "active")
    list_filter = ("active",)
