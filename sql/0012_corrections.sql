-- 0012_corrections: analysts' corrections of what the rules found, each with the Airflow user and time.
-- The corrections are the record; their effect is written into the tables every reader already reads
-- (article_topics, article_entities, articles.story_id), so the UI, the digest, search and the trends
-- see the corrected view at once without a reader of their own. Reprocessing an article rewrites its
-- topics and entities from the rules and then applies its corrections again (store/corrections.apply),
-- so a correction is never lost.
CREATE TABLE corrections (
    id          bigserial PRIMARY KEY,
    article_id  bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN (
                    'topic_confirm', 'topic_reject', 'topic_add', 'irrelevant', 'relevant',
                    'story_merge', 'story_split', 'entity_rename', 'entity_reject')),
    topic_id    text,                         -- topic_*: the topic judged
    entity_id   text,                         -- entity_*: the entity as the article had it
    entity_to   text,                         -- entity_rename: the entity it is in this article instead
    story_from  bigint,                       -- story_*: the article's story before
    story_to    bigint,                       -- story_*: its story after
    -- What the correction saw or set: the rules' tag it judged (label, score, evidence), the added
    -- topic's label and score, the corrected name, the rules' topics of an article marked irrelevant.
    value       jsonb NOT NULL DEFAULT '{}',
    note        text,
    user_name   text NOT NULL,
    user_role   text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind LIKE 'topic_%') = (topic_id IS NOT NULL)),
    CHECK ((kind LIKE 'entity_%') = (entity_id IS NOT NULL)),
    CHECK ((kind = 'entity_rename') = (entity_to IS NOT NULL)),
    CHECK ((kind LIKE 'story_%') = (story_to IS NOT NULL))
);
CREATE INDEX corrections_article ON corrections (article_id, id);
CREATE INDEX corrections_created ON corrections (created_at DESC, id DESC);

-- Who made a tag: the rules, or an analyst who added it (its evidence then names the analyst).
ALTER TABLE article_topics ADD COLUMN origin text NOT NULL DEFAULT 'rules'
    CHECK (origin IN ('rules', 'analyst'));
