#include "SqliteWriter.h"

#include "Logging.h"
#include "Timestamp.h"

#include <QFile>

#include <sqlite3.h>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

constexpr int MaxRowsPerTransaction = 1000;

Error notOpen() { return Error{ErrorCode::Unavailable, {}, u"the event store is not open"_s}; }

} // namespace

SqliteWriter::SqliteWriter(std::atomic<qint64> *knownHead, SqliteEventStore *store)
    : m_knownHead(knownHead)
    , m_store(store)
{
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &SqliteWriter::drain);
}

SqliteWriter::~SqliteWriter()
{
    failAll(notOpen());
    if (m_insert)
        sqlite3_finalize(m_insert);
}

Result<bool> SqliteWriter::open(const SqliteOptions &options)
{
    auto conn = SqliteConnection::open(options, u"writer"_s, true);
    if (!conn)
        return conn.error();
    m_conn = std::move(conn).value();
    if (options.readOnly)
        return true;
    const char sql[] = "INSERT INTO app_events(event_type, payload, created_at, processed) VALUES(?1, ?2, ?3, 0)";
    if (sqlite3_prepare_v3(m_conn->handle(), sql, -1, SQLITE_PREPARE_PERSISTENT, &m_insert, nullptr) != SQLITE_OK)
        return m_conn->errorFromCode(sqlite3_errcode(m_conn->handle()), u"cannot prepare the insert"_s);
    m_budgetMs = options.busyBudgetMs;
    // Checkpoints off the write path, in a database EventDesk made: SQLite's
    // automatic one runs inside COMMIT (copying and syncing up to a thousand
    // pages), which a publish would wait for. The hook asks the checkpoint
    // thread to do it instead. The engine's own file keeps SQLite's default,
    // as the engine's own writes would.
    if (m_conn->ownedByEventDesk())
        sqlite3_wal_hook(m_conn->handle(), &SqliteWriter::walHook, this);
    sqlite3_stmt *head = nullptr;
    if (sqlite3_prepare_v2(m_conn->handle(), "SELECT max(id) FROM app_events", -1, &head, nullptr) == SQLITE_OK
        && sqlite3_step(head) == SQLITE_ROW)
        m_knownHead->store(sqlite3_column_int64(head, 0));
    sqlite3_finalize(head);
    return true;
}

void SqliteWriter::enqueue(WriteJob job)
{
    job.queued.start();
    QMutexLocker lock(&m_mutex);
    m_queue.push_back(std::move(job));
    if (!m_scheduled) {
        m_scheduled = true;
        QMetaObject::invokeMethod(this, &SqliteWriter::drain, Qt::QueuedConnection);
    }
}

void SqliteWriter::drain()
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
        if (m_conn->options().readOnly) {
            failFront(take, Error{ErrorCode::Usage, {}, u"%1 is open read-only"_s.arg(m_conn->options().path)});
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

void SqliteWriter::commitAppends(qsizetype take)
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
    if (DeskDatabase *desk = m_store->desk())
        desk->wakeIndex();
}

void SqliteWriter::commitWrite()
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
    if (!err) {
        if (DeskDatabase *desk = m_store->desk())
            desk->wakeIndex();
    }
}

std::vector<WriteJob> SqliteWriter::popFront(qsizetype n)
{
    std::vector<WriteJob> out;
    QMutexLocker lock(&m_mutex);
    for (qsizetype i = 0; i < n && !m_queue.empty(); ++i) {
        out.push_back(std::move(m_queue.front()));
        m_queue.pop_front();
    }
    return out;
}

void SqliteWriter::failFront(qsizetype n, const Error &error)
{
    for (WriteJob &job : popFront(n))
        fail(job, error);
}

void SqliteWriter::failAll(const Error &error)
{
    QMutexLocker lock(&m_mutex);
    for (WriteJob &job : m_queue)
        fail(job, error);
    m_queue.clear();
}

void SqliteWriter::fail(WriteJob &job, const Error &error)
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

int SqliteWriter::walHook(void *self, sqlite3 *, const char *, int pages)
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

void SqliteWriter::setWaiting(bool waiting)
{
    if (waiting == m_waiting)
        return;
    m_waiting = waiting;
    Q_EMIT m_store->writesWaiting(waiting);
}

SqliteCheckpointer::~SqliteCheckpointer()
{
    if (m_db)
        sqlite3_close_v2(m_db);
}

void SqliteCheckpointer::checkpoint()
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

} // namespace eventdesk
