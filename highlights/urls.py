from __future__ import annotations

from django.urls import path

from highlights import curate, manage, views

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
    # Curating (highlights/curate.py). Managing tags lives under tagging/, not tags/, where any
    # path is a tag's name.
    path("highlights/<int:pk>/tags/", curate.highlight_tag_add, name="highlight_tag_add"),
    path("highlights/<int:pk>/tags/remove/", curate.highlight_tag_remove, name="highlight_tag_remove"),
    path("highlights/<int:pk>/favorite/", curate.highlight_favorite, name="favorite"),
    path("highlights/<int:pk>/note/", curate.highlight_note, name="note"),
    path("sources/<int:pk>/tags/", curate.source_tag_add, name="source_tag_add"),
    path("sources/<int:pk>/tags/remove/", curate.source_tag_remove, name="source_tag_remove"),
    path("sources/<int:pk>/note/", curate.source_note, name="source_note"),
    path("tagging/suggest/", curate.tag_suggest, name="tag_suggest"),
    path("tagging/<int:pk>/", curate.tag_edit, name="tag_edit"),
    path("tagging/<int:pk>/rename/", curate.tag_rename, name="tag_rename"),
    path("tagging/<int:pk>/delete/", curate.tag_delete, name="tag_delete"),
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
