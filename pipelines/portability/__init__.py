"""One set of definitions, two engines: the DuckDB SQL of the models and metrics, compiled to
Spark SQL (``compile``), the check that every file can be carried across (``check``), and the
Spark runner (``spark_build``, ``spark_connection``; pyspark is imported only there). See
docs/scale-out.md and issue #20."""
