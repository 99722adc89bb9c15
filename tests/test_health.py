from tests.conftest import Api


def test_health_answers_without_a_token(api: Api) -> None:
    assert api.client.get("/health").json() == {"status": "ok"}


def test_ready_when_the_database_answers(api: Api) -> None:
    response = api.client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
