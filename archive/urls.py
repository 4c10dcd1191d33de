from __future__ import annotations

from django.urls import path

from archive import curation, views

app_name = "archive"
urlpatterns = [
    path("import/", views.import_page, name="import"),
    path("import/history/", views.import_history, name="import_history"),
    path("import/<int:pk>/", views.import_job, name="import_job"),
    path("import/<int:pk>/retry/", views.import_retry, name="import_retry"),
    path("sources/<int:pk>/", views.source_detail, name="source"),
    path("sources/<int:pk>/markdown/", views.source_markdown, name="source_markdown"),
    path("sources/<int:pk>/edit/", curation.source_edit, name="source_edit"),
    path("sources/<int:pk>/merge/", curation.source_merge, name="source_merge"),
    path("sources/<int:pk>/delete/", curation.source_delete, name="source_delete"),
    path("sources/<int:pk>/restore/", curation.source_restore, name="source_restore"),
    path("export/", views.export_page, name="export"),
    path("export/download/", views.export_download, name="export_download"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/export/", views.settings_export, name="settings_export"),
    path("settings/export/preview/", views.settings_preview, name="settings_preview"),
]
