"""No two modules of the product import each other, directly or round a longer loop.

Read with grimp (import-linter's graph library), which sees imports inside functions too,
so an import moved into a function does not hide a cycle. An import under
``if TYPE_CHECKING:`` names a type for the type checker and never runs: it is left out
(the sandbox's modules name the ``Sandbox`` they are handed).
"""

import grimp

PACKAGES = ("crm", "prefcenter", "vibes_integration")


def _cycles(graph: grimp.ImportGraph) -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[frozenset[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(frozenset(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)


def test_no_module_imports_itself_round_a_loop():
    assert [sorted(group) for group in _cycles(_graph())] == []


def test_the_check_finds_a_cycle_hidden_in_a_function():
    graph = grimp.ImportGraph()
    graph.add_import(importer="app.tasks", imported="app.processing")
    graph.add_import(importer="app.processing", imported="app.tasks")
    assert _cycles(graph) == [frozenset({"app.tasks", "app.processing"})]
