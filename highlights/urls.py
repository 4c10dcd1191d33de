from __future__ import annotations

from django.urls import path

from highlights import views

app_name = "highlights"
urlpatterns = [
    path("", views.library, name="library"),
    path("authors/<int:pk>/", views.author_detail, name="author"),
    path("tags/<str:name>/", views.tag_detail, name="tag"),
    path("highlights/<int:pk>/", views.highlight_detail, name="detail"),
]
