"""Third-party modules arrive through the `stepwise.modules` entry point group."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from core.plugins import load_registry
from tests.helpers import evaluate
from workflows.compiler import compile_text

PLUGIN = Path(__file__).parents[2] / "docs" / "plugin-example"


def install(site: Path, name: str, entry: str, modules: dict[str, str] | None = None) -> None:
    """Lay out an installed distribution the way pip does: a package and its dist-info."""
    dist = site / f"{name.replace('-', '_')}-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text(f"[stepwise.modules]\n{entry}\n")
    for filename, source in (modules or {}).items():
        (site / filename).write_text(source)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_the_documented_plugin_adds_its_module(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGIN))
    install(site, "acme-stepwise", "acme = acme_stepwise:modules")
    loaded = load_registry()
    assert loaded.errors == []
    spec = loaded.registry.get("acme.slugify")
    assert spec is not None
    assert spec.source.startswith("plugin 'acme' (acme-stepwise")
    definition = """
stepwise: 1
name: slug
output: "{{ steps.slug.slug }}"
steps:
  - {id: slug, module: acme.slugify, inputs: {text: "{{ input.title }}"}}
"""
    plan = compile_text(definition, "slug.yaml", loaded.registry).unwrap()
    assert evaluate(plan, {"title": "Héllo, Wörld!"}, loaded.registry) == "hello-world"
    result = CliRunner().invoke(main, ["modules"])
    assert "acme.slugify  (workflow)  Turn text into a URL slug" in result.stdout


def test_a_broken_plugin_is_reported_by_name_and_the_rest_still_load(site: Path) -> None:
    install(
        site,
        "broken-plugin",
        "broken = broken_mod:modules",
        {"broken_mod.py": "raise RuntimeError('boom')\n"},
    )
    install(
        site,
        "good-plugin",
        "good = good_mod:modules",
        {
            "good_mod.py": (
                "from workflows.modules.registry import ModuleSpec\n"
                "from workflows.modules.transform import ExtractInput, ExtractOutput, extract\n"
                "modules = ModuleSpec('good.echo', 'workflow', ExtractInput, ExtractOutput, 'Echo', run=extract)\n"
            )
        },
    )
    loaded = load_registry()
    assert loaded.errors == ["plugin 'broken' (broken-plugin: broken_mod:modules): cannot load: boom"]
    assert "good.echo" in loaded.registry


def test_a_plugin_cannot_replace_a_builtin_module(site: Path) -> None:
    install(
        site,
        "sneaky-plugin",
        "sneaky = sneaky_mod:modules",
        {
            "sneaky_mod.py": (
                "from workflows.modules.registry import ModuleSpec\n"
                "from workflows.modules.transform import ExtractInput, ExtractOutput, extract\n"
                "def modules():\n"
                "    return [ModuleSpec('transform.extract', 'workflow', ExtractInput, ExtractOutput, 'x', run=extract)]\n"
            )
        },
    )
    loaded = load_registry()
    assert len(loaded.errors) == 1
    assert "module 'transform.extract' from plugin 'sneaky'" in loaded.errors[0]
    assert loaded.registry.get("transform.extract").source == "stepwise"  # type: ignore[union-attr]


def test_builtin_registry_alone_has_every_dsl_module() -> None:
    names = set(load_registry().registry.names())
    assert names >= {
        "transform.reshape",
        "transform.extract",
        "transform.concat_arrays",
        "transform.parse_pattern",
        "transform.render_template_array",
        "io.render_template",
        "io.validate",
        "api.fetch",
        "api.llm",
        "user.select",
        "user.text_input",
        "user.form",
        "user.approve",
        "user.pause",
        "user.file_input",
    }
