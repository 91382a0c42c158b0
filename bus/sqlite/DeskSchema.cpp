#include "DeskSchema.h"

#include "SqliteConnection.h"

using namespace Qt::StringLiterals;

namespace eventdesk::deskschema {

// EventDesk's tables. The names are those an older EventDesk used inside the
// engine's file, so that moving them out is a copy, column for column.
const QStringList &baseTables()
{
    static const QStringList statements = {
        u"CREATE TABLE IF NOT EXISTS eventdesk_cursors (name TEXT PRIMARY KEY, last_id INTEGER NOT NULL, "
        "updated_at TEXT NOT NULL)"_s,
        u"CREATE TABLE IF NOT EXISTS eventdesk_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
        "actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL)"_s,
        u"CREATE TABLE IF NOT EXISTS eventdesk_challenges (id TEXT PRIMARY KEY, world_id TEXT NOT NULL, "
        "name TEXT NOT NULL, difficulty INTEGER NOT NULL, created_at TEXT NOT NULL, UNIQUE(world_id, name))"_s,
        u"CREATE TABLE IF NOT EXISTS eventdesk_stats_minute (minute TEXT NOT NULL, event_type TEXT NOT NULL, "
        "world_id TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY(minute, event_type, world_id))"_s,
        u"CREATE TABLE IF NOT EXISTS eventdesk_challenge_stats (world_id TEXT NOT NULL, character_id TEXT NOT NULL, "
        "attempts INTEGER NOT NULL, successes INTEGER NOT NULL, PRIMARY KEY(world_id, character_id))"_s,
        u"CREATE TABLE IF NOT EXISTS eventdesk_jobs (kind TEXT NOT NULL, job_id TEXT NOT NULL, "
        "world_id TEXT NOT NULL, label TEXT NOT NULL, status TEXT NOT NULL, progress INTEGER, "
        "queued_at TEXT, updated_at TEXT NOT NULL, finished_at TEXT, duration_ms INTEGER, error TEXT, "
        "PRIMARY KEY(kind, job_id))"_s,
        u"CREATE TABLE IF NOT EXISTS eventdesk_timeline (event_id INTEGER PRIMARY KEY, world_id TEXT NOT NULL, "
        "created_at TEXT NOT NULL, event_type TEXT NOT NULL, summary TEXT NOT NULL)"_s,
        u"CREATE INDEX IF NOT EXISTS eventdesk_timeline_world ON eventdesk_timeline(world_id, event_id)"_s,
        u"CREATE TABLE IF NOT EXISTS eventdesk_archives (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
        "target TEXT NOT NULL, cutoff TEXT NOT NULL, first_id INTEGER, last_id INTEGER, rows INTEGER NOT NULL)"_s,
        u"CREATE TABLE IF NOT EXISTS eventdesk_names (id TEXT PRIMARY KEY, kind TEXT NOT NULL, "
        "name TEXT NOT NULL, updated_at TEXT NOT NULL)"_s,
        // Webhook rules and their outbox (bus/Webhooks.h): one row per event and
        // rule, its key unique, kept until delivered or given up on.
        u"CREATE TABLE IF NOT EXISTS eventdesk_webhooks (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL, "
        "format TEXT NOT NULL, types TEXT NOT NULL, worlds TEXT NOT NULL, template TEXT NOT NULL, "
        "enabled INTEGER NOT NULL, created_at TEXT NOT NULL)"_s,
        u"CREATE TABLE IF NOT EXISTS eventdesk_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, rule_id INTEGER NOT NULL, "
        "event_id INTEGER NOT NULL, key TEXT NOT NULL UNIQUE, body BLOB NOT NULL, state TEXT NOT NULL, "
        "attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, last_status INTEGER NOT NULL, last_error TEXT NOT NULL, "
        "created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"_s,
        u"CREATE INDEX IF NOT EXISTS eventdesk_outbox_due ON eventdesk_outbox(state, next_at)"_s,
        // The row index: what the filters need, small. world and type are keys
        // into eventdesk_keys (kind 0: world, "" for none; kind 1: type); at is
        // created_at in whole seconds since 2000-01-01 UTC, rounded down (NULL
        // when unreadable; RowIndex.cpp decides a bound's own second exactly). The three indexes are made after a first build, sorted,
        // which packs their pages (the budget is 64 bytes a row).
        u"CREATE TABLE IF NOT EXISTS eventdesk_keys (k INTEGER PRIMARY KEY, kind INTEGER NOT NULL, "
        "value TEXT NOT NULL, UNIQUE(kind, value))"_s,
        u"CREATE TABLE IF NOT EXISTS eventdesk_rows (id INTEGER PRIMARY KEY, world INTEGER NOT NULL, "
        "type INTEGER NOT NULL, at INTEGER, processed INTEGER NOT NULL)"_s,
    };
    return statements;
}

// Numbered steps from the base tables (schema 3, as EventDesk 3 made them) to the newest: step N turns schema N-1 into N, each in a transaction
// of its own, and runs once (eventdesk_meta's schema_version says how far a
// file has come). A file made today goes through them all.
const QList<Migration> &migrations()
{
    static const QList<Migration> steps = {
        // 4: a timeout per webhook rule; an archive's state (a prune killed
        // between its archive and its deletes resumes the deletes); the outbox
        // read per rule (each rule has its own delivery slots).
        {4,
         {u"ALTER TABLE eventdesk_webhooks ADD COLUMN timeout_ms INTEGER NOT NULL DEFAULT 10000"_s,
          u"ALTER TABLE eventdesk_archives ADD COLUMN state TEXT NOT NULL DEFAULT 'done'"_s,
          u"CREATE INDEX IF NOT EXISTS eventdesk_outbox_rule ON eventdesk_outbox(rule_id, id)"_s}},
        // 5: the world each recorded message came from (eventdesk record): the
        // log's table has no place for it, and the payload is the engine's as sent.
        {5, {u"CREATE TABLE IF NOT EXISTS eventdesk_recorded (id INTEGER PRIMARY KEY, world TEXT NOT NULL)"_s}},
    };
    return steps;
}

std::optional<Error> apply(SqliteConnection &conn, const Migration &step)
{
    for (const QString &sql : step.statements)
        if (auto e = conn.exec(sql))
            return e;
    return conn.exec(u"INSERT OR REPLACE INTO eventdesk_meta(key, value) VALUES('schema_version', ?)"_s,
                     {QString::number(step.version)});
}

} // namespace eventdesk::deskschema
