"""The alert engine's rooms depend one way (alerts/__init__.py): engine -> store -> notify | rules
-> the shared shapes; notify and rules know nothing of each other. Checked with grimp, the graph
library under import-linter, so a wrong import fails here as a wrong package import fails
`make lint`."""

from __future__ import annotations

import grimp

ROOMS = (
    grimp.Layer("engine"),
    grimp.Layer("store"),
    grimp.Layer("notify", "rules", independent=True),
    grimp.Layer("model", "errors", "file_problems", independent=False),
)


def test_the_rooms_import_one_way() -> None:
    graph = grimp.build_graph("alerts")
    illegal = graph.find_illegal_dependencies_for_layers(layers=ROOMS, containers={"alerts"})
    described = sorted(
        f"{d.importer} -> {d.imported} via {sorted(r.heads)} -> {sorted(r.tails)}"
        for d in illegal
        for r in d.routes
    )
    assert described == []


def test_the_check_sees_a_wrong_way_import() -> None:
    # The control for the test above: store imports notify, so read the other way round it is
    # an illegal dependency, and the check reports it.
    graph = grimp.build_graph("alerts")
    upside_down = (grimp.Layer("notify"), grimp.Layer("store"))
    illegal = graph.find_illegal_dependencies_for_layers(layers=upside_down, containers={"alerts"})
    assert {(d.importer, d.imported) for d in illegal} == {("alerts.store", "alerts.notify")}
