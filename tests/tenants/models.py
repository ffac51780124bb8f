"""A tenant model like a SaaS would have, to prove TENANT_MODEL is honoured."""

from django.conf import settings
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="organizations", blank=True)

    def __str__(self) -> str:
        return self.name
