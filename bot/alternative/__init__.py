"""The alternative stage: each risky migration rewritten as complete files, then verified.

``build`` writes the files from the migration's source and the backend's recipes; ``verify``
runs the collector again to apply them on the scratch database; ``examples`` feeds the rule
documentation from the same builder.
"""
