// The log's reader: a connection on a worker thread of the store for pages,
// counts and subscriber batches; the one that follows the file also looks at
// PRAGMA data_version for other processes' commits (woken by the file's
// changes, and by a poll) and notices a replaced file. Private to bus/sqlite.
#pragma once

#include "SqliteEventStore.h"

#include <QTimer>

#include <sys/stat.h>

struct sqlite3_stmt;

namespace eventdesk {

class FileWatch;

class SqliteReader final : public QObject
{
public:
    SqliteReader(SqliteEventStore *store, std::atomic<qint64> *knownHead);
    ~SqliteReader() override;

    Result<bool> open(const SqliteOptions &options, const QString &deskPath);

    SqliteConnection *connection() const { return m_conn.get(); }

    Result<QList<StoredEvent>> fetchSince(qint64 afterId, int limit);

private:
    qint64 dataVersion();
    void startOwnWrites();
    void watchFiles();
    // PRAGMA data_version changes when another connection (any process)
    // commits; only then is max(id) read, and only rows past what this store
    // wrote itself are announced.
    void pollDataVersion();

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
    FileWatch *m_watch = nullptr;
    QTimer m_settle;
    int m_settleStep = 0;
    QTimer m_ownWrites;      // polls while this process writes the file itself
    qint64 m_headSeen = 0;   // the writer's last id at the previous look
    int m_quietTicks = 0;
};

} // namespace eventdesk
