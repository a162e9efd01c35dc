"""The health view needs no login: it names the kind of an error, never its text."""

from featureflags.health import kind_of_error


def test_the_kind_of_an_error_without_its_text():
    leaky = 'database: OperationalError: connection to server at "10.0.0.5", port 5432 failed: FATAL: user "app"'
    assert kind_of_error(leaky) == "database: OperationalError"
    assert kind_of_error("redis: ConnectionError: Error 111 connecting to 127.0.0.1:6379.") == "redis: ConnectionError"
    assert kind_of_error("no kind at all") == "error"
