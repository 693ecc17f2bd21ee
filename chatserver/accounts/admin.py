from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ApiToken, User


@admin.register(User)
class ChatUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "role", "is_bot", "is_active")
    fieldsets = (*(UserAdmin.fieldsets or ()),
                 ("Chat", {"fields": ("display_name", "role", "is_bot")}))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "name", "created_at", "last_used_at")
    readonly_fields = ("digest",)
