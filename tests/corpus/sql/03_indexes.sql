-- Index forms: plain, unique, partial, expression, covering, GIN, BRIN; dropping, renaming, rebuilding.
CREATE TABLE article (id bigint PRIMARY KEY, title text, body jsonb, published date, status text, words integer);
INSERT INTO article SELECT g, 'title ' || g, jsonb_build_object('k', g), current_date - g, 'draft', g FROM generate_series(1, 500) g;
CREATE INDEX article_title_idx ON article (title);

-- case: create-index
BEGIN;
CREATE INDEX article_status_idx ON article (status);
ROLLBACK;

-- case: create-unique-index
BEGIN;
CREATE UNIQUE INDEX article_id_words_idx ON article (id, words);
ROLLBACK;

-- case: create-partial-index
BEGIN;
CREATE INDEX article_draft_idx ON article (published) WHERE status = 'draft';
ROLLBACK;

-- case: create-expression-index
BEGIN;
CREATE INDEX article_lower_title_idx ON article (lower(title));
ROLLBACK;

-- case: create-covering-index
BEGIN;
CREATE INDEX article_published_cover_idx ON article (published) INCLUDE (words);
ROLLBACK;

-- case: create-gin-index
BEGIN;
CREATE INDEX article_body_idx ON article USING gin (body);
ROLLBACK;

-- case: create-brin-index
BEGIN;
CREATE INDEX article_published_brin ON article USING brin (published);
ROLLBACK;

-- case: create-index-if-not-exists-existing
BEGIN;
CREATE INDEX IF NOT EXISTS article_title_idx ON article (title);
ROLLBACK;

-- case: index-on-table-created-in-the-same-transaction
BEGIN;
CREATE TABLE draft (id bigint PRIMARY KEY, article_id bigint);
CREATE INDEX draft_article_idx ON draft (article_id);
ROLLBACK;

-- case: drop-index
BEGIN;
DROP INDEX article_title_idx;
ROLLBACK;

-- case: rename-index
BEGIN;
ALTER INDEX article_title_idx RENAME TO article_headline_idx;
ROLLBACK;

-- case: alter-index-set-fillfactor
BEGIN;
ALTER INDEX article_title_idx SET (fillfactor = 70);
ROLLBACK;

-- case: reindex-index
BEGIN;
REINDEX INDEX article_title_idx;
ROLLBACK;

-- case: reindex-table
BEGIN;
REINDEX TABLE article;
ROLLBACK;

-- case: create-index-concurrently
CREATE INDEX CONCURRENTLY article_words_idx ON article (words);

-- case: drop-index-concurrently
DROP INDEX CONCURRENTLY article_words_idx;

-- case: reindex-concurrently
REINDEX INDEX CONCURRENTLY article_title_idx;
