"""Sinch WhatsApp Business Messaging API for Django."""

__version__ = "0.1.0.dev0"
