"""What users told us about a flag, with the variant they had."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Feedback(models.Model):
    flag_key = models.CharField(max_length=100, db_index=True)
    unit = models.CharField(max_length=255, blank=True, help_text="User id, else anonymous id.")
    variant = models.CharField(max_length=100, blank=True, help_text="Served to the unit when it gave feedback.")
    enabled = models.BooleanField(default=False, help_text="Whether the flag was on for the unit.")
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text = models.TextField(blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        return f"{self.flag_key} ({self.variant or '-'}): {self.rating or '-'}"
