-- Transactions: what is new, what is held until COMMIT, and statements that run under it.
CREATE TABLE ledger (id bigint PRIMARY KEY, amount integer, memo text);
INSERT INTO ledger SELECT g, g, NULL FROM generate_series(1, 500) g;
CREATE TABLE ledger_entry (id bigint PRIMARY KEY, ledger_id bigint);

-- case: add-column-then-index-in-one-transaction
BEGIN;
ALTER TABLE ledger ADD COLUMN posted boolean;
CREATE INDEX ledger_posted_idx ON ledger (posted);
ROLLBACK;

-- case: add-column-then-backfill-in-one-transaction
BEGIN;
ALTER TABLE ledger ADD COLUMN currency text;
UPDATE ledger SET currency = 'EUR' WHERE currency IS NULL;
ROLLBACK;

-- case: set-default-backfill-set-not-null
BEGIN;
ALTER TABLE ledger ALTER COLUMN memo SET DEFAULT '';
UPDATE ledger SET memo = '' WHERE memo IS NULL;
ALTER TABLE ledger ALTER COLUMN memo SET NOT NULL;
ALTER TABLE ledger ALTER COLUMN memo DROP DEFAULT;
ROLLBACK;

-- case: new-table-then-foreign-key-in-one-transaction
BEGIN;
CREATE TABLE ledger_note (id bigint PRIMARY KEY, ledger_id bigint);
ALTER TABLE ledger_note ADD CONSTRAINT ledger_note_fk FOREIGN KEY (ledger_id) REFERENCES ledger (id);
INSERT INTO ledger_note VALUES (1, 1);
ROLLBACK;

-- case: lock-timeout-then-alter
BEGIN;
SET LOCAL lock_timeout = '1s';
ALTER TABLE ledger ADD COLUMN checked boolean;
ROLLBACK;

-- case: committed-transaction-then-index
BEGIN;
CREATE TABLE ledger_tag (id bigint PRIMARY KEY, ledger_id bigint);
COMMIT;
CREATE INDEX ledger_tag_ledger_idx ON ledger_tag (ledger_id);

-- case: autocommit-statements-each-their-own-unit
CREATE TABLE ledger_flag (id bigint, ledger_id bigint);
ALTER TABLE ledger_flag ADD CONSTRAINT ledger_flag_fk FOREIGN KEY (ledger_id) REFERENCES ledger (id);
INSERT INTO ledger_flag SELECT id, id FROM ledger;
ALTER TABLE ledger_flag ALTER COLUMN ledger_id SET NOT NULL;
