// The row index: filled from the log a chunk at a time on the desk's thread,
// resumed from the last committed chunk after a restart or a kill, followed
// after each wake, and rebuilt when the log is not the one it was built from.
#include "RowIndex.h"

#include "DeskWorker.h"
#include "EventCatalog.h"
#include "BusLog.h"

#include <QSqlQuery>

#include <sqlite3.h>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

constexpr int ChunkRows = 5000;
// Further behind than this, rows go in without the secondary indexes, which
// are made afterwards in one sorted pass: packed pages, and a faster build.
constexpr qint64 BulkRows = 100000;
enum KeyKind { WorldKey = 0, TypeKey = 1 };

const char *const SecondaryIndexes[][2] = {
    {"eventdesk_rows_world", "CREATE INDEX IF NOT EXISTS eventdesk_rows_world ON eventdesk_rows(world, id)"},
    {"eventdesk_rows_type", "CREATE INDEX IF NOT EXISTS eventdesk_rows_type ON eventdesk_rows(type, id)"},
    {"eventdesk_rows_at", "CREATE INDEX IF NOT EXISTS eventdesk_rows_at ON eventdesk_rows(at)"},
};

QString text(sqlite3_stmt *stmt, int col)
{
    const auto *t = reinterpret_cast<const char *>(sqlite3_column_text(stmt, col));
    return t ? QString::fromUtf8(t, sqlite3_column_bytes(stmt, col)) : QString();
}

qint64 metaValue(SqliteConnection &conn, const QString &key)
{
    QSqlQuery q(conn.database());
    qint64 v = 0;
    if (conn.prepareAndExec(q, u"SELECT value FROM eventdesk_meta WHERE key = ?"_s, {key}) && q.next())
        v = q.value(0).toLongLong();
    q.finish();
    return v;
}

QString metaText(SqliteConnection &conn, const QString &key)
{
    QSqlQuery q(conn.database());
    QString v;
    if (conn.prepareAndExec(q, u"SELECT value FROM eventdesk_meta WHERE key = ?"_s, {key}) && q.next())
        v = q.value(0).toString();
    q.finish();
    return v;
}

std::optional<Error> setMeta(SqliteConnection &conn, const QString &key, const QVariant &value)
{
    return conn.exec(u"INSERT OR REPLACE INTO eventdesk_meta(key, value) VALUES(?, coalesce(?, ''))"_s, {key, value});
}

struct IndexedRow {
    qint64 id;
    QString type;
    QString world;
    bool noWorld;  // SQL NULL: no world_id, or a payload that is not JSON
    std::optional<qint64> at;
    bool processed;
    QString signature;  // created_at|event_type: tells this log from another with the same ids
};

} // namespace

namespace rowindex {

qint64 indexSecond(qint64 nanos)
{
    constexpr qint64 Billion = 1000000000;
    constexpr qint64 Y2K = 946684800;  // 2000-01-01T00:00:00Z: seconds since fit in 4 bytes until 2068
    const qint64 seconds = nanos >= 0 ? nanos / Billion : -((-nanos + Billion - 1) / Billion);
    return seconds - Y2K;
}

QString conditions(const EventQuery &query, QVariantList &values)
{
    QString sql;
    // column = one key, or column IN several. One key is an equality, so that
    // the (key, id) index gives the rows already in id order: with IN, SQLite
    // reads every match and sorts them for ORDER BY id (a world of 500,000
    // rows in a 10,000,000-row log: 1.1 s instead of under a millisecond).
    const auto keyList = [&](const QString &column, int kind, const QStringList &names) -> QString {
        if (names.size() == 1) {
            values.append(names.first());
            return column + u" = (SELECT k FROM desk.eventdesk_keys WHERE kind = %1 AND value = ?)"_s.arg(kind);
        }
        QStringList marks;
        for (const QString &n : names) {
            marks.append(u"?"_s);
            values.append(n);
        }
        return column + u" IN (SELECT k FROM desk.eventdesk_keys WHERE kind = %1 AND value IN (%2))"_s.arg(kind).arg(marks.join(u','));
    };
    if (!query.worlds.isEmpty()) {
        // "" in the filter is "no world": a payload without a world_id (or not JSON), kept as 0.
        QStringList named = query.worlds;
        const bool none = named.removeAll(QString()) > 0;
        QStringList parts;
        if (!named.isEmpty())
            parts.append(keyList(u"r.world"_s, WorldKey, named));
        if (none)
            parts.append(u"r.world = 0"_s);
        sql += u" AND ("_s + parts.join(u" OR "_s) + u')';
    }
    QStringList types;
    if (!query.kinds.isEmpty() || !query.tags.isEmpty()) {
        types = query.typeNames();
    } else if (!query.includeUndecodable) {
        for (const VariantSpec &v : catalog::variants())
            types.append(v.name);
    }
    if (!types.isEmpty())
        sql += u" AND "_s + keyList(u"r.type"_s, TypeKey, types);
    // at is in whole seconds (4 bytes, not 8): a row in the bound's own
    // second is decided on its exact created_at, read from the log.
    const QString exact = u"eventdesk_instant((SELECT created_at FROM main.app_events WHERE id = r.id))"_s;
    if (query.createdFrom) {
        const qint64 second = indexSecond(*query.createdFrom);
        sql += u" AND r.at >= ? AND (r.at > ? OR %1 >= ?)"_s.arg(exact);
        values << second << second << *query.createdFrom;
    }
    if (query.createdTo) {
        const qint64 second = indexSecond(*query.createdTo);
        sql += u" AND r.at <= ? AND (r.at < ? OR %1 < ?)"_s.arg(exact);
        values << second << second << *query.createdTo;
    }
    if (query.afterId > 0) {
        sql += u" AND r.id > ?"_s;
        values.append(query.afterId);
    }
    if (query.beforeId > 0) {
        sql += u" AND r.id < ?"_s;
        values.append(query.beforeId);
    }
    return sql;
}

} // namespace rowindex

void DeskWorker::loadIndexState()
{
    m_desk->m_indexedTo.store(metaValue(*m_conn, u"index_to"_s));
}

void DeskWorker::startIndexing()
{
    if (m_desk->m_readOnly || !m_conn)
        return;
    m_indexing = true;
    m_desk->m_following.store(true);
    wake();
}

void DeskWorker::stopIndexing()
{
    m_indexing = false;
    m_desk->m_following.store(false);
    m_retry.stop();
    settleWaiters(Error{ErrorCode::Usage, {}, u"the index build was paused"_s});
}

void DeskWorker::wake()
{
    if (!m_indexing || m_scheduled || m_retry.isActive())
        return;
    m_scheduled = true;
    QMetaObject::invokeMethod(this, &DeskWorker::step, Qt::QueuedConnection);
}

void DeskWorker::addWaiter(std::shared_ptr<QPromise<Result<qint64>>> promise)
{
    m_waiters.push_back(std::move(promise));
    if (!m_indexing)
        startIndexing();
    else
        wake();
}

void DeskWorker::settleWaiters(const Result<qint64> &result)
{
    for (auto &p : std::exchange(m_waiters, {})) {
        p->addResult(result);
        p->finish();
    }
}

// One chunk per turn of the desk's event loop: cursor saves, challenges and
// the projector's writes queued meanwhile go in between.
void DeskWorker::step()
{
    m_scheduled = false;
    if (!m_indexing)
        return;  // paused meanwhile
    const Result<bool> more = indexChunk();
    const qint64 done = m_desk->m_indexedTo.load(), head = m_desk->m_indexHead.load();
    if (!more) {
        qCWarning(lcStore).noquote() << "row index:" << more.error().message << "- trying again in 2 s";
        if (more.error().code != ErrorCode::Busy)
            settleWaiters(more.error());
        m_retry.start(2000);
        return;
    }
    Q_EMIT m_desk->indexProgress(done, std::max(done, head));
    if (*more) {
        if (m_maxRate > 0) {
            m_retry.start(int(1000LL * ChunkRows / m_maxRate));  // gentler on a busy disk
            return;
        }
        m_scheduled = true;
        QMetaObject::invokeMethod(this, &DeskWorker::step, Qt::QueuedConnection);
        return;
    }
    // Caught up: the filters' indexes (made now, in one sorted pass, after a bulk build).
    if (auto e = transaction([](SqliteConnection &conn) -> std::optional<Error> {
            for (const auto &index : SecondaryIndexes)
                if (auto failed = conn.exec(QString::fromLatin1(index[1])))
                    return failed;
            return std::nullopt;
        })) {
        qCWarning(lcStore).noquote() << "row index:" << e->message;
    }
    settleWaiters(done);
}

std::optional<Error> DeskWorker::openEngineReader()
{
    SqliteOptions options = m_desk->m_engine;
    options.readOnly = true;
    auto engine = SqliteConnection::open(options, u"indexer"_s, false);
    if (!engine)
        return engine.error();
    m_engine = std::move(engine).value();
    const char sql[] = "SELECT id, event_type, CASE WHEN json_valid(payload) THEN json_extract(payload,'$.world_id') END, "
                       "eventdesk_instant(created_at), processed, created_at || '|' || event_type "
                       "FROM app_events WHERE id > ?1 ORDER BY id LIMIT ?2";
    if (sqlite3_prepare_v3(m_engine->handle(), sql, -1, SQLITE_PREPARE_PERSISTENT, &m_chunk, nullptr) != SQLITE_OK)
        return m_engine->errorFromCode(sqlite3_errcode(m_engine->handle()), u"cannot prepare the index reader"_s);
    return std::nullopt;
}

// The index belongs to one log: when the log's ids went back, or the row at
// the indexed id is not the one indexed, it is another log (a replaced file)
// and the index starts over.
std::optional<Error> DeskWorker::resetIfReplaced(qint64 head)
{
    const qint64 upTo = metaValue(*m_conn, u"index_to"_s);
    if (upTo == 0)
        return std::nullopt;
    bool same = head >= upTo;
    if (same) {
        sqlite3_stmt *row = nullptr;
        sqlite3_prepare_v2(m_engine->handle(), "SELECT created_at || '|' || event_type FROM app_events WHERE id = ?1", -1,
                           &row, nullptr);
        sqlite3_bind_int64(row, 1, upTo);
        const int rc = sqlite3_step(row);
        const QString signature = rc == SQLITE_ROW ? text(row, 0) : QString();
        sqlite3_finalize(row);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return m_engine->errorFromCode(rc, u"cannot read the log"_s);
        same = signature == metaText(*m_conn, u"index_sig"_s);
    }
    if (same)
        return std::nullopt;
    qCInfo(lcStore).noquote() << "the log is not the one the row index was built from (ids went back or the file was"
                                 " replaced): building it again";
    m_keys[0].clear();
    m_keys[1].clear();
    m_desk->m_indexedTo.store(0);
    return transaction([](SqliteConnection &conn) -> std::optional<Error> {
        if (auto e = conn.exec(u"DELETE FROM eventdesk_rows"_s))
            return e;
        if (auto e = conn.exec(u"DELETE FROM eventdesk_keys"_s))
            return e;
        if (auto e = setMeta(conn, u"index_to"_s, 0))
            return e;
        return setMeta(conn, u"index_sig"_s, QString());
    });
}

Result<qint64> DeskWorker::keyFor(int kind, const QString &value)
{
    const auto it = m_keys[kind].constFind(value);
    if (it != m_keys[kind].constEnd())
        return *it;
    QSqlQuery q(m_conn->database());
    if (!m_conn->prepareAndExec(q, u"INSERT OR IGNORE INTO eventdesk_keys(kind, value) VALUES(?, coalesce(?, ''))"_s, {kind, value})
        || !m_conn->prepareAndExec(q, u"SELECT k FROM eventdesk_keys WHERE kind = ? AND value = coalesce(?, '')"_s, {kind, value})
        || !q.next())
        return m_conn->lastError(q, u"cannot index a key"_s);
    const qint64 k = q.value(0).toLongLong();
    q.finish();
    m_keys[kind].insert(value, k);
    return k;
}

Result<bool> DeskWorker::indexChunk()
{
    if (!m_engine) {
        if (auto e = openEngineReader())
            return *e;
    }
    sqlite3 *db = m_engine->handle();
    sqlite3_stmt *max = nullptr;
    sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM app_events", -1, &max, nullptr);
    int rc = sqlite3_step(max);
    const qint64 head = rc == SQLITE_ROW ? sqlite3_column_int64(max, 0) : 0;
    sqlite3_finalize(max);
    if (rc != SQLITE_ROW)
        return m_engine->errorFromCode(rc, u"cannot read the log"_s);
    m_desk->m_indexHead.store(head);
    if (auto e = resetIfReplaced(head))
        return *e;

    const qint64 upTo = metaValue(*m_conn, u"index_to"_s);
    std::vector<IndexedRow> rows;
    rows.reserve(ChunkRows);
    sqlite3_bind_int64(m_chunk, 1, upTo);
    sqlite3_bind_int(m_chunk, 2, ChunkRows);
    while ((rc = sqlite3_step(m_chunk)) == SQLITE_ROW) {
        IndexedRow row{sqlite3_column_int64(m_chunk, 0), text(m_chunk, 1), text(m_chunk, 2),
                       sqlite3_column_type(m_chunk, 2) == SQLITE_NULL, std::nullopt,
                       sqlite3_column_int(m_chunk, 4) != 0, text(m_chunk, 5)};
        if (sqlite3_column_type(m_chunk, 3) != SQLITE_NULL)
            row.at = rowindex::indexSecond(sqlite3_column_int64(m_chunk, 3));
        rows.push_back(std::move(row));
    }
    sqlite3_reset(m_chunk);  // the read transaction ends here: the engine never waits on us
    if (rc != SQLITE_DONE)
        return m_engine->errorFromCode(rc, u"cannot read the log"_s);
    if (rows.empty()) {
        m_desk->m_indexedTo.store(upTo);
        return false;
    }

    const bool bulk = head - upTo > BulkRows;
    auto err = transaction([&](SqliteConnection &conn) -> std::optional<Error> {
        if (bulk) {
            for (const auto &index : SecondaryIndexes)
                if (auto e = conn.exec(u"DROP INDEX IF EXISTS %1"_s.arg(QLatin1StringView(index[0]))))
                    return e;
        }
        sqlite3_stmt *insert = nullptr;
        if (sqlite3_prepare_v2(conn.handle(), "INSERT OR REPLACE INTO eventdesk_rows(id, world, type, at, processed) "
                                              "VALUES(?1, ?2, ?3, ?4, ?5)", -1, &insert, nullptr) != SQLITE_OK)
            return conn.errorFromCode(sqlite3_errcode(conn.handle()), u"cannot prepare the index"_s);
        sqlite3_stmt *recorded = nullptr;  // a recorded message's world, when its payload names none
        sqlite3_prepare_v2(conn.handle(), "SELECT world FROM eventdesk_recorded WHERE id = ?1", -1, &recorded, nullptr);
        const auto recordedWorld = [recorded](qint64 id) -> QString {
            if (!recorded)
                return {};
            sqlite3_bind_int64(recorded, 1, id);
            QString world;
            if (sqlite3_step(recorded) == SQLITE_ROW)
                world = text(recorded, 0);
            sqlite3_reset(recorded);
            return world;
        };
        std::optional<Error> failed;
        for (const IndexedRow &row : rows) {
            const QString placed = row.noWorld ? recordedWorld(row.id) : QString();
            const Result<qint64> world = !row.noWorld ? keyFor(WorldKey, row.world)
                                         : placed.isEmpty() ? Result<qint64>(qint64(0))
                                                            : keyFor(WorldKey, placed);
            const Result<qint64> type = keyFor(TypeKey, row.type);
            if (!world || !type) {
                failed = world ? type.error() : world.error();
                break;
            }
            sqlite3_bind_int64(insert, 1, row.id);
            sqlite3_bind_int64(insert, 2, world.value());
            sqlite3_bind_int64(insert, 3, type.value());
            if (row.at)
                sqlite3_bind_int64(insert, 4, *row.at);
            else
                sqlite3_bind_null(insert, 4);
            sqlite3_bind_int(insert, 5, row.processed ? 1 : 0);
            const int step = sqlite3_step(insert);
            sqlite3_reset(insert);
            if (step != SQLITE_DONE) {
                failed = conn.errorFromCode(step, u"cannot index a row"_s);
                break;
            }
        }
        sqlite3_finalize(insert);
        sqlite3_finalize(recorded);
        if (failed)
            return failed;
        // Another EventDesk on the same log may have gone further meanwhile.
        if (rows.back().id > metaValue(conn, u"index_to"_s)) {
            if (auto e = setMeta(conn, u"index_to"_s, rows.back().id))
                return e;
            return setMeta(conn, u"index_sig"_s, rows.back().signature);
        }
        return std::nullopt;
    });
    if (err) {
        m_keys[0].clear();  // keys added in the rolled-back transaction are gone
        m_keys[1].clear();
        return *err;
    }
    m_desk->m_indexedTo.store(std::max(rows.back().id, m_desk->m_indexedTo.load()));
    return int(rows.size()) == ChunkRows;
}

std::optional<Error> DeskWorker::setProcessed(const QList<qint64> &ids, bool processed)
{
    if (m_desk->m_readOnly || !m_conn)
        return std::nullopt;
    return transaction([&](SqliteConnection &conn) -> std::optional<Error> {
        for (qint64 id : ids)
            if (auto e = conn.exec(u"UPDATE eventdesk_rows SET processed = ? WHERE id = ?"_s, {processed ? 1 : 0, id}))
                return e;
        return std::nullopt;
    });
}

// Recorded messages' worlds (eventdesk_recorded), and those of their rows the
// index holds already. The indexer looks there for a row whose payload names
// no world, so whichever of the two runs first, the row ends up in its world.
std::optional<Error> DeskWorker::recordWorlds(const QList<std::pair<qint64, QString>> &worlds)
{
    if (m_desk->m_readOnly || !m_conn)
        return Error{ErrorCode::Usage, {}, u"EventDesk's own database is open read-only"_s};
    return transaction([&](SqliteConnection &conn) -> std::optional<Error> {
        for (const auto &[id, world] : worlds) {
            if (auto e = conn.exec(u"INSERT OR REPLACE INTO eventdesk_recorded(id, world) VALUES(?, ?)"_s, {id, world}))
                return e;
            const Result<qint64> key = world.isEmpty() ? Result<qint64>(qint64(0)) : keyFor(WorldKey, world);
            if (!key)
                return key.error();
            if (auto e = conn.exec(u"UPDATE eventdesk_rows SET world = ? WHERE id = ?"_s, {key.value(), id}))
                return e;
        }
        return std::nullopt;
    });
}

std::optional<Error> DeskWorker::forget(const QList<qint64> &ids)
{
    if (m_desk->m_readOnly || !m_conn)
        return std::nullopt;
    return transaction([&](SqliteConnection &conn) -> std::optional<Error> {
        for (qint64 id : ids)
            if (auto e = conn.exec(u"DELETE FROM eventdesk_rows WHERE id = ?"_s, {id}))
                return e;
        return std::nullopt;
    });
}

DeskWorker::~DeskWorker()
{
    settleWaiters(Error{ErrorCode::Unavailable, {}, u"EventDesk's own database was closed"_s});
    if (m_chunk)
        sqlite3_finalize(m_chunk);
}

} // namespace eventdesk
