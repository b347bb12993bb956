"""The issue's acceptance question, through the service."""


def test_lavrov_visit_answered_from_001(seed_service):
    answer = seed_service.ask("متى تبدأ زيارة لافروف؟")
    assert answer.error is None
    first = answer.results[0]
    assert first.source == "001_29605565af34d15c.txt"
    assert "11 يوليو" in first.snippet
