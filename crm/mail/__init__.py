"""Outgoing mail: the MIME message (``message``) and optional DKIM signing (``dkim``)."""

from crm.mail.message import build_message, message_id_for, to_bytes

__all__ = ["build_message", "message_id_for", "to_bytes"]
