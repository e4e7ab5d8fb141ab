from vibes_integration.client import VibesClient


def test_from_settings_reaches_the_sandbox(vibes_sandbox):
    client = VibesClient.from_settings()
    result = client.add_person({"external_person_id": "smoke-1"})
    assert result.created is True
    assert client.get_person(result.person["person_key"])["external_person_id"] == "smoke-1"
