// One QSQLITE connection, opened and used in a single thread: the checks that
// make a bad file a clear error (missing folder, not SQLite, read-only, a foreign
// app_events shape), the pragmas (WAL, synchronous, short busy timeout), the
// engine's app_events schema and EventDesk's versioned migrations.
#pragma once

#include "Result.h"

#include <QHash>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <QVariantList>

#include <memory>

struct sqlite3;

namespace eventdesk {

struct SqliteOptions {
    QString path;
    bool readOnly = false;          // inspect without writing anything (no WAL switch, no migrations)
    bool createIfMissing = true;    // create the file (never a missing folder unless createDirectory)
    bool createDirectory = false;   // make the folder too (the default database under the data folder)
    bool synchronousFull = false;   // synchronous=FULL instead of NORMAL
    int busyTimeoutMs = 50;         // SQLite's own wait per attempt; kept short, we retry with backoff
    int busyBudgetMs = 5000;        // how long a write keeps retrying a locked database before failing
    int dataVersionPollMs = 250;    // how often to look for other processes' commits
};

// The world of a row, as SQL: the engine's internally tagged payload has it at
// $.world_id. Indexed; json_valid() keeps a malformed payload from failing the
// engine's own INSERT through the index.
inline constexpr char WorldSql[] =
    "(CASE WHEN json_valid(payload) THEN json_extract(payload,'$.world_id') END)";

// created_at compared as an instant (DESIGN §3: the engine's "+00:00" and any
// precision, never as text). eventdesk_instant(text) is an SQL function on
// every connection: nanoseconds since the epoch, or NULL. The conditions first
// narrow by text with a two-day margin (any offset fits in it; an index on
// created_at can serve it), then decide on the instant.
QString createdAtLeastSql(qint64 nanos, QVariantList &values);
QString createdBeforeSql(qint64 nanos, QVariantList &values);
void registerSqlFunctions(sqlite3 *db);

class SqliteConnection
{
public:
    // role names the connection ("writer", "reader", …) for logs and Qt's registry.
    // migrate: create app_events if absent and bring eventdesk_ tables up to date.
    static Result<std::unique_ptr<SqliteConnection>> open(const SqliteOptions &options, const QString &role,
                                                          bool migrate);
    ~SqliteConnection();
    SqliteConnection(const SqliteConnection &) = delete;
    SqliteConnection &operator=(const SqliteConnection &) = delete;

    QSqlDatabase &database() { return m_db; }
    sqlite3 *handle() const { return m_handle; }
    const SqliteOptions &options() const { return m_options; }

    // Runs one prepared statement with bound values; logs the query, the values
    // and the error on failure. The query is finished before returning unless
    // the caller passes its own (to read rows), which it must finish().
    std::optional<Error> exec(const QString &sql, const QVariantList &values = {});
    bool prepareAndExec(QSqlQuery &query, const QString &sql, const QVariantList &values = {});
    Error lastError(const QSqlQuery &query, const QString &what) const;

    // Raw statements on the native handle, for transactions and pragmas.
    // Returns the SQLite result code; SQLITE_BUSY means "try again later".
    int execRaw(const char *sql, QString *errorMessage = nullptr);
    Error errorFromCode(int rc, const QString &what) const;

    static const int SchemaVersion;

private:
    SqliteConnection(QSqlDatabase db, sqlite3 *handle, SqliteOptions options);
    std::optional<Error> checkEngineTable(bool *exists);
    std::optional<Error> migrate();

    QSqlDatabase m_db;
    QHash<QString, QSqlQuery> m_statements;
    sqlite3 *m_handle = nullptr;
    SqliteOptions m_options;
};

} // namespace eventdesk
