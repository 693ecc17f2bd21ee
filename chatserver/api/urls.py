import functools

from django.urls import URLPattern, path

from bots import views as bot_views
from bots.builtin import api as builtin_api
from chatserver.chat.ids import MAX_ID
from chatserver.integrations import views as hook_views
from chatserver.siteadmin import views as admin_views

from . import views
from .errors import json_error

urlpatterns = [
    path("auth/login", views.LoginView.as_view()),
    path("auth/logout", views.LogoutView.as_view()),
    path("users/me", views.MeView.as_view()),
    path("users", views.UsersView.as_view()),
    path("users/<int:user_id>", views.UserView.as_view()),
    path("rooms", views.RoomsView.as_view()),
    path("rooms/<int:room_id>", views.RoomView.as_view()),
    path("rooms/<int:room_id>/join", views.JoinView.as_view()),
    path("rooms/<int:room_id>/leave", views.LeaveView.as_view()),
    path("rooms/<int:room_id>/members", views.MembersView.as_view()),
    path("rooms/<int:room_id>/members/<int:user_id>", views.MemberView.as_view()),
    path("rooms/<int:room_id>/messages", views.MessagesView.as_view()),
    path("rooms/<int:room_id>/read", views.ReadView.as_view()),
    path("rooms/<int:room_id>/pins", views.PinsView.as_view()),
    path("rooms/<int:room_id>/messages/<int:message_id>/pin", views.PinView.as_view()),
    path("dms", views.DirectView.as_view()),
    path("messages/<int:message_id>", views.MessageView.as_view()),
    path("messages/<int:message_id>/replies", views.RepliesView.as_view()),
    path("messages/<int:message_id>/reactions", views.ReactionsView.as_view()),
    path("messages/<int:message_id>/reactions/<str:emoji>", views.ReactionView.as_view()),
    path("admin/audit", views.AuditView.as_view()),
    path("admin/audit/export", admin_views.AuditExportView.as_view()),
    path("admin/users", admin_views.AdminUsersView.as_view()),
    path("admin/users/<int:user_id>/tokens", admin_views.UserTokensView.as_view()),
    path("admin/users/<int:user_id>/tokens/<int:token_id>", admin_views.UserTokenView.as_view()),
    path("admin/invites", admin_views.InvitesView.as_view()),
    path("admin/invites/<int:invite_id>", admin_views.InviteView.as_view()),
    path("admin/rooms", admin_views.AdminRoomsView.as_view()),
    path("admin/rooms/<int:room_id>/join", admin_views.AdminJoinView.as_view()),
    path("admin/rooms/<int:room_id>/export", admin_views.AdminRoomExportView.as_view()),
    path("admin/settings", admin_views.SiteSettingsView.as_view()),
    path("auth/accept-invite", admin_views.AcceptInviteView.as_view()),
    path("rooms/<int:room_id>/webhooks", hook_views.WebhooksView.as_view()),
    path("rooms/<int:room_id>/webhooks/<int:hook_id>", hook_views.WebhookView.as_view()),
    path("rooms/<int:room_id>/webhooks/<int:hook_id>/deliveries",
         hook_views.DeliveriesView.as_view()),
    path("rooms/<int:room_id>/webhooks/<int:hook_id>/deliveries/<int:delivery_id>/replay",
         hook_views.ReplayView.as_view()),
    path("bots", bot_views.BotsView.as_view()),
    path("bots/<int:bot_id>", bot_views.BotView.as_view()),
    path("rooms/<int:room_id>/bots", bot_views.RoomBotsView.as_view()),
    path("rooms/<int:room_id>/bots/<int:bot_id>", bot_views.RoomBotView.as_view()),
    path("search", views.SearchView.as_view()),
    path("admin/bots/rotations", builtin_api.RotationsView.as_view()),
    path("admin/bots/rotations/<int:item_id>", builtin_api.RotationView.as_view()),
    path("admin/bots/runbook-actions", builtin_api.RunbookActionsView.as_view()),
    path("admin/bots/runbook-actions/<int:item_id>", builtin_api.RunbookActionView.as_view()),
    path("admin/bots/status-endpoints", builtin_api.StatusEndpointsView.as_view()),
    path("admin/bots/status-endpoints/<int:item_id>",
         builtin_api.StatusEndpointView.as_view()),
    path("admin/bots/hook-tokens", builtin_api.HookTokensView.as_view()),
    path("admin/bots/hook-tokens/<int:item_id>", builtin_api.HookTokenView.as_view()),
]


def _ids_in_range(view):
    """An id past the database's integer range names nothing: answer 404 before any
    query (SQLite cannot even bind such a number and would raise OverflowError)."""

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if any(isinstance(v, int) and v > MAX_ID for v in kwargs.values()):
            return json_error(request, "not_found", "Not found.", 404)
        return view(request, *args, **kwargs)

    return guarded


urlpatterns = [
    URLPattern(p.pattern, _ids_in_range(p.callback), p.default_args, p.name)
    if isinstance(p, URLPattern) else p
    for p in urlpatterns
]
