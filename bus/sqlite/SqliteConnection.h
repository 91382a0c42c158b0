// One QSQLITE connection, opened and used in a single thread: the checks that
// make a bad file a clear error and leave it as it was (missing folder, not
// SQLite, empty, read-only, no or a foreign app_events), the per-connection
// pragmas (synchronous, short busy timeout), and the engine's app_events schema
// for a database EventDesk creates.
#pragma once

#include "Result.h"

#include <QHash>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <QFuture>
#include <QVariantList>

#include <functional>

#include <memory>

struct sqlite3;

namespace eventdesk {

struct SqliteOptions {
    QString path;
    bool readOnly = false;          // inspect without writing anything, to the file or beside it
    bool create = true;             // a missing file becomes a new database (never when read-only)
    bool createInExisting = false;  // --create: an empty file, or an SQLite file without app_events, gets the table
    bool createDirectory = false;   // make the folder too (the default database under the data folder)
    bool synchronousFull = false;   // synchronous=FULL instead of NORMAL
    int busyTimeoutMs = 50;         // SQLite's own wait per attempt; kept short, we retry with backoff
    int busyBudgetMs = 5000;        // how long a write keeps retrying a locked database before failing
    int dataVersionPollMs = 250;    // how often to look for other processes' commits
    bool deskWritable = true;       // EventDesk's own database may be made and written (false: read one if it exists)
};

// PRAGMA application_id of the files EventDesk creates ("EVDS"): only those are
// switched to WAL and checkpointed by EventDesk. Any other file is the engine's.
inline constexpr int EventDeskApplicationId = 0x45564453;

// Whether a file (and its folder, for the journal) can be written by this process.
bool isWritableDatabase(const QString &path);

// The world of a row, as SQL: the engine's internally tagged payload has it at
// $.world_id; json_valid() keeps a malformed payload from failing the query.
// Only ever computed by EventDesk's reads: the engine's file has no index on it.
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
    // prepare: this connection may create the file and its app_events table,
    // where the options allow it. A file EventDesk did not create is never
    // altered: no DDL, no journal-mode change, no checkpoint when closing.
    static Result<std::unique_ptr<SqliteConnection>> open(const SqliteOptions &options, const QString &role,
                                                          bool prepare);
    // EventDesk's own database (DESIGN §4): created when missing, WAL, its own schema.
    static Result<std::unique_ptr<SqliteConnection>> openDesk(const QString &path, bool readOnly, const QString &role);
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
    // WAL for a database EventDesk makes (its own, or a new log), retried while busy.
    std::optional<Error> switchToWal();

    // EventDesk made this file (its application_id), so it may tune it.
    bool ownedByEventDesk() const { return m_owned; }
    // Opened as an immutable snapshot: a WAL database in a folder this process
    // cannot write, where SQLite cannot share its index of the WAL.
    bool isSnapshot() const { return m_snapshot; }

private:
    SqliteConnection(QSqlDatabase db, sqlite3 *handle, SqliteOptions options);
    static Result<std::unique_ptr<SqliteConnection>> connect(const SqliteOptions &options, const QString &role,
                                                             const QString &name, bool snapshot);
    std::optional<Error> checkEngineTable(bool *exists);

    QSqlDatabase m_db;
    QHash<QString, QSqlQuery> m_statements;
    sqlite3 *m_handle = nullptr;
    SqliteOptions m_options;
    bool m_owned = false;
    bool m_snapshot = false;
};

// A write that produces a value (an id, a count) over a store's write(fn),
// which runs fn in a transaction and resolves with Result<bool>.
template <typename T, typename Write>
QFuture<Result<T>> valueOfWrite(Write write, std::function<Result<T>(SqliteConnection &)> fn)
{
    auto value = std::make_shared<Result<T>>();
    return write([fn = std::move(fn), value](SqliteConnection &conn) -> std::optional<Error> {
               *value = fn(conn);
               return value->ok() ? std::nullopt : std::optional<Error>(value->error());
           })
        .then([value](const Result<bool> &written) -> Result<T> {
            if (!written)
                return written.error();
            return *value;
        });
}

} // namespace eventdesk
