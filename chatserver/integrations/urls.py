"""Receivers, mounted at /hooks/ from chatserver/urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("respond/<str:token>", views.respond_view),  # slash commands' response_url
    path("<str:token>", views.receive_view),
    path("<str:token>/<str:fmt>", views.receive_view),
]
