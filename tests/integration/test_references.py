"""featureflags.references: flag keys found in Python code and templates."""

from featureflags.references import Reference, find_references, python_references, template_references

PYTHON = """
import featureflags
from featureflags.decorators import flag_required, FlagRequiredMixin

@flag_required("beta_page")
def view(request):
    if featureflags.is_enabled("new_ui", request):
        pass
    if request.flags.dark_mode or request.flags["new-checkout"]:
        return request.flags.variant("exp")
    featureflags.variant(key="pricing")
    featureflags.is_enabled(some_variable)

class Page(FlagRequiredMixin):
    flag_key = "page_flag"
"""

TEMPLATE = """{% load featureflags %}
{% if_feature "new_ui" %}x{% endif_feature %}
{% variant 'exp' as v %}
{% feature_flags_json "a" "b" %}
{{ is_enabled("jinja_flag") }}
"""


def test_python_references_name_each_key_and_line():
    refs = python_references(PYTHON, "views.py")
    found = {(r.key, r.line, r.kind) for r in refs}
    assert ("beta_page", 5, "flag_required") in found
    assert ("new_ui", 7, "is_enabled") in found
    assert ("dark_mode", 9, "request.flags") in found
    assert ("new-checkout", 9, "request.flags") in found
    assert ("pricing", 11, "variant") in found
    assert ("page_flag", 15, "FlagRequiredMixin") in found
    # request.flags.variant("exp") is a method call, and "exp" is not a call of the API's variant by literal name
    assert all(r.key != "variant" for r in refs)
    assert all(r.key != "some_variable" for r in refs)


def test_python_without_featureflags_import_ignores_generic_names():
    assert python_references("def f(x):\n    return x.check('foo')\n") == []


def test_template_references():
    refs = template_references(TEMPLATE, "t.html")
    assert Reference("new_ui", "t.html", 2, "if_feature") in refs
    assert Reference("exp", "t.html", 3, "variant") in refs
    assert {r.key for r in refs if r.kind == "feature_flags_json"} == {"a", "b"}
    assert Reference("jinja_flag", "t.html", 5, "is_enabled") in refs


def test_find_references_walks_directories_and_skips_unparsable(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text(PYTHON)
    (tmp_path / "app" / "broken.py").write_text("import featureflags\ndef (:\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(TEMPLATE)
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.html").write_text('{% if_feature "hidden" %}')
    refs = find_references([tmp_path])
    keys = {r.key for r in refs}
    assert {"beta_page", "new_ui", "exp", "jinja_flag"} <= keys
    assert "hidden" not in keys
    assert refs == sorted(refs, key=lambda r: (r.path, r.line, r.key))


def test_only_featureflags_functions_count():
    source = """
import featureflags
from featureflags.decorators import check as ff_check
from featureflags.compat.hanoi import Rollout

def check(name, ok):
    return ok

check("kind", True)
snapshot.flags.values()
self.request.flags.beta
ff_check("guarded", arg="user")
rollout.is_enabled("cdc_on", "1")
rollout.check("cdc_on")
other.variant("not_a_flag")
"""
    found = {(r.key, r.kind) for r in python_references(source, "m.py")}
    assert found == {("beta", "request.flags"), ("guarded", "check"), ("cdc_on", "is_enabled")}
