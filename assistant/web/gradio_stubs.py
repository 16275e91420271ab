"""Importing gradio without rewriting its type stubs: ~1.5 s of `replyqa serve`'s start.

gradio's `ComponentMeta` calls `create_or_modify_pyi` for every component class it defines:
it reads the component's source, parses it with `ast`, renders a stub with jinja and compares
it with the `.pyi` file beside it (writing it when they differ). That keeps gradio's own
type stubs current while gradio is developed; in an installed gradio the stubs already ship,
and the work changes nothing a running page does. py-spy put it at 11 % of the start at 100 k
chunks; `import gradio` took 3.1-4.0 s with it and 1.8-2.2 s without (README, "Start-up").

The function is replaced as gradio's `component_meta` module is loaded — before the package
defines its components — by a one-shot import hook, which does nothing when gradio is already
imported or when a later gradio no longer has the function.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

META_MODULE = "gradio.component_meta"
STUB_WRITER = "create_or_modify_pyi"


def _no_stub(*_args: Any, **_kwargs: Any) -> None:
    """Stands in for gradio's stub writer: the installed stubs are kept as they are."""


class _SkipStubWriting(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if name != META_MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            if hasattr(module, STUB_WRITER):
                setattr(module, STUB_WRITER, _no_stub)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def skip_stub_writing() -> bool:
    """Arrange for the next `import gradio` not to rewrite its stubs. False when gradio is
    already imported (nothing to gain) or the hook is already in place."""
    if META_MODULE in sys.modules or any(isinstance(f, _SkipStubWriting) for f in sys.meta_path):
        return False
    sys.meta_path.insert(0, _SkipStubWriting())
    return True
