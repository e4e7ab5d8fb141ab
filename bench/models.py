"""The ceiling of the ingest benchmark: a table that only stores a raw body."""

from django.db import models


class RawDelivery(models.Model):
    body = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"delivery {self.pk}"
