// EventDesk's own database (DESIGN §4): everything of EventDesk's that is not
// an event — the row index the filters read, projections, subscriber cursors,
// challenges, audit log, display names, archive bookkeeping — in a file of its
// own beside the engine's, so that the engine's file stays the engine's.
//
// One connection on a worker thread of its own serves reads and writes in
// order; the row index is filled on that thread too, a chunk at a time, so
// other work interleaves with a long first build.
#pragma once

#include "DeskPorts.h"
#include "SqliteConnection.h"

#include <QObject>

#include <atomic>
#include <functional>
#include <memory>

namespace eventdesk {

class DeskWorker;
template <typename T> class WorkerThread;

class DeskDatabase final : public QObject, public DeskBook
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeskDatabase)
public:
    // Where EventDesk keeps its own database for the log at enginePath: beside
    // it ("<file>.eventdesk") when that folder can be written or the file is
    // already there, else under the user's data folder, named after the path.
    // A damaged or newer desk database moved out of the way (kept, renamed
    // FILE.damaged-DATE with its journal files), so a fresh one can be made.
    static Result<QString> moveAside(const QString &deskPath);
    static QString pathFor(const QString &enginePath);
    // For reading only: the existing one of those two places, or "" (none yet).
    static QString existingPathFor(const QString &enginePath);

    // engine: the log's file, read by the index builder and, once, for the
    // tables an older EventDesk kept inside it.
    DeskDatabase(QString path, SqliteOptions engine, bool readOnly, QObject *parent = nullptr);
    ~DeskDatabase() override;

    // Creates or upgrades the schema; moves an older release's tables out of
    // the engine's file (copied; the engine's file is not changed).
    QFuture<Result<bool>> open();
    QString path() const { return m_path; }

    // DeskBook
    QFuture<Result<qint64>> audit(const QString &actor, const QString &action, const QString &detail) override;
    QFuture<Result<QList<AuditEntry>>> auditLog(int limit, qint64 beforeId = 0) override;
    QFuture<Result<Challenge>> addChallenge(const QString &worldId, const QString &name, int difficulty) override;
    QFuture<Result<bool>> updateChallenge(const Challenge &challenge) override;
    QFuture<Result<bool>> removeChallenge(const QString &id) override;
    QFuture<Result<QList<Challenge>>> challenges(const QString &worldId = {}) override;
    QFuture<Result<std::optional<Challenge>>> challenge(const QString &id) override;
    QFuture<Result<bool>> setDisplayName(const QString &kind, const QString &id, const QString &name) override;
    QFuture<Result<QHash<QString, QString>>> displayNames() override;
    QFuture<Result<QString>> setting(const QString &key) override;
    QFuture<Result<bool>> setSetting(const QString &key, const QString &value) override;
    bool isReadOnly() const override { return m_readOnly; }
    // Why the desk is read-only though it was opened to be written (a file
    // from a newer EventDesk, never rewritten); empty otherwise. Known once open() resolved.
    QString readOnlyReason() const override { return m_readOnlyReason; }

    QFuture<Result<qint64>> loadCursor(const QString &name);
    QFuture<Result<bool>> saveCursor(const QString &name, qint64 lastId);

    // Runs fn(connection) on the desk's thread inside BEGIN IMMEDIATE … COMMIT
    // (retried while another EventDesk holds the lock); an Error rolls back.
    using WriteFn = std::function<std::optional<Error>(SqliteConnection &)>;
    QFuture<Result<bool>> write(WriteFn fn);
    template <typename T>
    QFuture<Result<T>> writeValue(std::function<Result<T>(SqliteConnection &)> fn);
    template <typename T>
    QFuture<Result<T>> read(std::function<Result<T>(SqliteConnection &)> fn);

    // The row index. start: fill it from the log in the background (resuming
    // where a previous run stopped) and follow new rows after each wake().
    void startIndexing();
    // Stops filling the index for now (the DM cancelled the first build); the
    // filters keep working, more slowly, and the next start resumes it.
    void pauseIndexing();
    // At most this many rows a second while catching up (0: no limit).
    void setIndexRate(int rowsPerSecond);
    void wakeIndex();  // any thread: rows may have been added
    void setIndexedProcessed(const QList<qint64> &ids, bool processed);
    void forgetIndexed(const QList<qint64> &ids);
    // The worlds recorded messages came from (id → world), and the row index's
    // rows for them; resolves once both are committed.
    QFuture<Result<bool>> recordWorlds(const QList<std::pair<qint64, QString>> &worlds);
    // Waits until every row of the log up to now is indexed (for `index` and tests).
    QFuture<Result<qint64>> indexNow();
    qint64 indexedTo() const { return m_indexedTo.load(); }
    qint64 indexHead() const { return m_indexHead.load(); }

    static const int SchemaVersion;

Q_SIGNALS:
    // Rows indexed up to indexedTo, of head; emitted after each chunk and when complete.
    void indexProgress(qint64 indexedTo, qint64 head);

private:
    friend class DeskWorker;
    DeskWorker *worker() const;

    QString m_path;
    SqliteOptions m_engine;
    std::atomic<bool> m_readOnly;
    QString m_readOnlyReason;  // written by the worker before open() resolves
    std::atomic<qint64> m_indexedTo{0};
    std::atomic<qint64> m_indexHead{0};
    std::atomic<bool> m_following{false};    // the worker indexes new rows as they come
    std::atomic<bool> m_wakePending{false};  // a wake is queued and not yet seen
    std::unique_ptr<WorkerThread<DeskWorker>> m_thread;
};

} // namespace eventdesk

#include "WorkerThread.h"

namespace eventdesk {

// The worker as a QObject to run on, and its connection (only used on its thread).
QObject *deskContext(DeskWorker *worker);
SqliteConnection *deskConnection(DeskWorker *worker);

template <typename T>
QFuture<Result<T>> DeskDatabase::writeValue(std::function<Result<T>(SqliteConnection &)> fn)
{
    return valueOfWrite<T>([this](auto write) { return this->write(std::move(write)); }, std::move(fn));
}

template <typename T>
QFuture<Result<T>> DeskDatabase::read(std::function<Result<T>(SqliteConnection &)> fn)
{
    DeskWorker *w = worker();
    if (!w)
        return QtFuture::makeReadyFuture(Result<T>(Error{ErrorCode::Unavailable, {}, QStringLiteral("EventDesk's own database is not open")}));
    return runOn<Result<T>>(deskContext(w), [w, fn = std::move(fn)]() -> Result<T> {
        SqliteConnection *conn = deskConnection(w);
        if (!conn)
            return Error{ErrorCode::Unavailable, {}, QStringLiteral("EventDesk's own database is not open")};
        return fn(*conn);
    });
}

} // namespace eventdesk
