"""SQLite schema, as named migrations applied in order and recorded in a table."""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE experiments (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL
        );
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            experiment_id TEXT NOT NULL REFERENCES experiments(id),
            parent_id TEXT REFERENCES runs(id),
            display_name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            start_time REAL NOT NULL,
            end_time REAL,
            heartbeat_time REAL,
            error TEXT,
            traceback TEXT,
            logs_dir TEXT
        );
        CREATE INDEX runs_by_experiment ON runs(experiment_id, parent_id, start_time);
        CREATE INDEX runs_by_parent ON runs(parent_id);
        CREATE TABLE tags (
            run_id TEXT NOT NULL REFERENCES runs(id),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_id, key)
        ) WITHOUT ROWID;
        CREATE TABLE properties (
            run_id TEXT NOT NULL REFERENCES runs(id),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_id, key)
        ) WITHOUT ROWID;
        CREATE TABLE metrics (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id),
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            value_type TEXT,
            count INTEGER NOT NULL DEFAULT 0,
            last_step INTEGER,
            last_value BLOB,
            last_wall_time REAL,
            description TEXT NOT NULL DEFAULT '',
            UNIQUE (run_id, name)
        );
        -- Summary columns come before the large blobs, and a covering index holds them, so
        -- downsampling reads summaries without touching point data.
        CREATE TABLE chunks (
            metric_id INTEGER NOT NULL REFERENCES metrics(id),
            "offset" INTEGER NOT NULL,
            count INTEGER NOT NULL,
            step_min INTEGER NOT NULL,
            step_max INTEGER NOT NULL,
            wall_min REAL NOT NULL,
            wall_max REAL NOT NULL,
            summary BLOB NOT NULL,
            steps BLOB NOT NULL,
            wall_times BLOB NOT NULL,
            vals BLOB NOT NULL,
            UNIQUE (metric_id, "offset")
        );
        CREATE INDEX chunk_summaries ON chunks(metric_id, "offset", count, step_min, step_max, wall_min, wall_max, summary);
        CREATE TABLE records (
            metric_id INTEGER NOT NULL REFERENCES metrics(id),
            idx INTEGER NOT NULL,
            step INTEGER NOT NULL,
            wall_time REAL NOT NULL,
            meta TEXT NOT NULL,
            data BLOB,
            PRIMARY KEY (metric_id, idx)
        );
        CREATE TABLE files (
            run_id TEXT NOT NULL REFERENCES runs(id),
            name TEXT NOT NULL,
            size INTEGER NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (run_id, name)
        ) WITHOUT ROWID;
        """,
    ),
    (
        "0002_batches",
        """
        -- Ids of applied write_metrics batches: a retried batch is applied once.
        CREATE TABLE batches (id TEXT PRIMARY KEY, applied_at REAL NOT NULL) WITHOUT ROWID;
        CREATE INDEX batches_by_age ON batches(applied_at);
        """,
    ),
    (
        "0003_params_and_metric_summaries",
        """
        -- Typed parameters: num holds int, float and bool (as 1/0) values, text holds str values and
        -- the exact decimal text of ints. (key, num) and (key, text) make a filter on one param an index lookup.
        CREATE TABLE params (
            run_id TEXT NOT NULL REFERENCES runs(id),
            key TEXT NOT NULL,
            type TEXT NOT NULL,
            num REAL,
            text TEXT,
            PRIMARY KEY (run_id, key)
        ) WITHOUT ROWID;
        CREATE INDEX params_by_num ON params(key, num, run_id);
        CREATE INDEX params_by_text ON params(key, text, run_id);
        -- Scalar summaries kept on write (queries and sorts read these, never points): s_last is the
        -- last value (NULL when NaN), min/max/sum/finite are over finite values only.
        ALTER TABLE metrics ADD COLUMN s_last REAL;
        ALTER TABLE metrics ADD COLUMN s_min REAL;
        ALTER TABLE metrics ADD COLUMN s_max REAL;
        ALTER TABLE metrics ADD COLUMN s_sum REAL NOT NULL DEFAULT 0;
        ALTER TABLE metrics ADD COLUMN s_finite INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX metrics_by_name ON metrics(name, run_id);
        """,
    ),
    (
        "0004_error_code_and_type",
        """
        -- fail(error_details, error_code): a short machine-readable code beside the message.
        ALTER TABLE runs ADD COLUMN error_code TEXT;
        -- The original SDK's run type: interactive, child, script, or the caller's own.
        ALTER TABLE runs ADD COLUMN run_type TEXT NOT NULL DEFAULT 'interactive';
        UPDATE runs SET run_type = 'child' WHERE parent_id IS NOT NULL;
        """,
    ),
]
