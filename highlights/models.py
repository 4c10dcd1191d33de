"""Highlights and tags: the reader's own words and the order they put on them."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse


def fingerprint(text: str) -> str:
    """What makes two highlights of one source the same, whatever whitespace or case changed."""
    normal = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return hashlib.sha256(normal.encode()).hexdigest()[:32]


class LocationKind(models.TextChoices):
    NONE = "", "None"
    LOCATION = "location", "Location"
    PAGE = "page", "Page"
    TIME = "time", "Time"
    OFFSET = "offset", "Offset"
    ORDER = "order", "Order"


class Tag(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=200)
    sources = models.ManyToManyField("archive.Source", related_name="tags", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [Lower("name")]
        constraints = [models.UniqueConstraint(Lower("name"), "user", name="tag_unique_name_per_user")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name = self.name.strip()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("highlights:tag", args=[self.name])


class HighlightQuerySet(models.QuerySet["Highlight"]):
    def for_user(self, user: Any) -> HighlightQuerySet:
        return self.filter(user=user, deleted_at__isnull=True)


class Highlight(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="highlights")
    source = models.ForeignKey("archive.Source", on_delete=models.CASCADE, related_name="highlights")
    position = models.PositiveIntegerField(default=0, help_text="Order within the source.")
    text = models.TextField(blank=True)
    note = models.TextField(blank=True)
    location = models.CharField(max_length=100, blank=True)
    location_kind = models.CharField(max_length=10, choices=LocationKind.choices, blank=True)
    page = models.CharField(
        max_length=50, blank=True, help_text="The printed page, where the export gives one besides the location."
    )
    url = models.URLField(max_length=2000, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    color = models.CharField(max_length=30, blank=True)
    highlighted_at = models.DateTimeField(null=True, blank=True)
    favorite = models.BooleanField(default=False)
    tags = models.ManyToManyField(Tag, related_name="highlights", blank=True)
    fingerprint = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    edited_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last changed by its owner in Commonplace; re-imports leave it alone.",
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("text", config="english", weight="A")
        + SearchVector("note", config="english", weight="B"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = HighlightQuerySet.as_manager()

    class Meta:
        ordering = ["source", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "fingerprint"],
                name="highlight_unique_fingerprint_per_source",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="highlight_search_vector"),
            GinIndex(OpClass("text", name="gin_trgm_ops"), name="highlight_text_trigram"),
            models.Index(fields=["source", "position"], name="highlight_source_position"),
            models.Index(fields=["user", "-highlighted_at"], name="highlight_user_highlighted"),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.text or self.note)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("highlights:detail", args=[self.pk])
