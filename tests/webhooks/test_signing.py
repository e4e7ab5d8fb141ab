"""Signatures exactly as the Standard Webhooks specification computes them."""

import base64

from prefcenter.webhooks import signing


def test_the_specifications_example_signature_is_reproduced():
    # The test vector published with the specification's reference libraries.
    headers = signing.signed_headers(
        signing_secrets=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        message_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330,
        body=b'{"test": 2432232314}',
    )

    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert headers["webhook-id"] == "msg_p5jXN8AQM9LWM0D4loKWxJek"
    assert headers["webhook-timestamp"] == "1614265330"


def test_every_signing_secret_adds_one_signature_separated_by_a_space():
    first, second = signing.secret_generate(), signing.secret_generate()

    header = signing.signed_headers(
        signing_secrets=[first, second], message_id="msg_1", timestamp=1, body=b"{}"
    )["webhook-signature"]

    assert header.split(" ") == [
        signing.signature(secret=first, message_id="msg_1", timestamp=1, body=b"{}"),
        signing.signature(secret=second, message_id="msg_1", timestamp=1, body=b"{}"),
    ]
    assert first != second


def test_a_secret_is_whsec_and_base64_of_32_random_bytes_and_its_hint_hides_it():
    secret = signing.secret_generate()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert signing.secret_hint(secret) == secret[:10] + "…"
