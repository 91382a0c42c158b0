// The desk's thread: its connection, the transactions run on it, and the row
// index builder (RowIndex.cpp). Private to bus/sqlite.
#pragma once

#include "DeskDatabase.h"

#include <QHash>
#include <QPromise>
#include <QTimer>

#include <memory>
#include <vector>

struct sqlite3_stmt;

namespace eventdesk {

class DeskWorker final : public QObject
{
public:
    explicit DeskWorker(DeskDatabase *desk);
    ~DeskWorker() override;

    Result<bool> open();
    SqliteConnection *connection() const { return m_conn.get(); }
    // fn inside BEGIN IMMEDIATE … COMMIT, waiting out another EventDesk's lock.
    std::optional<Error> transaction(const DeskDatabase::WriteFn &fn);

    // Row index (RowIndex.cpp).
    void loadIndexState();
    void startIndexing();
    void stopIndexing();  // until startIndexing(); the index resumes from where it stopped
    void setMaxRate(int rowsPerSecond) { m_maxRate = rowsPerSecond; }
    void wake();
    void addWaiter(std::shared_ptr<QPromise<Result<qint64>>> promise);
    std::optional<Error> setProcessed(const QList<qint64> &ids, bool processed);
    std::optional<Error> forget(const QList<qint64> &ids);
    std::optional<Error> recordWorlds(const QList<std::pair<qint64, QString>> &worlds);

private:
    std::optional<Error> createSchema();
    // The numbered steps from `from` to the newest, each in its own
    // transaction, after a copy of the file; should one fail, the file is
    // put back as it was from that copy.
    std::optional<Error> migrate(int from);
    std::optional<Error> moveOldTables();
    // Index: one chunk of rows past the indexed id; false when caught up.
    Result<bool> indexChunk();
    std::optional<Error> openEngineReader();
    std::optional<Error> resetIfReplaced(qint64 head);
    Result<qint64> keyFor(int kind, const QString &value);
    void step();
    void settleWaiters(const Result<qint64> &result);

    DeskDatabase *m_desk;
    std::unique_ptr<SqliteConnection> m_conn;
    std::unique_ptr<SqliteConnection> m_engine;  // read-only, for the index
    sqlite3_stmt *m_chunk = nullptr;
    QHash<QString, qint64> m_keys[2];  // world, type → key
    bool m_indexing = false;
    int m_maxRate = 0;  // rows a second while catching up; 0: as fast as it goes
    bool m_scheduled = false;
    QTimer m_retry;
    std::vector<std::shared_ptr<QPromise<Result<qint64>>>> m_waiters;
};

} // namespace eventdesk
