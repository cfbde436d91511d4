"""A DAG file that fails to import with hostile text in its error."""

from flow.sdk import DAG  # noqa: F401  (a DAG file: the parser reads it)

raise RuntimeError("<script>window.__pwned=3</script>\"'><b>broken</b>")
