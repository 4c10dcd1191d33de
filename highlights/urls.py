from __future__ import annotations

from django.urls import path

from highlights import manage, views

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
    # Curating (highlights/manage.py): edit, delete and restore one, act on many, the Trash.
    path("highlights/<int:pk>/card/", manage.highlight_card, name="card"),
    path("highlights/<int:pk>/edit/", manage.highlight_edit, name="edit"),
    path("highlights/<int:pk>/delete/", manage.highlight_delete, name="delete"),
    path("highlights/<int:pk>/restore/", manage.highlight_restore, name="restore"),
    path("highlights/bulk/", manage.bulk, name="bulk"),
    path("trash/", manage.trash_page, name="trash"),
    path("trash/restore/", manage.trash_restore, name="restore_trash"),
    path("trash/empty/", manage.trash_empty, name="empty_trash"),
]
