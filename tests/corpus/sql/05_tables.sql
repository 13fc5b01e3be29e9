-- Tables, views, partitions, triggers, comments, maintenance and session statements.
CREATE TABLE author (id bigint PRIMARY KEY, name text);
INSERT INTO author SELECT g, 'a' || g FROM generate_series(1, 100) g;
CREATE TABLE post (id bigint PRIMARY KEY, author_id bigint REFERENCES author (id), title text);
INSERT INTO post SELECT g, g % 100 + 1, 't' || g FROM generate_series(1, 400) g;
CREATE TABLE comment (id bigint PRIMARY KEY, post_id bigint REFERENCES post (id));
CREATE TABLE reading (id bigint, day integer, value integer) PARTITION BY RANGE (day);
CREATE TABLE reading_1 PARTITION OF reading FOR VALUES FROM (0) TO (100);
INSERT INTO reading SELECT g, g % 100, g FROM generate_series(1, 300) g;
CREATE TABLE reading_loose (id bigint, day integer, value integer);
INSERT INTO reading_loose SELECT g, 150, g FROM generate_series(1, 50) g;
CREATE MATERIALIZED VIEW post_count AS SELECT author_id, count(*) AS posts FROM post GROUP BY author_id;
CREATE VIEW post_titles AS SELECT id, title FROM post;
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;

-- case: create-table
BEGIN;
CREATE TABLE tag (id bigint PRIMARY KEY, name text NOT NULL);
ROLLBACK;

-- case: create-table-with-foreign-keys
BEGIN;
CREATE TABLE post_tag (post_id bigint REFERENCES post (id), author_id bigint REFERENCES author (id));
ROLLBACK;

-- case: create-table-like
BEGIN;
CREATE TABLE post_copy (LIKE post INCLUDING ALL);
ROLLBACK;

-- case: create-table-as
BEGIN;
CREATE TABLE old_post AS SELECT * FROM post;
ROLLBACK;

-- case: create-view
BEGIN;
CREATE VIEW author_names AS SELECT name FROM author;
ROLLBACK;

-- case: create-or-replace-view
BEGIN;
CREATE OR REPLACE VIEW post_titles AS SELECT id, title FROM post WHERE title IS NOT NULL;
ROLLBACK;

-- case: drop-view
BEGIN;
DROP VIEW post_titles;
ROLLBACK;

-- case: refresh-materialized-view
BEGIN;
REFRESH MATERIALIZED VIEW post_count;
ROLLBACK;

-- case: drop-table-with-foreign-key
BEGIN;
DROP TABLE comment;
ROLLBACK;

-- case: drop-table-cascade-referenced
BEGIN;
DROP TABLE post CASCADE;
ROLLBACK;

-- case: create-partition
BEGIN;
CREATE TABLE reading_2 PARTITION OF reading FOR VALUES FROM (100) TO (150);
ROLLBACK;

-- case: attach-partition
BEGIN;
ALTER TABLE reading ATTACH PARTITION reading_loose FOR VALUES FROM (150) TO (200);
ROLLBACK;

-- case: detach-partition
BEGIN;
ALTER TABLE reading DETACH PARTITION reading_1;
ROLLBACK;

-- case: index-on-partitioned-table
BEGIN;
CREATE INDEX reading_value_idx ON reading (value);
ROLLBACK;

-- case: add-column-to-partitioned-table
BEGIN;
ALTER TABLE reading ADD COLUMN unit text;
ROLLBACK;

-- case: create-trigger
BEGIN;
CREATE TRIGGER post_stamp BEFORE UPDATE ON post FOR EACH ROW EXECUTE FUNCTION stamp();
ROLLBACK;

-- case: comment-on-table
BEGIN;
COMMENT ON TABLE post IS 'Blog posts';
ROLLBACK;

-- case: comment-on-column
BEGIN;
COMMENT ON COLUMN post.title IS 'Shown in lists';
ROLLBACK;

-- case: create-sequence-owned-by
BEGIN;
CREATE SEQUENCE post_number_seq;
ALTER SEQUENCE post_number_seq OWNED BY post.id;
ROLLBACK;

-- case: create-statistics
BEGIN;
CREATE STATISTICS post_stats ON author_id, title FROM post;
ROLLBACK;

-- case: create-type-and-function
BEGIN;
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE FUNCTION one() RETURNS integer LANGUAGE sql AS 'SELECT 1';
ROLLBACK;

-- case: do-block
BEGIN;
DO $$ BEGIN PERFORM 1; END $$;
ROLLBACK;

-- case: lock-timeout-and-analyze
BEGIN;
SET LOCAL lock_timeout = '2s';
ANALYZE post;
ROLLBACK;

-- case: cluster
BEGIN;
CLUSTER post USING post_pkey;
ROLLBACK;

-- case: vacuum [static-only]
-- (plain VACUUM waits for no lock: it may end before the second session sees it)
VACUUM post;

-- case: vacuum-full
VACUUM FULL comment;
