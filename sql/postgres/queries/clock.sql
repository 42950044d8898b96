-- name: test_clock_get
SELECT now FROM test_clock WHERE id = 1;

-- name: test_clock_set
INSERT INTO test_clock (id, now) VALUES (1, :now)
    ON CONFLICT (id) DO UPDATE SET now = excluded.now;

-- name: readiness_probe
-- /readyz: a real write, so a read-only standby or a full disk shows as not ready.
INSERT INTO readiness_probe (id, written_at) VALUES (1, :now)
    ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at;

-- name: sweep_turn
-- One sweeper at a time across every process: waits for the sweep's lock, held until this transaction ends;
-- another process's sweep is writing the same due lots meanwhile.
SELECT pg_advisory_xact_lock(7317, 1) IS NULL AS mine;
