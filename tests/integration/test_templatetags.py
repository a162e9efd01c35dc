"""{% if_feature %}, {% variant %}, {% feature_flags_json %} and the Jinja2 extension."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template, TemplateSyntaxError

from featureflags.context import current_context
from featureflags.engine import Context as FlagContext
from featureflags.middleware import FeatureFlagsMiddleware


def render(source: str, request=None, **extra) -> str:
    template = Template("{% load featureflags %}" + source)
    return template.render(Context({"request": request, **extra} if request is not None else extra))


@pytest.fixture
def request_of(rf):
    def make(user_id=None):
        request = rf.get("/")
        request.user = (
            AnonymousUser()
            if user_id is None
            else type("U", (), {"is_authenticated": True, "is_staff": False, "is_superuser": False, "pk": user_id})()
        )
        FeatureFlagsMiddleware.start(request)
        return request

    return make


def test_if_feature_on_off_and_else(make_flag, request_of):
    make_flag("new_ui", percentage=0, users=["42"])
    source = '{% if_feature "new_ui" %}new{% else %}old{% endif_feature %}'
    assert render(source, request_of(42)) == "new"
    assert render(source, request_of(7)) == "old"
    assert render('{% if_feature "new_ui" %}new{% endif_feature %}', request_of(7)) == ""


def test_if_feature_for_another_user_and_variable_key(make_flag, request_of):
    make_flag("beta", percentage=0, users=["5"])
    assert render('{% if_feature "beta" for who %}yes{% else %}no{% endif_feature %}', who="5") == "yes"
    assert render("{% if_feature key for who %}yes{% else %}no{% endif_feature %}", key="beta", who=6) == "no"


def test_unknown_flag_is_off_and_never_raises(db, request_of):
    assert render('{% if_feature "nope" %}x{% else %}off{% endif_feature %}', request_of()) == "off"
    assert render('{% variant "nope" %}', request_of()) == ""


def test_without_request_uses_the_current_context_else_the_global_switch(make_flag):
    make_flag("new_ui", percentage=0, users=["42"])
    source = '{% if_feature "new_ui" %}on{% else %}off{% endif_feature %}'
    assert render(source) == "on"  # no context at all: the global switch
    token = current_context.set(FlagContext("7"))
    try:
        assert render(source) == "off"
    finally:
        current_context.reset(token)


def test_variant_tag(make_flag, request_of):
    make_flag("exp", variants=[{"name": "blue", "weight": 1}], pinned_variants={"42": "blue"})
    assert render('{% variant "exp" %}', request_of(42)) == "blue"
    assert render('{% variant "exp" as v %}[{{ v }}]', request_of(42)) == "[blue]"
    assert render('{% variant "exp" for "42" as v %}{{ v }}') == "blue"


def test_syntax_errors():
    with pytest.raises(TemplateSyntaxError):
        Template('{% load featureflags %}{% if_feature "a" "b" %}{% endif_feature %}')
    with pytest.raises(TemplateSyntaxError):
        Template('{% load featureflags %}{% if_feature "a" with u %}{% endif_feature %}')
    with pytest.raises(TemplateSyntaxError):
        Template("{% load featureflags %}{% variant %}")


def test_feature_flags_json_has_results_only(make_flag, request_of):
    make_flag("new_ui", percentage=0, users=["42"], rules=["^secret"])
    make_flag("exp", variants=[{"name": "blue", "weight": 1}])
    html = render('{% feature_flags_json "new_ui" "exp" %}', request_of(42))
    assert html.startswith('<script id="featureflags" type="application/json">')
    data = json.loads(html.split(">", 1)[1].rsplit("</script>", 1)[0])
    assert data == {
        "new_ui": {"enabled": True, "variant": None, "value": True},
        "exp": {"enabled": True, "variant": "blue", "value": True},  # a boolean flag's variant without a value
    }
    assert "secret" not in html and "42" not in html
    make_flag("shown", client_side=True, percentage=0)
    everything = json.loads(
        render("{% feature_flags_json %}", request_of(7)).split(">", 1)[1].rsplit("</script>", 1)[0]
    )
    assert everything == {
        "shown": {"enabled": False, "variant": None, "value": None}
    }  # no keys: the client-side flags only


def test_override_reaches_the_tag(db, request_of):
    from featureflags.testing import override_flag

    with override_flag("ghost", active=True, variant="green"):
        assert render('{% if_feature "ghost" %}on{% endif_feature %}{% variant "ghost" %}', request_of()) == "ongreen"


def test_jinja2_extension(make_flag, request_of):
    make_flag("new_ui", percentage=0, users=["42"])
    make_flag("exp", variants=[{"name": "blue", "weight": 1}])
    from jinja2 import Environment

    env = Environment(extensions=["featureflags.jinja2.FeatureFlagsExtension"])
    template = env.from_string(
        '{% if is_enabled("new_ui") %}new{% else %}old{% endif %} {{ variant("exp") }} '
        '{{ is_enabled("new_ui", "7") }} {{ is_enabled("nope", default=True) }}'
    )
    assert template.render(request=request_of(42)) == "new blue False True"
    assert template.render(request=request_of(7)).startswith("old")


def test_jinja2_environment_factory(make_flag):
    from featureflags.jinja2 import environment

    make_flag("new_ui")
    assert environment().from_string('{{ is_enabled("new_ui") }}').render() == "True"


LAYOUTS = [{"name": "single", "weight": 1, "value": "single_page"}, {"name": "wide", "weight": 1, "value": {"cols": 3}}]


def test_feature_value_tag(make_flag, request_of):
    make_flag("layout", value_type="json", variants=LAYOUTS, pinned_variants={"42": "wide", "7": "single"})
    assert render('{% feature_value "layout" %}', request_of(7)) == "single_page"
    assert render('{% feature_value "layout" %}', request_of(42)) == "{&quot;cols&quot;: 3}"  # JSON, escaped
    assert render('{% feature_value "layout" as l %}[{{ l.cols }}]', request_of(42)) == "[3]"
    assert render('{% feature_value "layout" for "7" as l %}{{ l }}', request_of(42)) == "single_page"
    assert render('{% feature_value "nope" default "plain" as l %}{{ l }}', request_of(42)) == "plain"
    assert render('{% feature_value "nope" %}', request_of(42)) == ""
    assert render("{% feature_value key default fallback %}", request_of(42), key="nope", fallback="x") == "x"


def test_feature_value_tag_syntax_errors():
    for source in ("{% feature_value %}", '{% feature_value "k" as %}', '{% feature_value "k" with x %}'):
        with pytest.raises(TemplateSyntaxError):
            render(source)


def test_feature_value_in_jinja2(make_flag, request_of):
    make_flag("layout", value_type="json", variants=LAYOUTS, pinned_variants={"42": "wide"})
    from jinja2 import Environment

    env = Environment(extensions=["featureflags.jinja2.FeatureFlagsExtension"])
    template = env.from_string('{{ feature_value("layout")["cols"] }} {{ feature_value("nope", default="d") }}')
    assert template.render(request=request_of(42)) == "3 d"
