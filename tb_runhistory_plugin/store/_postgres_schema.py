"""PostgreSQL schema, as named migrations applied in order and recorded in a table.

Text that is sorted or compared uses COLLATE "C", so ordering matches SQLite's byte order
whatever the database's default collation is.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE experiments (
            id TEXT COLLATE "C" PRIMARY KEY,
            name TEXT COLLATE "C" NOT NULL UNIQUE,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE runs (
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            id TEXT COLLATE "C" PRIMARY KEY,
            experiment_id TEXT COLLATE "C" NOT NULL REFERENCES experiments(id),
            parent_id TEXT COLLATE "C" REFERENCES runs(id),
            display_name TEXT COLLATE "C" NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            start_time DOUBLE PRECISION NOT NULL,
            end_time DOUBLE PRECISION,
            heartbeat_time DOUBLE PRECISION,
            error TEXT,
            traceback TEXT,
            logs_dir TEXT
        );
        CREATE INDEX runs_by_experiment ON runs(experiment_id, parent_id, start_time, seq);
        CREATE INDEX runs_by_parent ON runs(parent_id);
        CREATE TABLE tags (
            run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id),
            key TEXT COLLATE "C" NOT NULL,
            value TEXT COLLATE "C" NOT NULL,
            PRIMARY KEY (run_id, key)
        );
        CREATE TABLE properties (
            run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id),
            key TEXT COLLATE "C" NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_id, key)
        );
        CREATE TABLE metrics (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id),
            name TEXT COLLATE "C" NOT NULL,
            kind TEXT NOT NULL,
            value_type TEXT,
            count BIGINT NOT NULL DEFAULT 0,
            last_step BIGINT,
            last_value DOUBLE PRECISION,
            last_wall_time DOUBLE PRECISION,
            description TEXT NOT NULL DEFAULT '',
            UNIQUE (run_id, name)
        );
        -- One row per chunk of up to 4096 points (see _chunks.py); the summary columns sit in
        -- the row, the packed arrays are TOASTed, so reading summaries skips the point data.
        CREATE TABLE chunks (
            metric_id BIGINT NOT NULL REFERENCES metrics(id),
            "offset" BIGINT NOT NULL,
            count INTEGER NOT NULL,
            step_min BIGINT NOT NULL,
            step_max BIGINT NOT NULL,
            wall_min DOUBLE PRECISION NOT NULL,
            wall_max DOUBLE PRECISION NOT NULL,
            summary BYTEA NOT NULL,
            steps BYTEA NOT NULL,
            wall_times BYTEA NOT NULL,
            vals BYTEA NOT NULL,
            PRIMARY KEY (metric_id, "offset")
        );
        -- Packed arrays of floats barely compress; storing them uncompressed saves CPU on both ends.
        ALTER TABLE chunks ALTER COLUMN steps SET STORAGE EXTERNAL;
        ALTER TABLE chunks ALTER COLUMN wall_times SET STORAGE EXTERNAL;
        ALTER TABLE chunks ALTER COLUMN vals SET STORAGE EXTERNAL;
        CREATE TABLE records (
            metric_id BIGINT NOT NULL REFERENCES metrics(id),
            idx BIGINT NOT NULL,
            step BIGINT NOT NULL,
            wall_time DOUBLE PRECISION NOT NULL,
            meta TEXT NOT NULL,
            data BYTEA,
            PRIMARY KEY (metric_id, idx)
        );
        -- Files live in the database so every machine that reaches the store reaches them too.
        CREATE TABLE files (
            run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id),
            name TEXT COLLATE "C" NOT NULL,
            size BIGINT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            data BYTEA NOT NULL,
            PRIMARY KEY (run_id, name)
        );
        -- Ids of applied write_metrics batches: a retried batch is applied once.
        CREATE TABLE batches (
            id TEXT COLLATE "C" PRIMARY KEY,
            applied_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX batches_by_age ON batches(applied_at);
        """,
    ),
    (
        "0002_params_and_metric_summaries",
        """
        -- Typed parameters: num holds int, float and bool (as 1/0) values, text holds str values and
        -- the exact decimal text of ints. (key, num) and (key, text) make a filter on one param an index lookup.
        CREATE TABLE params (
            run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id),
            key TEXT COLLATE "C" NOT NULL,
            type TEXT NOT NULL,
            num DOUBLE PRECISION,
            text TEXT COLLATE "C",
            PRIMARY KEY (run_id, key)
        );
        CREATE INDEX params_by_num ON params(key, num, run_id);
        CREATE INDEX params_by_text ON params(key, text, run_id);
        -- Scalar summaries kept on write (queries and sorts read these, never points): s_last is the
        -- last value (NULL when NaN), min/max/sum/finite are over finite values only.
        ALTER TABLE metrics ADD COLUMN s_last DOUBLE PRECISION;
        ALTER TABLE metrics ADD COLUMN s_min DOUBLE PRECISION;
        ALTER TABLE metrics ADD COLUMN s_max DOUBLE PRECISION;
        ALTER TABLE metrics ADD COLUMN s_sum DOUBLE PRECISION NOT NULL DEFAULT 0;
        ALTER TABLE metrics ADD COLUMN s_finite BIGINT NOT NULL DEFAULT 0;
        CREATE INDEX metrics_by_name ON metrics(name, run_id);
        """,
    ),
    (
        "0003_error_code_and_type",
        """
        -- fail(error_details, error_code): a short machine-readable code beside the message.
        ALTER TABLE runs ADD COLUMN error_code TEXT;
        -- The original SDK's run type: interactive, child, script, or the caller's own.
        ALTER TABLE runs ADD COLUMN run_type TEXT COLLATE "C" NOT NULL DEFAULT 'interactive';
        UPDATE runs SET run_type = 'child' WHERE parent_id IS NOT NULL;
        """,
    ),
]
