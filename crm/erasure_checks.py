"""System check of the erasure hash key (id ``prefcenter.E701``, see ``prefcenter.checks``).

Without its own key the hashes fall back to SECRET_KEY, which is fine for development but
ties the suppression record to a key that is rotated for other reasons: rotating it would
make every erased number unrecognisable. Production must set a key of its own.
"""

from django.conf import settings
from django.core.checks import Error, register

from prefcenter.conf import setting

MIN_KEY_LENGTH = 32


@register("crm_erasure")
def check_erasure_hash_key(app_configs=None, **kwargs):
    key = setting("PREFCENTER_ERASURE_HASH_KEY")
    if not settings.PRODUCTION:
        return []
    if len(key or "") < MIN_KEY_LENGTH:
        return [
            Error(
                "PREFCENTER_ERASURE_HASH_KEY is missing or shorter than "
                f"{MIN_KEY_LENGTH} characters.",
                hint="Set it to a long random secret (python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))') and never change it: erased numbers "
                "and emails are recognised through it.",
                id="prefcenter.E701",
            )
        ]
    return []
