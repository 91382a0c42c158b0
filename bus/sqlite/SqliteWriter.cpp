#include "SqliteWriter.h"

#include "RecentRows.h"

#include "BusLog.h"
#include "Timestamp.h"

#include <QCoreApplication>
#include <QFile>
#include <QScopeGuard>
#include <QThread>

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
    if (m_dataVersion)
        sqlite3_finalize(m_dataVersion);
}

qint64 SqliteWriter::dataVersionLocked()
{
    qint64 v = -1;
    if (m_dataVersion && sqlite3_step(m_dataVersion) == SQLITE_ROW)
        v = sqlite3_column_int64(m_dataVersion, 0);
    sqlite3_reset(m_dataVersion);
    return v;
}

std::optional<qint64> SqliteWriter::othersVersion()
{
    if (!m_dataVersion || !m_connLock.tryLock())
        return std::nullopt;
    const qint64 v = dataVersionLocked();
    m_connLock.unlock();
    return v >= 0 ? std::optional<qint64>(v) : std::nullopt;
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
    if (sqlite3_prepare_v3(m_conn->handle(), "PRAGMA main.data_version", -1, SQLITE_PREPARE_PERSISTENT, &m_dataVersion, nullptr)
        != SQLITE_OK)
        m_dataVersion = nullptr;  // then the live tail is never used
    m_budgetMs = options.busyBudgetMs;
    // Checkpoints off the write path, in a database EventDesk made: SQLite's
    // automatic one runs inside COMMIT (copying and syncing up to a thousand
    // pages), which a publish would wait for. The hook asks the checkpoint
    // thread to do it instead. The engine's own file keeps SQLite's default,
    // as the engine's own writes would.
    if (m_conn->ownedByEventDesk()) {
        sqlite3_wal_hook(m_conn->handle(), &SqliteWriter::walHook, this);
        // A burst can outrun the checkpoints and grow the WAL; once one has
        // copied it all, the WAL starts over and is cut back to this size.
        m_conn->execRaw("PRAGMA journal_size_limit=16777216");
    }
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
    // Nothing queued and the connection free: an append from a thread that
    // may wait is committed right here, as the raw API would, without two
    // thread hops. The main thread (the window's, the session's) only queues,
    // and queued appends share commits.
    if (job.isAppend() && m_queue.empty() && !m_scheduled && m_insert && !m_conn->options().readOnly && callerMayWait()
        && m_connLock.tryLock()) {
        lock.unlock();
        if (commitInline(job))
            return;
        lock.relock();  // locked by another process: queued, retried with backoff
    }
    m_queue.push_back(std::move(job));
    if (!m_scheduled) {
        m_scheduled = true;
        QMetaObject::invokeMethod(this, &SqliteWriter::drain, Qt::QueuedConnection);
    }
}

// A thread of the caller's own: not the application's main thread, whose
// event loop serves the window or the session and must never wait on a disk.
bool SqliteWriter::callerMayWait()
{
    const QCoreApplication *app = QCoreApplication::instance();
    return app && QThread::currentThread() != app->thread();
}

bool SqliteWriter::commitInline(WriteJob &job)
{
    std::vector<WriteJob> jobs;
    jobs.push_back(std::move(job));
    std::vector<QList<qint64>> ids;
    std::optional<Error> err;
    {
        const auto unlock = qScopeGuard([this] { m_connLock.unlock(); });  // locked by enqueue()
        const int rc = m_conn->execRaw("BEGIN IMMEDIATE");
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            job = std::move(jobs.front());
            return false;
        }
        err = rc == SQLITE_OK ? writeAppends(jobs, ids) : m_conn->errorFromCode(rc, u"cannot start a write transaction"_s);
    }
    settleAppends(jobs, ids, err);
    return true;
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
        QMutexLocker conn(&m_connLock);  // an inline commit may be under way
        const int rc = m_conn->execRaw("BEGIN IMMEDIATE");
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
        if (append) {
            std::vector<WriteJob> jobs = popFront(take);
            std::vector<QList<qint64>> ids;
            const std::optional<Error> err = writeAppends(jobs, ids);
            conn.unlock();
            settleAppends(jobs, ids, err);
        } else {
            commitWrite();
        }
    }
    QMetaObject::invokeMethod(this, &SqliteWriter::drain, Qt::QueuedConnection);  // let other events in
}

// Inside BEGIN IMMEDIATE (the connection locked): the rows, then COMMIT, or ROLLBACK on an error.
std::optional<Error> SqliteWriter::writeAppends(const std::vector<WriteJob> &jobs, std::vector<QList<qint64>> &ids)
{
    ids.assign(jobs.size(), {});
    const QByteArray createdAt = timestamp::nowUtf8();
    std::optional<Error> err;
    for (size_t j = 0; j < jobs.size() && !err; ++j) {
        ids[j].reserve(jobs[j].rows.size());
        for (const auto &[type, payload, at] : jobs[j].rows) {
            const QByteArray &when = at.isEmpty() ? createdAt : at;
            sqlite3_bind_text(m_insert, 1, type.constData(), int(type.size()), SQLITE_STATIC);
            sqlite3_bind_text(m_insert, 2, payload.constData(), int(payload.size()), SQLITE_STATIC);
            sqlite3_bind_text(m_insert, 3, when.constData(), int(when.size()), SQLITE_STATIC);
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
    for (size_t j = 0; j < jobs.size() && !err; ++j)
        if (jobs[j].beforeCommit)
            err = jobs[j].beforeCommit(ids[j]);
    if (!err) {
        if (const int rc = m_conn->execRaw("COMMIT"); rc != SQLITE_OK)
            err = m_conn->errorFromCode(rc, u"cannot commit the events"_s);
    }
    if (err) {
        m_conn->execRaw("ROLLBACK");
        return err;
    }
    if (!ids.empty() && !ids.back().isEmpty())
        m_knownHead->store(ids.back().last());
    const bool recorded = std::any_of(jobs.begin(), jobs.end(), [](const WriteJob &j) { return bool(j.beforeCommit); });
    if (recorded) {
        m_store->m_recent->clear();  // recorded rows: the reader gives them their world
    } else if (RecentRows &recent = *m_store->m_recent; recent.wanted()) {
        std::vector<RecentRows::Row> committed;
        for (size_t j = 0; j < jobs.size(); ++j)
            for (qsizetype i = 0; i < jobs[j].rows.size(); ++i)
                committed.push_back(RecentRows::Row{ids[j][i], jobs[j].rows[i].type, jobs[j].rows[i].payload,
                                                    jobs[j].rows[i].createdAt.isEmpty() ? createdAt : jobs[j].rows[i].createdAt});
        recent.add(committed, dataVersionLocked());
    }
    return err;
}

// After the connection is free: the callers hear, and only now (durable).
void WriteJob::settleAppend(BatchPublishResult ids)
{
    if (published) {
        published->settle(ids ? PublishResult(ids->first()) : PublishResult(ids.error()));
        return;
    }
    appendPromise->addResult(std::move(ids));
    appendPromise->finish();
}

void SqliteWriter::settleAppends(std::vector<WriteJob> &jobs, std::vector<QList<qint64>> &ids, const std::optional<Error> &err)
{
    for (size_t j = 0; j < jobs.size(); ++j)
        jobs[j].settleAppend(err ? BatchPublishResult(*err) : BatchPublishResult(std::move(ids[j])));
    if (!err) {
        if (DeskDatabase *desk = m_store->desk())
            desk->wakeIndex();
    }
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
    // Rows marked, pruned or imported: the tail the writer remembers is read again.
    m_store->m_recent->clear();
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
    if (job.isAppend()) {
        job.settleAppend(error);
    } else {
        job.writePromise->addResult(Result<bool>(error));
        job.writePromise->finish();
    }
}

// After each commit, as SQLite's own automatic checkpoint does: while the WAL
// holds 1,000 pages or more, a checkpoint is asked for (the checkpointer runs
// one at a time and folds the asks that come meanwhile), so a burst's tail is
// copied too and the next commit can start the WAL over.
int SqliteWriter::walHook(void *self, sqlite3 *, const char *, int pages)
{
    constexpr int CheckpointPages = 1000;  // SQLite's own default
    if (pages >= CheckpointPages)
        static_cast<SqliteWriter *>(self)->m_store->requestCheckpoint();
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
    if (!m_db) {
        // A connection that has read nothing has not opened the WAL yet, and a
        // checkpoint through it does nothing (-1 of -1 frames): one read first.
        if (sqlite3_open_v2(QFile::encodeName(m_path).constData(), &m_db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK
            || sqlite3_exec(m_db, "PRAGMA schema_version", nullptr, nullptr, nullptr) != SQLITE_OK) {
            qCWarning(lcStore) << "cannot open a connection for checkpoints:" << (m_db ? sqlite3_errmsg(m_db) : "out of memory");
            sqlite3_close_v2(m_db);
            m_db = nullptr;
            return;
        }
    }
    int log = 0, done = 0;
    const int rc = sqlite3_wal_checkpoint_v2(m_db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        qCWarning(lcStore) << "checkpoint failed:" << sqlite3_errmsg(m_db);
    else
        qCDebug(lcStore) << "checkpoint:" << done << "of" << log << "WAL pages";
    // Commits or a reader kept part of it back: again, backing off to once a
    // second, until the WAL is copied whole and the next commit can start it
    // over (otherwise a burst's tail would wait for the next thousand pages).
    if (rc == SQLITE_BUSY || done < log) {
        m_againMs = qBound(20, m_againMs * 2, 1000);
        if (!m_again.isActive())
            m_again.start(m_againMs);
    } else {
        m_againMs = 10;
        m_again.stop();
    }
}

} // namespace eventdesk
