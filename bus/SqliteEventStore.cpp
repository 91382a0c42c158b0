#include "SqliteEventStore.h"

#include "EventCodec.h"
#include "Logging.h"
#include "StoredPayload.h"
#include "Timestamp.h"

#include <QFile>
#include <QElapsedTimer>
#include <QMutex>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimer>
#include <QUuid>

#include <sqlite3.h>

#include <sys/stat.h>

#include <atomic>
#include <deque>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

constexpr int MaxRowsPerTransaction = 1000;
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
    if (!query.text.isEmpty()) {
        QString escaped = query.text;
        escaped.replace(u'\\', u"\\\\"_s).replace(u'%', u"\\%"_s).replace(u'_', u"\\_"_s);
        conds.append(u"payload LIKE ? ESCAPE '\\'"_s);
        values.append(QString(u'%' + escaped + u'%'));
    }
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

// --- writer -------------------------------------------------------------------

struct WriteJob {
    // An append: rows of (event_type, payload).
    QList<std::pair<QString, QByteArray>> rows;
    std::shared_ptr<QPromise<BatchPublishResult>> appendPromise;
    // Any other write: fn in its own transaction.
    SqliteEventStore::WriteFn fn;
    std::shared_ptr<QPromise<Result<bool>>> writePromise;
    QElapsedTimer queued;

    bool isAppend() const { return appendPromise != nullptr; }
};

class SqliteWriter final : public QObject
{
public:
    SqliteWriter(std::atomic<qint64> *knownHead, SqliteEventStore *store)
        : m_knownHead(knownHead)
        , m_store(store)
    {
        m_retry.setSingleShot(true);
        connect(&m_retry, &QTimer::timeout, this, &SqliteWriter::drain);
    }
    ~SqliteWriter() override
    {
        failAll(notOpen());
        if (m_insert)
            sqlite3_finalize(m_insert);
    }

    Result<bool> open(const SqliteOptions &options)
    {
        auto conn = SqliteConnection::open(options, u"writer"_s, true);
        if (!conn)
            return conn.error();
        m_conn = std::move(conn).value();
        const char sql[] = "INSERT INTO app_events(event_type, payload, created_at, processed) VALUES(?1, ?2, ?3, 0)";
        if (sqlite3_prepare_v3(m_conn->handle(), sql, -1, SQLITE_PREPARE_PERSISTENT, &m_insert, nullptr) != SQLITE_OK)
            return m_conn->errorFromCode(sqlite3_errcode(m_conn->handle()), u"cannot prepare the insert"_s);
        m_budgetMs = options.busyBudgetMs;
        // Checkpoints off the write path: SQLite's automatic one runs inside
        // COMMIT (copying and syncing up to a thousand pages), which a publish
        // would wait for. The hook asks the checkpoint thread to do it instead.
        sqlite3_wal_hook(m_conn->handle(), &SqliteWriter::walHook, this);
        sqlite3_stmt *head = nullptr;
        if (sqlite3_prepare_v2(m_conn->handle(), "SELECT max(id) FROM app_events", -1, &head, nullptr) == SQLITE_OK
            && sqlite3_step(head) == SQLITE_ROW)
            m_knownHead->store(sqlite3_column_int64(head, 0));
        sqlite3_finalize(head);
        return true;
    }

    // Any thread.
    void enqueue(WriteJob job)
    {
        job.queued.start();
        QMutexLocker lock(&m_mutex);
        m_queue.push_back(std::move(job));
        if (!m_scheduled) {
            m_scheduled = true;
            QMetaObject::invokeMethod(this, &SqliteWriter::drain, Qt::QueuedConnection);
        }
    }

private:
    void drain()
    {
        if (m_retry.isActive())
            return;
        for (int round = 0; round < 64; ++round) {
            // Peek the next transaction's worth: consecutive appends, or one write.
            qsizetype take = 0;
            int rows = 0;
            bool append = false;
            qint64 oldestMs = 0;
            {
                QMutexLocker lock(&m_mutex);
                if (m_queue.empty()) {
                    m_scheduled = false;
                    lock.unlock();
                    setWaiting(false);  // what waited has failed or gone through
                    return;
                }
                append = m_queue.front().isAppend();
                oldestMs = m_queue.front().queued.elapsed();
                for (const WriteJob &job : m_queue) {
                    if (job.isAppend() != append || (take > 0 && (!append || rows + job.rows.size() > MaxRowsPerTransaction)))
                        break;
                    rows += int(job.rows.size());
                    ++take;
                }
            }
            if (!m_conn) {
                failFront(take, notOpen());
                continue;
            }
            QString why;
            const int rc = m_conn->execRaw("BEGIN IMMEDIATE", &why);
            if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
                if (oldestMs >= m_budgetMs) {
                    failFront(take, Error{ErrorCode::Busy, {},
                                          u"the database stayed locked by another process for %1 ms; nothing was written"_s
                                              .arg(oldestMs)});
                    m_backoffMs = 0;
                    continue;
                }
                m_backoffMs = qBound(10, m_backoffMs * 2, 400);
                qCDebug(lcStore) << "database locked; retrying in" << m_backoffMs << "ms";
                setWaiting(true);
                m_retry.start(m_backoffMs);
                return;
            }
            m_backoffMs = 0;
            setWaiting(false);
            if (rc != SQLITE_OK) {
                failFront(take, m_conn->errorFromCode(rc, u"cannot start a write transaction"_s));
                continue;
            }
            if (append)
                commitAppends(take);
            else
                commitWrite();
        }
        QMetaObject::invokeMethod(this, &SqliteWriter::drain, Qt::QueuedConnection);  // let other events in
    }

    void commitAppends(qsizetype take)
    {
        std::vector<WriteJob> jobs = popFront(take);
        std::vector<QList<qint64>> ids(jobs.size());
        const QByteArray createdAt = timestamp::now().toUtf8();
        std::optional<Error> err;
        for (size_t j = 0; j < jobs.size() && !err; ++j) {
            for (const auto &[type, payload] : jobs[j].rows) {
                const QByteArray typeUtf8 = type.toUtf8();
                sqlite3_bind_text(m_insert, 1, typeUtf8.constData(), int(typeUtf8.size()), SQLITE_STATIC);
                sqlite3_bind_text(m_insert, 2, payload.constData(), int(payload.size()), SQLITE_STATIC);
                sqlite3_bind_text(m_insert, 3, createdAt.constData(), int(createdAt.size()), SQLITE_STATIC);
                const int rc = sqlite3_step(m_insert);
                sqlite3_reset(m_insert);
                if (rc != SQLITE_DONE) {
                    err = m_conn->errorFromCode(rc, u"cannot store the event"_s);
                    break;
                }
                ids[j].append(sqlite3_last_insert_rowid(m_conn->handle()));
            }
        }
        sqlite3_clear_bindings(m_insert);
        if (!err) {
            QString why;
            if (const int rc = m_conn->execRaw("COMMIT", &why); rc != SQLITE_OK)
                err = m_conn->errorFromCode(rc, u"cannot commit the events"_s);
        }
        if (err) {
            m_conn->execRaw("ROLLBACK");
            for (WriteJob &job : jobs) {
                job.appendPromise->addResult(BatchPublishResult(*err));
                job.appendPromise->finish();
            }
            return;
        }
        // Durable: now tell the callers, and only now.
        if (!ids.empty() && !ids.back().isEmpty())
            m_knownHead->store(ids.back().last());
        for (size_t j = 0; j < jobs.size(); ++j) {
            jobs[j].appendPromise->addResult(BatchPublishResult(std::move(ids[j])));
            jobs[j].appendPromise->finish();
        }
    }

    void commitWrite()
    {
        std::vector<WriteJob> jobs = popFront(1);
        WriteJob &job = jobs.front();
        std::optional<Error> err = job.fn(*m_conn);
        if (!err) {
            QString why;
            if (const int rc = m_conn->execRaw("COMMIT", &why); rc != SQLITE_OK)
                err = m_conn->errorFromCode(rc, u"cannot commit"_s);
        }
        if (err)
            m_conn->execRaw("ROLLBACK");
        job.writePromise->addResult(err ? Result<bool>(*err) : Result<bool>(true));
        job.writePromise->finish();
    }

    std::vector<WriteJob> popFront(qsizetype n)
    {
        std::vector<WriteJob> out;
        QMutexLocker lock(&m_mutex);
        for (qsizetype i = 0; i < n && !m_queue.empty(); ++i) {
            out.push_back(std::move(m_queue.front()));
            m_queue.pop_front();
        }
        return out;
    }

    void failFront(qsizetype n, const Error &error)
    {
        for (WriteJob &job : popFront(n))
            fail(job, error);
    }

    void failAll(const Error &error)
    {
        QMutexLocker lock(&m_mutex);
        for (WriteJob &job : m_queue)
            fail(job, error);
        m_queue.clear();
    }

    static void fail(WriteJob &job, const Error &error)
    {
        qCWarning(lcStore).noquote() << "write failed:" << error.message;
        if (job.appendPromise) {
            job.appendPromise->addResult(BatchPublishResult(error));
            job.appendPromise->finish();
        } else {
            job.writePromise->addResult(Result<bool>(error));
            job.writePromise->finish();
        }
    }

    std::unique_ptr<SqliteConnection> m_conn;
    sqlite3_stmt *m_insert = nullptr;
    std::atomic<qint64> *m_knownHead;
    SqliteEventStore *m_store;
    bool m_waiting = false;
    int m_checkpointAskedAt = 0;  // WAL pages when a checkpoint was last asked for

    static int walHook(void *self, sqlite3 *, const char *, int pages)
    {
        auto *w = static_cast<SqliteWriter *>(self);
        constexpr int CheckpointPages = 1000;  // SQLite's own default
        if (pages < w->m_checkpointAskedAt)
            w->m_checkpointAskedAt = 0;  // the WAL started over
        if (pages >= w->m_checkpointAskedAt + CheckpointPages) {
            w->m_checkpointAskedAt = pages;
            w->m_store->requestCheckpoint();
        }
        return SQLITE_OK;
    }

    void setWaiting(bool waiting)
    {
        if (waiting == m_waiting)
            return;
        m_waiting = waiting;
        Q_EMIT m_store->writesWaiting(waiting);
    }
    QMutex m_mutex;
    std::deque<WriteJob> m_queue;
    bool m_scheduled = false;
    QTimer m_retry;
    int m_backoffMs = 0;
    int m_budgetMs = 5000;
};

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

    Result<bool> open(const SqliteOptions &options)
    {
        SqliteOptions readerOptions = options;
        readerOptions.createIfMissing = false;  // the writer made it
        auto conn = SqliteConnection::open(readerOptions, u"reader"_s, false);
        if (!conn)
            return conn.error();
        m_conn = std::move(conn).value();
        sqlite3 *db = m_conn->handle();
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
    : QObject(parent)
    , m_options(std::move(options))
{
}

// WAL checkpoints on a thread and connection of their own: inside COMMIT
// (SQLite's default) a publish would wait for them, and on the reader they
// would hold up subscriber reads. PASSIVE: copies what no reader still needs,
// never waits for a lock.
class SqliteCheckpointer final : public QObject
{
public:
    explicit SqliteCheckpointer(QString path) : m_path(std::move(path)) {}
    ~SqliteCheckpointer() override
    {
        if (m_db)
            sqlite3_close_v2(m_db);
    }

    void checkpoint()
    {
        if (!m_db && sqlite3_open_v2(QFile::encodeName(m_path).constData(), &m_db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
            qCWarning(lcStore) << "cannot open a connection for checkpoints:" << (m_db ? sqlite3_errmsg(m_db) : "out of memory");
            sqlite3_close_v2(m_db);
            m_db = nullptr;
            return;
        }
        int log = 0, done = 0;
        const int rc = sqlite3_wal_checkpoint_v2(m_db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            qCWarning(lcStore) << "checkpoint failed:" << sqlite3_errmsg(m_db);
        else
            qCDebug(lcStore) << "checkpoint:" << done << "of" << log << "WAL pages";
    }

private:
    QString m_path;
    sqlite3 *m_db = nullptr;
};

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
    if (!m_options.readOnly) {
        m_checkpointer = std::make_unique<WorkerThread<SqliteCheckpointer>>(u"eventdesk-sql-checkpoint"_s);
        m_checkpointer->create(m_options.path);
    }
    SqliteWriter *writer = m_writer->create(&m_knownHead, this);
    SqliteReader *reader = m_reader->create(this, &m_knownHead);
    const SqliteOptions options = m_options;
    // The writer creates and migrates; only then may the reader open.
    return runOn<Result<bool>>(writer, [writer, options] { return writer->open(options); })
        .then([reader, options](const Result<bool> &written) {
            if (!written)
                return written;
            return runOn<Result<bool>>(reader, [reader, options] { return reader->open(options); }).result();
        });
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
        auto [where, values] = whereFor(query);
        values.append(qBound(1, query.limit, 100000));
        const QString sql = QLatin1StringView(SelectColumns) + where + (query.newestFirst ? u" ORDER BY id DESC"_s : u" ORDER BY id"_s)
            + u" LIMIT ?"_s;
        QSqlQuery q(conn.database());
        q.setForwardOnly(true);
        if (!conn.prepareAndExec(q, sql, values))
            return conn.lastError(q, u"cannot read events"_s);
        QList<StoredEvent> out;
        while (q.next())
            out.append(rowFrom(q));
        q.finish();
        return out;
    });
}

QFuture<Result<qint64>> SqliteEventStore::count(const EventQuery &query)
{
    return read<qint64>([query](SqliteConnection &conn) -> Result<qint64> {
        const auto [where, values] = whereFor(query);
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT count(*) FROM app_events"_s + where, values))
            return conn.lastError(q, u"cannot count events"_s);
        const qint64 n = q.next() ? q.value(0).toLongLong() : 0;
        q.finish();
        return n;
    });
}

QFuture<Result<QStringList>> SqliteEventStore::distinctWorlds()
{
    return read<QStringList>([](SqliteConnection &conn) -> Result<QStringList> {
        // Skip from one world to the next through the index: one seek per world.
        const QString world = QLatin1StringView(WorldSql);
        QSqlQuery q(conn.database());
        if (!q.prepare(u"SELECT min(%1) FROM app_events WHERE %1 > ?"_s.arg(world)))
            return conn.lastError(q, u"cannot list worlds"_s);
        QStringList out;
        QString last = u""_s;
        while (out.size() < 100000) {
            q.addBindValue(last);
            if (!q.exec())
                return conn.lastError(q, u"cannot list worlds"_s);
            if (!q.next() || q.value(0).isNull())
                break;
            last = q.value(0).toString();
            out.append(last);
        }
        q.finish();
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
    });
}

QFuture<Result<qint64>> SqliteEventStore::loadCursor(const QString &name)
{
    // Through the writer's queue, so that a cursor saved just before (by a
    // subscriber that stopped) is what the next one reads.
    return writeValue<qint64>([name](SqliteConnection &conn) -> Result<qint64> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT last_id FROM eventdesk_cursors WHERE name = ?"_s, {name}))
            return conn.lastError(q, u"cannot read the cursor of %1"_s.arg(name));
        const qint64 id = q.next() ? q.value(0).toLongLong() : 0;
        q.finish();
        return id;
    });
}

QFuture<Result<bool>> SqliteEventStore::saveCursor(const QString &name, qint64 lastId)
{
    return write([name, lastId](SqliteConnection &conn) {
        // Cursors only move forward, whatever order saves arrive in.
        return conn.exec(u"INSERT INTO eventdesk_cursors(name, last_id, updated_at) VALUES(?, ?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET last_id = max(last_id, excluded.last_id), "
                         "updated_at = excluded.updated_at"_s,
                         {name, lastId, timestamp::now()});
    });
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

QFuture<Result<qint64>> SqliteEventStore::audit(const QString &actor, const QString &action, const QString &detail)
{
    return writeValue<qint64>([=](SqliteConnection &conn) -> Result<qint64> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"INSERT INTO eventdesk_audit(at, actor, action, detail) VALUES(?, ?, ?, ?)"_s,
                                 {timestamp::now(), actor, action, detail}))
            return conn.lastError(q, u"cannot write the audit log"_s);
        const qint64 id = q.lastInsertId().toLongLong();
        q.finish();
        return id;
    });
}

QFuture<Result<QList<AuditEntry>>> SqliteEventStore::auditLog(int limit, qint64 beforeId)
{
    return read<QList<AuditEntry>>([limit, beforeId](SqliteConnection &conn) -> Result<QList<AuditEntry>> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT id, at, actor, action, detail FROM eventdesk_audit WHERE id < ? "
                                    "ORDER BY id DESC LIMIT ?"_s,
                                 {beforeId > 0 ? beforeId : std::numeric_limits<qint64>::max(), qBound(1, limit, 100000)}))
            return conn.lastError(q, u"cannot read the audit log"_s);
        QList<AuditEntry> out;
        while (q.next())
            out.append({q.value(0).toLongLong(), timestamp::parse(q.value(1).toString()), q.value(2).toString(),
                        q.value(3).toString(), q.value(4).toString()});
        q.finish();
        return out;
    });
}

QFuture<Result<Challenge>> SqliteEventStore::addChallenge(const QString &worldId, const QString &name, int difficulty)
{
    if (worldId.trimmed().isEmpty() || name.trimmed().isEmpty())
        return QtFuture::makeReadyFuture(Result<Challenge>(Error{ErrorCode::Usage, {}, u"a challenge needs a world and a name"_s}));
    if (difficulty < 1 || difficulty > 40)
        return QtFuture::makeReadyFuture(Result<Challenge>(Error{ErrorCode::Usage, u"difficulty"_s, u"difficulty must be 1..40"_s}));
    const Challenge c{QUuid::createUuid().toString(QUuid::WithoutBraces), worldId.trimmed(), name.trimmed(), difficulty};
    return write([c](SqliteConnection &conn) -> std::optional<Error> {
               QSqlQuery q(conn.database());
               if (!conn.prepareAndExec(q, u"INSERT INTO eventdesk_challenges(id, world_id, name, difficulty, created_at) "
                                           "VALUES(?, ?, ?, ?, ?)"_s,
                                        {c.id, c.worldId, c.name, c.difficulty, timestamp::now()})) {
                   if (q.lastError().text().contains("UNIQUE"_L1))
                       return Error{ErrorCode::Usage, u"name"_s,
                                    u"world %1 already has a challenge named \"%2\""_s.arg(c.worldId, c.name)};
                   return conn.lastError(q, u"cannot add the challenge"_s);
               }
               q.finish();
               return std::nullopt;
           })
        .then([c](const Result<bool> &r) -> Result<Challenge> {
            if (!r)
                return r.error();
            return c;
        });
}

QFuture<Result<bool>> SqliteEventStore::updateChallenge(const Challenge &c)
{
    if (c.difficulty < 1 || c.difficulty > 40 || c.name.trimmed().isEmpty())
        return QtFuture::makeReadyFuture(Result<bool>(Error{ErrorCode::Usage, {}, u"a challenge needs a name and a difficulty 1..40"_s}));
    return write([c](SqliteConnection &conn) -> std::optional<Error> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"UPDATE eventdesk_challenges SET name = ?, difficulty = ? WHERE id = ?"_s,
                                 {c.name.trimmed(), c.difficulty, c.id}))
            return conn.lastError(q, u"cannot change the challenge"_s);
        const bool found = q.numRowsAffected() > 0;
        q.finish();
        if (!found)
            return Error{ErrorCode::NotFound, {}, u"no challenge %1"_s.arg(c.id)};
        return std::nullopt;
    });
}

QFuture<Result<bool>> SqliteEventStore::removeChallenge(const QString &id)
{
    return write([id](SqliteConnection &conn) {
        return conn.exec(u"DELETE FROM eventdesk_challenges WHERE id = ?"_s, {id});
    });
}

QFuture<Result<QList<Challenge>>> SqliteEventStore::challenges(const QString &worldId)
{
    return read<QList<Challenge>>([worldId](SqliteConnection &conn) -> Result<QList<Challenge>> {
        QSqlQuery q(conn.database());
        const bool all = worldId.isEmpty();
        if (!conn.prepareAndExec(q, u"SELECT id, world_id, name, difficulty FROM eventdesk_challenges "_s
                                        + (all ? QString() : u"WHERE world_id = ? "_s) + u"ORDER BY world_id, name"_s,
                                 all ? QVariantList{} : QVariantList{worldId}))
            return conn.lastError(q, u"cannot list challenges"_s);
        QList<Challenge> out;
        while (q.next())
            out.append({q.value(0).toString(), q.value(1).toString(), q.value(2).toString(), q.value(3).toInt()});
        q.finish();
        return out;
    });
}

QFuture<Result<bool>> SqliteEventStore::setDisplayName(const QString &kind, const QString &id, const QString &name)
{
    return write([kind, id, name = name.trimmed()](SqliteConnection &conn) -> std::optional<Error> {
        if (name.isEmpty())
            return conn.exec(u"DELETE FROM eventdesk_names WHERE id = ?"_s, {id});
        return conn.exec(u"INSERT INTO eventdesk_names(id, kind, name, updated_at) VALUES(?, ?, ?, ?) "
                         "ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, name = excluded.name, "
                         "updated_at = excluded.updated_at"_s,
                         {id, kind, name.left(200), timestamp::now()});
    });
}

QFuture<Result<QHash<QString, QString>>> SqliteEventStore::displayNames()
{
    return read<QHash<QString, QString>>([](SqliteConnection &conn) -> Result<QHash<QString, QString>> {
        QSqlQuery q(conn.database());
        q.setForwardOnly(true);
        if (!conn.prepareAndExec(q, u"SELECT id, name FROM eventdesk_names"_s))
            return conn.lastError(q, u"cannot read display names"_s);
        QHash<QString, QString> out;
        while (q.next())
            out.insert(q.value(0).toString(), q.value(1).toString());
        q.finish();
        return out;
    });
}

QFuture<Result<std::optional<Challenge>>> SqliteEventStore::challenge(const QString &id)
{
    return read<std::optional<Challenge>>([id](SqliteConnection &conn) -> Result<std::optional<Challenge>> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT id, world_id, name, difficulty FROM eventdesk_challenges WHERE id = ?"_s, {id}))
            return conn.lastError(q, u"cannot read the challenge"_s);
        std::optional<Challenge> c;
        if (q.next())
            c = Challenge{q.value(0).toString(), q.value(1).toString(), q.value(2).toString(), q.value(3).toInt()};
        q.finish();
        return c;
    });
}

} // namespace eventdesk
