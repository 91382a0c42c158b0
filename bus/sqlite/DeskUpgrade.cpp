// EventDesk's own database opened and brought up to date: a file of a newer
// EventDesk left read-only, the numbered steps of an older one run after a
// copy of the file (and the file put back from it should a step fail), and
// the tables a much older EventDesk kept inside the engine's file copied out.
#include "DeskDatabase.h"

#include "BusLog.h"
#include "DeskSchema.h"
#include "DeskWorker.h"
#include "Timestamp.h"

#include <QFile>
#include <QFileInfo>
#include <QSqlQuery>
#include <QSqlRecord>

#include <sqlite3.h>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

// The schema version a desk file says it has, read without writing anything
// (no WAL switch, no lock held): 0 for a new or empty file, -1 when it cannot be read.
int storedSchemaVersion(const QString &path)
{
    if (!QFileInfo::exists(path))
        return 0;
    sqlite3 *db = nullptr;
    int version = -1;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
        sqlite3_stmt *q = nullptr;
        if (sqlite3_prepare_v2(db, "SELECT value FROM eventdesk_meta WHERE key = 'schema_version'", -1, &q, nullptr) == SQLITE_OK) {
            version = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
        } else if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &q, nullptr) == SQLITE_OK
                   && sqlite3_step(q) == SQLITE_ROW) {
            version = 0;  // readable, with no version yet
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return version;
}

// The tables an older EventDesk kept in the engine's file, moved out on first open.
const QStringList OldTables = {u"eventdesk_cursors"_s,       u"eventdesk_audit"_s, u"eventdesk_challenges"_s,
                               u"eventdesk_stats_minute"_s,  u"eventdesk_challenge_stats"_s,
                               u"eventdesk_jobs"_s,          u"eventdesk_timeline"_s, u"eventdesk_archives"_s,
                               u"eventdesk_names"_s};

} // namespace

Result<bool> DeskWorker::open()
{
    // A file a newer EventDesk wrote is shown, never rewritten: not upgraded,
    // not switched to WAL, not written at all.
    if (!m_desk->m_readOnly) {
        if (const int stored = storedSchemaVersion(m_desk->m_path); stored > DeskDatabase::SchemaVersion) {
            m_desk->m_readOnlyReason =
                u"%1 was written by a newer EventDesk (schema %2; this one knows up to %3): it is shown read-only and "
                "left as it is. Use that EventDesk to change challenges, names, notes or webhooks"_s.arg(m_desk->m_path)
                    .arg(stored)
                    .arg(DeskDatabase::SchemaVersion);
            m_desk->m_readOnly = true;
            qCWarning(lcStore).noquote() << m_desk->m_readOnlyReason;
        }
    }
    auto conn = SqliteConnection::openDesk(m_desk->m_path, m_desk->m_readOnly, u"desk"_s);
    if (!conn)
        return conn.error();
    m_conn = std::move(conn).value();
    if (!m_desk->m_readOnly) {
        if (auto e = createSchema())
            return *e;
        if (auto e = moveOldTables())
            return *e;
    }
    loadIndexState();
    return true;
}

std::optional<Error> DeskWorker::createSchema()
{
    int current = 0;
    bool made = false;  // a new file: nothing in it to keep a copy of
    if (auto e = transaction([&current, &made](SqliteConnection &conn) -> std::optional<Error> {
            if (auto e = conn.exec(u"CREATE TABLE IF NOT EXISTS eventdesk_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"_s))
                return e;
            QSqlQuery q(conn.database());
            if (!conn.prepareAndExec(q, u"SELECT value FROM eventdesk_meta WHERE key = 'schema_version'"_s))
                return conn.lastError(q, u"cannot read the schema version"_s);
            current = q.next() ? q.value(0).toInt() : 0;
            q.finish();
            if (current > DeskDatabase::SchemaVersion)  // a newer EventDesk wrote it since open() looked
                return Error{ErrorCode::Storage, u"desk"_s,
                             u"%1 was written by a newer EventDesk (schema %2, this one knows %3): use that EventDesk, "
                             "or move the file aside to start a fresh one"_s.arg(conn.options().path).arg(current)
                                 .arg(DeskDatabase::SchemaVersion)};
            if (current >= deskschema::BaseVersion)
                return std::nullopt;
            // New, or from before schema 3 (tables were only ever added then).
            made = current == 0;
            for (const QString &sql : deskschema::baseTables())
                if (auto e = conn.exec(sql))
                    return e;
            current = deskschema::BaseVersion;
            return conn.exec(u"INSERT OR REPLACE INTO eventdesk_meta(key, value) VALUES('schema_version', ?)"_s,
                             {QString::number(current)});
        }))
        return e;
    if (current >= DeskDatabase::SchemaVersion)
        return std::nullopt;
    if (made) {  // a new file goes through every step, with nothing to lose
        for (const deskschema::Migration &step : deskschema::migrations())
            if (auto e = transaction([&step](SqliteConnection &conn) { return deskschema::apply(conn, step); }))
                return e;
        return std::nullopt;
    }
    return migrate(current);
}

std::optional<Error> DeskWorker::migrate(int from)
{
    // A copy first, consistent, of the file as it is (VACUUM INTO never
    // touches the file it reads).
    const QString copy = u"%1.before-schema-%2"_s.arg(m_desk->m_path).arg(DeskDatabase::SchemaVersion);
    QFile::remove(copy);
    {
        sqlite3_stmt *q = nullptr;
        int rc = sqlite3_prepare_v2(m_conn->handle(), "VACUUM INTO ?1", -1, &q, nullptr);
        const QByteArray target = copy.toUtf8();
        if (rc == SQLITE_OK)
            sqlite3_bind_text(q, 1, target.constData(), int(target.size()), SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(q);
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE)
            return m_conn->errorFromCode(rc, u"cannot keep a copy of %1 before upgrading it (nothing was changed)"_s.arg(m_desk->m_path));
    }
    qCInfo(lcStore).noquote() << "upgrading" << m_desk->m_path << "from schema" << from << "to" << DeskDatabase::SchemaVersion;
    for (const deskschema::Migration &step : deskschema::migrations()) {
        if (step.version <= from)
            continue;
        std::optional<Error> e = transaction([&step](SqliteConnection &conn) { return deskschema::apply(conn, step); });
        if (!e)
            continue;
        // Put the file back from the copy, whole, through SQLite's backup (the
        // connection stays open; readers see the old file or the restored one).
        sqlite3 *src = nullptr;
        int rc = sqlite3_open_v2(QFile::encodeName(copy).constData(), &src, SQLITE_OPEN_READONLY, nullptr);
        if (rc == SQLITE_OK) {
            sqlite3_backup *b = sqlite3_backup_init(m_conn->handle(), "main", src, "main");
            rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(m_conn->handle());
            if (b)
                sqlite3_backup_finish(b);
        }
        sqlite3_close(src);
        const bool restored = rc == SQLITE_DONE;
        if (restored)
            QFile::remove(copy);
        e->field = u"desk"_s;
        e->message = restored
            ? u"cannot bring %1 to schema %2: %3. It is as it was before (schema %4)"_s.arg(m_desk->m_path).arg(step.version)
                  .arg(e->message).arg(from)
            : u"cannot bring %1 to schema %2: %3. A copy of it as it was is %4"_s.arg(m_desk->m_path).arg(step.version)
                  .arg(e->message, copy);
        return e;
    }
    QFile::remove(copy);
    return std::nullopt;
}

// An older EventDesk kept its tables inside the engine's file. They are copied
// here once (read through a read-only connection: that file is not changed)
// and left where they were.
std::optional<Error> DeskWorker::moveOldTables()
{
    QSqlQuery q(m_conn->database());
    if (!m_conn->prepareAndExec(q, u"SELECT value FROM eventdesk_meta WHERE key = 'moved_from_log'"_s))
        return m_conn->lastError(q, u"cannot read EventDesk's own database"_s);
    const bool done = q.next();
    q.finish();
    if (done || !QFileInfo::exists(m_desk->m_engine.path))
        return std::nullopt;
    SqliteOptions options = m_desk->m_engine;
    options.readOnly = true;
    auto engine = SqliteConnection::open(options, u"desk-move"_s, false);
    if (!engine)
        return std::nullopt;  // not readable as a log: nothing of ours can be in it
    SqliteConnection &old = *engine.value();
    QSqlQuery tables(old.database());
    QStringList present;
    if (old.prepareAndExec(tables, u"SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'eventdesk\\_%' ESCAPE '\\'"_s))
        while (tables.next())
            present.append(tables.value(0).toString());
    tables.finish();
    qint64 copied = 0;
    const auto copy = [&](SqliteConnection &conn) -> std::optional<Error> {
        for (const QString &table : OldTables) {
            if (!present.contains(table))
                continue;
            QSqlQuery from(old.database());
            from.setForwardOnly(true);
            if (!old.prepareAndExec(from, u"SELECT * FROM %1"_s.arg(table)))
                return old.lastError(from, u"cannot read %1 from %2"_s.arg(table, old.options().path));
            const int columns = from.record().count();
            // Named columns: a table here may have gained columns since (their defaults fill them).
            QStringList names, marks;
            for (int i = 0; i < columns; ++i) {
                names.append(u'"' + from.record().fieldName(i) + u'"');
                marks.append(u"?"_s);
            }
            QSqlQuery to(conn.database());
            if (!to.prepare(u"INSERT OR IGNORE INTO %1(%2) VALUES(%3)"_s.arg(table, names.join(u','), marks.join(u','))))
                return conn.lastError(to, u"cannot copy %1"_s.arg(table));
            while (from.next()) {
                for (int i = 0; i < columns; ++i)
                    to.bindValue(i, from.value(i));
                if (!to.exec())
                    return conn.lastError(to, u"cannot copy %1"_s.arg(table));
                ++copied;
            }
            from.finish();
            to.finish();
        }
        return conn.exec(u"INSERT OR REPLACE INTO eventdesk_meta(key, value) VALUES('moved_from_log', ?)"_s,
                         {timestamp::now()});
    };
    if (auto e = transaction(copy))
        return e;
    if (copied > 0)
        qCInfo(lcStore).noquote() << "moved" << copied << "rows of EventDesk's own tables out of" << old.options().path
                                  << "into" << m_desk->m_path << "(the old tables are left as they were)";
    return std::nullopt;
}

} // namespace eventdesk
