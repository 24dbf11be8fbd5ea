from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from tracking.services.accounts import api_key_authenticate


class PersonalApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer sk_…` — a personal API key acting as its user."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        if scheme != self.keyword:
            return None
        secret = secret.strip()
        if secret.startswith("pk_"):
            raise exceptions.AuthenticationFailed(
                "That is a project's public key, which can only send events. Use a personal API key (sk_…)."
            )
        if not secret.startswith("sk_"):
            raise exceptions.AuthenticationFailed("Malformed API key: personal API keys start with sk_.")
        key = api_key_authenticate(secret=secret)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return key.user, key

    def authenticate_header(self, request) -> str:
        return self.keyword


class PersonalApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tracking.api.authentication.PersonalApiKeyAuthentication"
    name = "PersonalApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "sk_…"}
