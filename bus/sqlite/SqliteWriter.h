// The log's writer and checkpointer, each on a worker thread of the store
// (SqliteEventStore.h). Private to bus/sqlite.
#pragma once

#include "SqliteEventStore.h"

#include <QElapsedTimer>
#include <QMutex>
#include <QPromise>
#include <QTimer>

#include <deque>
#include <optional>
#include <vector>

#include <functional>

struct sqlite3;
struct sqlite3_stmt;

namespace eventdesk {

struct WriteJob {
    // An append: rows of (event_type, payload), answered with all its ids …
    SqliteEventStore::WriteRows rows;
    std::shared_ptr<QPromise<BatchPublishResult>> appendPromise;
    // … or, for one event's publish, with its id, after the notifier heard of it.
    std::optional<PendingPublish> published;
    // Called with the append's ids inside its transaction, before COMMIT: what
    // must be in place before any reader can see the rows (a recorded
    // message's world). An error rolls the transaction back.
    std::function<std::optional<Error>(const QList<qint64> &)> beforeCommit;
    // Any other write: fn in its own transaction.
    SqliteEventStore::WriteFn fn;
    std::shared_ptr<QPromise<Result<bool>>> writePromise;
    QElapsedTimer queued;

    bool isAppend() const { return appendPromise != nullptr || published.has_value(); }
    void settleAppend(BatchPublishResult ids);
};

// Appends with group commit: consecutive queued appends share one
// BEGIN IMMEDIATE … COMMIT (at most 1,000 rows), each durable before its
// future resolves; a locked database is retried with backoff, never waited on.
// An append from a thread of the caller's own (not the main thread), with
// nothing queued, is committed on that thread under the connection's lock.
class SqliteWriter final : public QObject
{
public:
    SqliteWriter(std::atomic<qint64> *knownHead, SqliteEventStore *store);
    ~SqliteWriter() override;

    Result<bool> open(const SqliteOptions &options);
    // EventDesk made the file: it may checkpoint it (the engine's own file is left to the engine).
    bool ownsFile() const { return m_conn && m_conn->ownedByEventDesk(); }
    void enqueue(WriteJob job);  // any thread
    // Any thread: the connection's PRAGMA data_version (moved only by other
    // connections' commits), or nothing when the connection is busy.
    std::optional<qint64> othersVersion();

private:
    void drain();
    static bool callerMayWait();
    bool commitInline(WriteJob &job);
    std::optional<Error> writeAppends(const std::vector<WriteJob> &jobs, std::vector<QList<qint64>> &ids);
    void settleAppends(std::vector<WriteJob> &jobs, std::vector<QList<qint64>> &ids, const std::optional<Error> &err);
    void commitWrite();
    std::vector<WriteJob> popFront(qsizetype n);
    void failFront(qsizetype n, const Error &error);
    void failAll(const Error &error);
    static void fail(WriteJob &job, const Error &error);
    static int walHook(void *self, sqlite3 *, const char *, int pages);
    void setWaiting(bool waiting);

    std::unique_ptr<SqliteConnection> m_conn;
    sqlite3_stmt *m_insert = nullptr;
    sqlite3_stmt *m_dataVersion = nullptr;
    qint64 dataVersionLocked();  // m_connLock held
    std::atomic<qint64> *m_knownHead;
    SqliteEventStore *m_store;
    bool m_waiting = false;
    QMutex m_mutex;    // the queue
    QMutex m_connLock;  // the connection: the writer's thread, or an inline commit
    std::deque<WriteJob> m_queue;
    bool m_scheduled = false;
    QTimer m_retry;
    int m_backoffMs = 0;
    int m_budgetMs = 5000;
};

// WAL checkpoints on a thread and connection of their own: inside COMMIT
// (SQLite's default) a publish would wait for them, and on the reader they
// would hold up subscriber reads. PASSIVE: copies what no reader still needs,
// never waits for a lock. Only for a database EventDesk made.
class SqliteCheckpointer final : public QObject
{
public:
    explicit SqliteCheckpointer(QString path) : m_path(std::move(path))
    {
        m_again.setSingleShot(true);
        connect(&m_again, &QTimer::timeout, this, &SqliteCheckpointer::checkpoint);
    }
    ~SqliteCheckpointer() override;
    void checkpoint();

private:
    QString m_path;
    sqlite3 *m_db = nullptr;
    QTimer m_again;  // a checkpoint that could not copy everything tries again
    int m_againMs = 10;
};

} // namespace eventdesk
