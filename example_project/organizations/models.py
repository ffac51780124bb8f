"""The tenant of this example SaaS: bots belong to an organization, people are its members."""

from django.conf import settings
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=100, help_text="The customer's name.")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="organizations", blank=True, help_text="Who may use its bots."
    )

    def __str__(self) -> str:
        return self.name
