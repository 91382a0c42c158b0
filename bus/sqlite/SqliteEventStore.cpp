#include "SqliteEventStore.h"

#include "RowIndex.h"
#include "SqliteWriter.h"

#include "EventCodec.h"
#include "Logging.h"
#include "StoredPayload.h"
#include "Timestamp.h"

#include <QFile>
#include <QElapsedTimer>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimer>
#include <QUuid>

#include <sqlite3.h>

#include <sys/stat.h>

#include <atomic>
#include <array>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

constexpr char SelectColumns[] = "SELECT id, event_type, payload, created_at, processed, processed_at FROM app_events";

Error notOpen() { return Error{ErrorCode::Unavailable, {}, u"the event store is not open"_s}; }

QString columnText(sqlite3_stmt *stmt, int col)
{
    const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(stmt, col));
    return text ? QString::fromUtf8(text, sqlite3_column_bytes(stmt, col)) : QString();
}

StoredEvent rowFrom(sqlite3_stmt *stmt)
{
    StoredEvent e;
    e.id = sqlite3_column_int64(stmt, 0);
    e.eventType = columnText(stmt, 1);
    const auto *payload = static_cast<const char *>(sqlite3_column_blob(stmt, 2));
    e.payload = QByteArray(payload, sqlite3_column_bytes(stmt, 2));
    e.createdAtText = columnText(stmt, 3);
    e.createdAt = timestamp::parse(e.createdAtText);
    e.processed = sqlite3_column_int(stmt, 4) != 0;
    if (sqlite3_column_type(stmt, 5) != SQLITE_NULL)
        e.processedAt = timestamp::parse(columnText(stmt, 5));
    e.decode();
    return e;
}

StoredEvent rowFrom(const QSqlQuery &q)
{
    StoredEvent e;
    e.id = q.value(0).toLongLong();
    e.eventType = q.value(1).toString();
    e.payload = q.value(2).toString().toUtf8();
    e.createdAtText = q.value(3).toString();
    e.createdAt = timestamp::parse(e.createdAtText);
    e.processed = q.value(4).toInt() != 0;
    if (!q.value(5).isNull())
        e.processedAt = timestamp::parse(q.value(5).toString());
    e.decode();
    return e;
}

// A case-insensitive substring of a column, with LIKE's wildcards escaped.
QString textCondition(const QString &text, const QString &column, QVariantList &values)
{
    QString escaped = text;
    escaped.replace(u'\\', u"\\\\"_s).replace(u'%', u"\\%"_s).replace(u'_', u"\\_"_s);
    values.append(QString(u'%' + escaped + u'%'));
    return column + u" LIKE ? ESCAPE '\\'"_s;
}

// Rows up to this id are in the attached row index, which belongs to this log
// (the row at that id is the one indexed); 0 when there is no usable index.
qint64 indexedTo(SqliteConnection &conn)
{
    const char sql[] = "SELECT CAST(m.value AS INTEGER) FROM desk.eventdesk_meta m WHERE m.key = 'index_to' "
                       "AND (SELECT value FROM desk.eventdesk_meta WHERE key = 'index_sig') IS "
                       "(SELECT created_at || '|' || event_type FROM main.app_events WHERE id = CAST(m.value AS INTEGER))";
    sqlite3_stmt *stmt = nullptr;
    qint64 upTo = 0;
    if (sqlite3_prepare_v2(conn.handle(), sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        upTo = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);  // no desk attached: the statement does not prepare, and there is no index
    return upTo;
}

// A query split at the indexed id: the rows up to it are found through the
// index, the newer ones by scanning the log.
struct SplitQuery {
    EventQuery indexed;  // ids <= upTo
    EventQuery tail;     // ids > upTo
    bool useIndex = false;
};

SplitQuery split(const EventQuery &query, qint64 upTo)
{
    SplitQuery q{query, query, false};
    q.tail.afterId = std::max(query.afterId, upTo);
    if (upTo > 0) {
        q.indexed.beforeId = query.beforeId > 0 ? std::min(query.beforeId, upTo + 1) : upTo + 1;
        q.useIndex = q.indexed.afterId + 1 < q.indexed.beforeId;
    }
    return q;
}

QString indexedSql(const EventQuery &query, QVariantList &values, bool count)
{
    QString sql = count && query.text.isEmpty()
        ? u"SELECT count(*) FROM desk.eventdesk_rows r WHERE 1"_s
        : (count ? u"SELECT count(*)"_s : u"SELECT a.id, a.event_type, a.payload, a.created_at, a.processed, a.processed_at"_s)
            + u" FROM desk.eventdesk_rows r CROSS JOIN app_events a ON a.id = r.id WHERE 1"_s;
    sql += rowindex::conditions(query, values);
    if (!query.text.isEmpty())
        sql += u" AND "_s + textCondition(query.text, u"a.payload"_s, values);
    return sql;
}

// WHERE clause and its values for a query (no ORDER/LIMIT).
std::pair<QString, QVariantList> whereFor(const EventQuery &query)
{
    QStringList conds;
    QVariantList values;
    const QString world = QLatin1StringView(WorldSql);
    if (!query.worlds.isEmpty()) {
        QStringList named;
        bool noWorld = false;
        for (const QString &w : query.worlds) {
            if (w.isEmpty()) {
                noWorld = true;
            } else {
                named.append(u"?"_s);
                values.append(w);
            }
        }
        QStringList parts;
        if (!named.isEmpty())
            parts.append(world + u" IN ("_s + named.join(u',') + u')');
        if (noWorld)
            parts.append(world + u" IS NULL"_s);
        conds.append(u'(' + parts.join(u" OR "_s) + u')');
    }
    if (!query.kinds.isEmpty()) {
        QStringList marks;
        for (EventKind k : query.kinds) {
            marks.append(u"?"_s);
            values.append(catalog::name(k));
        }
        conds.append(u"event_type IN ("_s + marks.join(u',') + u')');
    } else if (!query.includeUndecodable) {
        QStringList marks;
        for (const VariantSpec &v : catalog::variants()) {
            marks.append(u"?"_s);
            values.append(v.name);
        }
        conds.append(u"event_type IN ("_s + marks.join(u',') + u')');
    }
    if (query.createdFrom)
        conds.append(createdAtLeastSql(*query.createdFrom, values));
    if (query.createdTo)
        conds.append(createdBeforeSql(*query.createdTo, values));
    if (!query.text.isEmpty())
        conds.append(textCondition(query.text, u"payload"_s, values));
    if (query.afterId > 0) {
        conds.append(u"id > ?"_s);
        values.append(query.afterId);
    }
    if (query.beforeId > 0) {
        conds.append(u"id < ?"_s);
        values.append(query.beforeId);
    }
    return {conds.isEmpty() ? QString() : u" WHERE "_s + conds.join(u" AND "_s), values};
}

} // namespace

// --- reader -------------------------------------------------------------------

class SqliteReader final : public QObject
{
public:
    SqliteReader(SqliteEventStore *store, std::atomic<qint64> *knownHead)
        : m_store(store)
        , m_knownHead(knownHead)
    {
        connect(&m_poll, &QTimer::timeout, this, &SqliteReader::pollDataVersion);
    }
    ~SqliteReader() override
    {
        if (m_since)
            sqlite3_finalize(m_since);
        if (m_maxId)
            sqlite3_finalize(m_maxId);
        if (m_dataVersion)
            sqlite3_finalize(m_dataVersion);
    }

    Result<bool> open(const SqliteOptions &options, const QString &deskPath)
    {
        SqliteOptions readerOptions = options;
        readerOptions.create = false;  // the writer made it
        auto conn = SqliteConnection::open(readerOptions, u"reader"_s, false);
        if (!conn)
            return conn.error();
        m_conn = std::move(conn).value();
        sqlite3 *db = m_conn->handle();
        if (!deskPath.isEmpty()) {
            // The row index is read in the same statements as the log.
            sqlite3_stmt *attach = nullptr;
            const QByteArray path = deskPath.toUtf8();
            if (sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS desk", -1, &attach, nullptr) == SQLITE_OK) {
                sqlite3_bind_text(attach, 1, path.constData(), int(path.size()), SQLITE_TRANSIENT);
                if (sqlite3_step(attach) != SQLITE_DONE)
                    qCWarning(lcStore).noquote() << "cannot read the row index in" << deskPath << ":" << sqlite3_errmsg(db);
            }
            sqlite3_finalize(attach);
        }
        const auto prep = [db](const char *sql, sqlite3_stmt **stmt) {
            return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) == SQLITE_OK;
        };
        const QByteArray since = QByteArray(SelectColumns) + " WHERE id > ?1 ORDER BY id LIMIT ?2";
        if (!prep(since.constData(), &m_since) || !prep("PRAGMA data_version", &m_dataVersion)
            || !prep("SELECT max(id) FROM app_events", &m_maxId))
            return m_conn->errorFromCode(sqlite3_errcode(db), u"cannot prepare the reader's statements"_s);
        m_lastDataVersion = dataVersion();
        m_path = QFile::encodeName(options.path);
        struct stat st {};
        if (::stat(m_path.constData(), &st) == 0)
            m_fileId = {st.st_dev, st.st_ino};
        if (options.dataVersionPollMs > 0)
            m_poll.start(options.dataVersionPollMs);
        return true;
    }

    SqliteConnection *connection() const { return m_conn.get(); }

    Result<QList<StoredEvent>> fetchSince(qint64 afterId, int limit)
    {
        QList<StoredEvent> out;
        sqlite3_bind_int64(m_since, 1, afterId);
        sqlite3_bind_int(m_since, 2, qBound(1, limit, 100000));
        int rc;
        while ((rc = sqlite3_step(m_since)) == SQLITE_ROW)
            out.append(rowFrom(m_since));
        sqlite3_reset(m_since);  // ends the read transaction: never pins the WAL
        if (rc != SQLITE_DONE)
            return m_conn->errorFromCode(rc, u"cannot read events"_s);
        return out;
    }

private:
    qint64 dataVersion()
    {
        qint64 v = -1;
        if (sqlite3_step(m_dataVersion) == SQLITE_ROW)
            v = sqlite3_column_int64(m_dataVersion, 0);
        sqlite3_reset(m_dataVersion);
        return v;
    }

    // PRAGMA data_version changes when another connection (any process)
    // commits; only then is max(id) read, and only rows past what this store
    // wrote itself are announced.
    void pollDataVersion()
    {
        // Another file now under this name (the engine's database replaced): our
        // connections still read the old one, so this is said once, loudly; the
        // user of the store reopens it to follow the new file.
        if (!m_replaced && m_fileId.second != 0) {
            struct stat st {};
            if (::stat(m_path.constData(), &st) == 0 && (st.st_dev != m_fileId.first || st.st_ino != m_fileId.second)) {
                m_replaced = true;
                qCWarning(lcStore).noquote() << QString::fromLocal8Bit(m_path) << "was replaced on disk by another file";
                Q_EMIT m_store->fileReplaced();
            }
        }
        const qint64 v = dataVersion();
        if (v == m_lastDataVersion)
            return;
        m_lastDataVersion = v;
        qint64 head = 0;
        const int rc = sqlite3_step(m_maxId);
        if (rc == SQLITE_ROW)
            head = sqlite3_column_int64(m_maxId, 0);
        sqlite3_reset(m_maxId);
        if (rc != SQLITE_ROW) {
            m_lastDataVersion = -1;  // locked or failing: look again next tick
            return;
        }
        if (head > m_knownHead->load() && head > m_lastAnnounced) {
            m_lastAnnounced = head;
            qCDebug(lcNotify) << "rows from another connection up to" << head;
            Q_EMIT m_store->externalRowsDetected(head);
        }
    }

    SqliteEventStore *m_store;
    std::atomic<qint64> *m_knownHead;
    std::unique_ptr<SqliteConnection> m_conn;
    sqlite3_stmt *m_since = nullptr;
    sqlite3_stmt *m_maxId = nullptr;
    sqlite3_stmt *m_dataVersion = nullptr;
    qint64 m_lastDataVersion = -1;
    qint64 m_lastAnnounced = 0;
    QByteArray m_path;
    std::pair<dev_t, ino_t> m_fileId{0, 0};
    bool m_replaced = false;
    QTimer m_poll;
};

// --- the store ----------------------------------------------------------------

SqliteEventStore::SqliteEventStore(SqliteOptions options, QObject *parent)
    : LogWatch(parent)
    , m_options(std::move(options))
{
}

SqliteEventStore::~SqliteEventStore()
{
    // Queued writes finish (or fail) before the threads end.
    if (m_writer)
        m_writer->stop();
    if (m_reader)
        m_reader->stop();
    if (m_checkpointer)
        m_checkpointer->stop();
}

QFuture<Result<bool>> SqliteEventStore::open()
{
    if (m_writer)
        return QtFuture::makeReadyFuture(Result<bool>(Error{ErrorCode::Usage, {}, u"the store is already open"_s}));
    m_writer = std::make_unique<WorkerThread<SqliteWriter>>(u"eventdesk-sql-writer"_s);
    m_reader = std::make_unique<WorkerThread<SqliteReader>>(u"eventdesk-sql-reader"_s);
    SqliteWriter *writer = m_writer->create(&m_knownHead, this);
    SqliteReader *reader = m_reader->create(this, &m_knownHead);
    const SqliteOptions options = m_options;
    // The writer creates the log where allowed; then EventDesk's own database
    // (which may copy an older release's tables out of the log); then the reader.
    Result<bool> written = runOn<Result<bool>>(writer, [writer, options] { return writer->open(options); }).result();
    if (!written)
        return QtFuture::makeReadyFuture(written);
    if (writer->ownsFile() && !options.readOnly) {
        m_checkpointer = std::make_unique<WorkerThread<SqliteCheckpointer>>(u"eventdesk-sql-checkpoint"_s);
        m_checkpointer->create(m_options.path);
    }
    const QString deskPath = options.deskWritable ? DeskDatabase::pathFor(options.path)
                                                  : DeskDatabase::existingPathFor(options.path);
    if (!deskPath.isEmpty()) {
        m_desk = std::make_unique<DeskDatabase>(deskPath, options, !options.deskWritable);
        connect(m_desk.get(), &DeskDatabase::indexProgress, this, &LogWatch::indexProgress);
        connect(this, &SqliteEventStore::externalRowsDetected, m_desk.get(), &DeskDatabase::wakeIndex, Qt::DirectConnection);
        if (Result<bool> opened = m_desk->open().result(); !opened) {
            if (options.deskWritable)
                return QtFuture::makeReadyFuture(opened);
            qCWarning(lcStore).noquote() << "EventDesk's own database" << deskPath << "cannot be read:" << opened.error().message;
            m_desk.reset();
        }
    }
    const QString attach = m_desk ? m_desk->path() : QString();
    return runOn<Result<bool>>(reader, [reader, options, attach] { return reader->open(options, attach); });
}

void SqliteEventStore::startIndexing()
{
    if (m_desk && !m_desk->isReadOnly())
        m_desk->startIndexing();
}

Result<bool> SqliteEventStore::openAndWait()
{
    QFuture<Result<bool>> f = open();
    f.waitForFinished();
    return f.result();
}

void SqliteEventStore::requestCheckpoint()
{
    if (SqliteCheckpointer *c = m_checkpointer ? m_checkpointer->object() : nullptr)
        QMetaObject::invokeMethod(c, [c] { c->checkpoint(); }, Qt::QueuedConnection);
}

QObject *SqliteEventStore::readerContext() const
{
    return m_reader ? m_reader->object() : nullptr;
}

SqliteConnection *SqliteEventStore::readerConnection() const
{
    return m_reader && m_reader->object() ? m_reader->object()->connection() : nullptr;
}

QFuture<BatchPublishResult> SqliteEventStore::append(const QList<AppEvent> &events)
{
    QList<std::pair<QString, QByteArray>> rows;
    rows.reserve(events.size());
    for (const AppEvent &e : events) {
        Result<QByteArray> payload = storedPayload(e);
        if (!payload)
            return QtFuture::makeReadyFuture(BatchPublishResult(payload.error()));
        rows.append({e.typeName(), std::move(payload).value()});
    }
    return appendRaw(rows);
}

QFuture<BatchPublishResult> SqliteEventStore::importRows(const QList<rows::ImportedRow> &rows, bool keepIds)
{
    QList<std::pair<QString, QByteArray>> encoded;
    encoded.reserve(rows.size());
    for (const rows::ImportedRow &row : rows) {
        Result<QByteArray> payload = storedPayload(row.event);
        if (!payload)
            return QtFuture::makeReadyFuture(BatchPublishResult(payload.error()));
        encoded.append({row.event.typeName(), std::move(payload).value()});
    }
    auto ids = std::make_shared<QList<qint64>>();
    return write([rows, encoded, keepIds, ids](SqliteConnection &conn) -> std::optional<Error> {
               QSqlQuery q(conn.database());
               if (keepIds) {
                   if (!conn.prepareAndExec(q, u"SELECT EXISTS(SELECT 1 FROM app_events)"_s))
                       return conn.lastError(q, u"cannot look at the log"_s);
                   const bool any = q.next() && q.value(0).toInt() != 0;
                   q.finish();
                   if (any)
                       return Error{ErrorCode::Usage, {}, u"--keep-ids imports only into an empty log; this one has events"_s};
               }
               const QString now = timestamp::now();
               if (!q.prepare(keepIds ? u"INSERT INTO app_events(id, event_type, payload, created_at, processed, processed_at) "
                                         "VALUES(?, ?, ?, ?, ?, ?)"_s
                                       : u"INSERT INTO app_events(event_type, payload, created_at, processed, processed_at) "
                                         "VALUES(?, ?, ?, ?, ?)"_s))
                   return conn.lastError(q, u"cannot import"_s);
               for (qsizetype i = 0; i < rows.size(); ++i) {
                   const rows::ImportedRow &row = rows.at(i);
                   int k = 0;
                   if (keepIds)
                       q.bindValue(k++, row.id);
                   q.bindValue(k++, encoded.at(i).first);
                   q.bindValue(k++, QString::fromUtf8(encoded.at(i).second));
                   q.bindValue(k++, row.createdAt.isEmpty() ? now : row.createdAt);
                   q.bindValue(k++, row.processed ? 1 : 0);
                   q.bindValue(k++, row.processedAt.isEmpty() ? QVariant() : QVariant(row.processedAt));
                   if (!q.exec())
                       return conn.lastError(q, keepIds ? u"cannot import the row with id %1"_s.arg(row.id) : u"cannot import"_s);
                   ids->append(q.lastInsertId().toLongLong());
               }
               q.finish();
               return std::nullopt;
           })
        .then([ids](const Result<bool> &r) -> BatchPublishResult {
            if (!r)
                return r.error();
            return *ids;
        });
}

QFuture<BatchPublishResult> SqliteEventStore::appendRaw(const QList<std::pair<QString, QByteArray>> &rows)
{
    if (!m_writer || !m_writer->object())
        return QtFuture::makeReadyFuture(BatchPublishResult(notOpen()));
    if (rows.isEmpty())
        return QtFuture::makeReadyFuture(BatchPublishResult(QList<qint64>{}));
    WriteJob job;
    job.rows = rows;
    job.appendPromise = std::make_shared<QPromise<BatchPublishResult>>();
    job.appendPromise->start();
    QFuture<BatchPublishResult> future = job.appendPromise->future();
    m_writer->object()->enqueue(std::move(job));
    return future;
}

QFuture<Result<bool>> SqliteEventStore::write(WriteFn fn)
{
    if (!m_writer || !m_writer->object())
        return QtFuture::makeReadyFuture(Result<bool>(notOpen()));
    WriteJob job;
    job.fn = std::move(fn);
    job.writePromise = std::make_shared<QPromise<Result<bool>>>();
    job.writePromise->start();
    QFuture<Result<bool>> future = job.writePromise->future();
    m_writer->object()->enqueue(std::move(job));
    return future;
}

QFuture<Result<QList<StoredEvent>>> SqliteEventStore::fetchSince(qint64 afterId, int limit)
{
    if (!readerConnection())
        return QtFuture::makeReadyFuture(Result<QList<StoredEvent>>(notOpen()));
    SqliteReader *reader = m_reader->object();
    return runOn<Result<QList<StoredEvent>>>(reader, [reader, afterId, limit] { return reader->fetchSince(afterId, limit); });
}

QFuture<Result<QList<StoredEvent>>> SqliteEventStore::fetchPage(const EventQuery &query)
{
    return read<QList<StoredEvent>>([query](SqliteConnection &conn) -> Result<QList<StoredEvent>> {
        const SplitQuery parts = split(query, indexedTo(conn));
        const int limit = qBound(1, query.limit, 100000);
        const QString order = query.newestFirst ? u" DESC"_s : u""_s;
        QList<StoredEvent> out;
        const auto readPart = [&](bool indexed) -> std::optional<Error> {
            QVariantList values;
            QString sql;
            if (indexed) {
                sql = indexedSql(parts.indexed, values, false) + u" ORDER BY r.id"_s + order;
            } else {
                auto [where, tailValues] = whereFor(parts.tail);
                values = tailValues;
                sql = QLatin1StringView(SelectColumns) + where + u" ORDER BY id"_s + order;
            }
            sql += u" LIMIT ?"_s;
            values.append(limit - out.size());
            QSqlQuery q(conn.database());
            q.setForwardOnly(true);
            if (!conn.prepareAndExec(q, sql, values))
                return conn.lastError(q, u"cannot read events"_s);
            while (q.next())
                out.append(rowFrom(q));
            q.finish();
            return std::nullopt;
        };
        // Newest first: the rows past the index are the newest.
        for (const bool indexed : query.newestFirst ? std::array{false, true} : std::array{true, false}) {
            if ((indexed && !parts.useIndex) || out.size() >= limit)
                continue;
            if (auto e = readPart(indexed))
                return *e;
        }
        return out;
    });
}

QFuture<Result<qint64>> SqliteEventStore::count(const EventQuery &query)
{
    return read<qint64>([query](SqliteConnection &conn) -> Result<qint64> {
        const SplitQuery parts = split(query, indexedTo(conn));
        qint64 n = 0;
        QSqlQuery q(conn.database());
        if (parts.useIndex) {
            QVariantList values;
            const QString sql = indexedSql(parts.indexed, values, true);
            if (!conn.prepareAndExec(q, sql, values))
                return conn.lastError(q, u"cannot count events"_s);
            n += q.next() ? q.value(0).toLongLong() : 0;
            q.finish();
        }
        const auto [where, values] = whereFor(parts.tail);
        if (!conn.prepareAndExec(q, u"SELECT count(*) FROM app_events"_s + where, values))
            return conn.lastError(q, u"cannot count events"_s);
        n += q.next() ? q.value(0).toLongLong() : 0;
        q.finish();
        return n;
    });
}

QFuture<Result<QStringList>> SqliteEventStore::distinctWorlds()
{
    return read<QStringList>([](SqliteConnection &conn) -> Result<QStringList> {
        // The worlds of the row index, and of the newest rows not indexed yet
        // (at most the newest 20,000: without an index the list fills in as
        // the index is built, instead of scanning the whole log).
        const qint64 upTo = indexedTo(conn);
        QSet<QString> worlds;
        QSqlQuery q(conn.database());
        q.setForwardOnly(true);
        if (upTo > 0) {
            if (!conn.prepareAndExec(q, u"SELECT value FROM desk.eventdesk_keys WHERE kind = 0 AND value <> ''"_s))
                return conn.lastError(q, u"cannot list worlds"_s);
            while (q.next())
                worlds.insert(q.value(0).toString());
        }
        if (!conn.prepareAndExec(q, u"SELECT DISTINCT w FROM (SELECT %1 AS w FROM app_events WHERE id > ? "
                                    "ORDER BY id DESC LIMIT 20000) WHERE w IS NOT NULL"_s.arg(QLatin1StringView(WorldSql)),
                                 {upTo}))
            return conn.lastError(q, u"cannot list worlds"_s);
        while (q.next())
            worlds.insert(q.value(0).toString());
        q.finish();
        QStringList out(worlds.begin(), worlds.end());
        out.removeAll(QString());
        out.sort();
        return out;
    });
}

QFuture<Result<qint64>> SqliteEventStore::headId()
{
    return read<qint64>([](SqliteConnection &conn) -> Result<qint64> {
        QSqlQuery q(conn.database());
        // The newest id ever handed out: after a prune of every row the log has
        // not gone back in time, and AUTOINCREMENT remembers where it was.
        if (!conn.prepareAndExec(q, u"SELECT max(coalesce((SELECT max(id) FROM app_events), 0), "
                                    "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'app_events'), 0))"_s))
            return conn.lastError(q, u"cannot read the last id"_s);
        const qint64 head = q.next() ? q.value(0).toLongLong() : 0;
        q.finish();
        return head;
    });
}

QFuture<Result<int>> SqliteEventStore::markProcessed(const QList<qint64> &ids, bool processed)
{
    return writeValue<int>([ids, processed](SqliteConnection &conn) -> Result<int> {
        QSqlQuery q(conn.database());
        if (!q.prepare(u"UPDATE app_events SET processed = ?, processed_at = ? WHERE id = ? AND processed != ?"_s))
            return conn.lastError(q, u"cannot mark events"_s);
        const QVariant at = processed ? QVariant(timestamp::now()) : QVariant(QMetaType(QMetaType::QString));
        int changed = 0;
        for (qint64 id : ids) {
            q.addBindValue(processed ? 1 : 0);
            q.addBindValue(at);
            q.addBindValue(id);
            q.addBindValue(processed ? 1 : 0);
            if (!q.exec())
                return conn.lastError(q, u"cannot mark events"_s);
            changed += q.numRowsAffected();
        }
        q.finish();
        return changed;
    }).then([desk = m_desk.get(), ids, processed](const Result<int> &r) {
        if (r && desk)
            desk->setIndexedProcessed(ids, processed);
        return r;
    });
}

QFuture<Result<qint64>> SqliteEventStore::loadCursor(const QString &name)
{
    if (!m_desk)
        return QtFuture::makeReadyFuture(Result<qint64>(qint64(0)));  // read-only, nothing kept: from the start
    return m_desk->loadCursor(name);
}

QFuture<Result<bool>> SqliteEventStore::saveCursor(const QString &name, qint64 lastId)
{
    if (!m_desk || m_desk->isReadOnly())
        return QtFuture::makeReadyFuture(Result<bool>(Error{ErrorCode::Usage, {}, u"%1 is open read-only: cursors are not kept"_s.arg(m_options.path)}));
    return m_desk->saveCursor(name, lastId);
}

QFuture<Result<BusStatistics>> SqliteEventStore::statistics()
{
    return read<BusStatistics>([](SqliteConnection &conn) -> Result<BusStatistics> {
        BusStatistics st;
        QSqlQuery q(conn.database());
        q.setForwardOnly(true);
        const auto fail = [&] { return conn.lastError(q, u"cannot compute statistics"_s); };
        // Instants, not text: "+00:00" and any precision compare as what they mean.
        if (!conn.prepareAndExec(q, u"SELECT count(*), max(id), min(eventdesk_instant(created_at)), "
                                    "max(eventdesk_instant(created_at)) FROM app_events"_s))
            return fail();
        if (q.next()) {
            st.total = q.value(0).toLongLong();
            st.headId = q.value(1).toLongLong();
            if (!q.value(2).isNull())
                st.firstAt = timestamp::fromNanos(q.value(2).toLongLong());
            if (!q.value(3).isNull())
                st.lastAt = timestamp::fromNanos(q.value(3).toLongLong());
        }
        const QDateTime now = QDateTime::currentDateTimeUtc();
        QVariantList values{timestamp::nanos(now.addSecs(-3600)), timestamp::nanos(now.addDays(-1))};
        const QString lastDay = createdAtLeastSql(timestamp::nanos(now.addDays(-1)), values);
        if (!conn.prepareAndExec(q, u"SELECT sum(eventdesk_instant(created_at) >= ?), sum(eventdesk_instant(created_at) >= ?) "
                                    "FROM app_events WHERE "_s + lastDay,
                                 values))
            return fail();
        if (q.next()) {
            st.lastHour = q.value(0).toLongLong();
            st.lastDay = q.value(1).toLongLong();
        }
        if (!conn.prepareAndExec(q, u"SELECT event_type, count(*) FROM app_events GROUP BY event_type ORDER BY 2 DESC"_s))
            return fail();
        while (q.next())
            st.perType.append({q.value(0).toString(), q.value(1).toLongLong()});
        if (!conn.prepareAndExec(q, u"SELECT coalesce(%1, ''), count(*) FROM app_events GROUP BY 1 ORDER BY 2 DESC"_s.arg(
                                        QLatin1StringView(WorldSql))))
            return fail();
        while (q.next())
            st.perWorld.append({q.value(0).toString(), q.value(1).toLongLong()});
        if (!conn.prepareAndExec(q, u"SELECT json_extract(payload,'$.world_id'), json_extract(payload,'$.character_id'), "
                                    "count(*), sum(json_extract(payload,'$.success') = 1) FROM app_events "
                                    "WHERE event_type = 'ChallengeResolved' AND json_valid(payload) GROUP BY 1, 2 ORDER BY 1, 2"_s))
            return fail();
        while (q.next())
            st.challenges.append({q.value(0).toString(), q.value(1).toString(), q.value(2).toLongLong(), q.value(3).toLongLong()});
        q.finish();
        return st;
    });
}

} // namespace eventdesk
