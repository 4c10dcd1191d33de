from __future__ import annotations

from django.urls import path

from highlights import views

app_name = "highlights"
urlpatterns = [
    path("", views.library, name="library"),
    path("authors/", views.author_list, name="authors"),
    path("authors/<int:pk>/", views.author_detail, name="author"),
    path("tags/", views.tag_list, name="tags"),
    # <path:> so a tag name may hold "/" (and, percent-encoded, "#", "?", "%", spaces, emoji).
    path("tags/<path:name>/", views.tag_detail, name="tag"),
    path("highlights/random/", views.random_highlight, name="random"),
    path("highlights/<int:pk>/", views.highlight_detail, name="detail"),
    path("search/", views.search_page, name="search"),
]
