#include "SqliteConnection.h"

#include "BusLog.h"
#include "Timestamp.h"

#include <QAtomicInt>

#include <limits>
#include <QDir>
#include <QFileInfo>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QUrl>

#include <sqlite3.h>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

QAtomicInt connectionCounter;

Error storageError(const QString &message) { return Error{ErrorCode::Storage, {}, message}; }

// The engine's table, exactly (DESIGN §4).
constexpr char CreateAppEvents[] = R"(CREATE TABLE IF NOT EXISTS app_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  processed INTEGER NOT NULL DEFAULT 0,
  processed_at TEXT
))";

void instantFunction(sqlite3_context *context, int, sqlite3_value **argv)
{
    const auto *text = reinterpret_cast<const char *>(sqlite3_value_text(argv[0]));
    if (!text) {
        sqlite3_result_null(context);
        return;
    }
    const std::optional<qint64> ns = timestamp::parseNanos(QString::fromUtf8(text, sqlite3_value_bytes(argv[0])));
    if (ns)
        sqlite3_result_int64(context, *ns);
    else
        sqlite3_result_null(context);
}

// The first 19 characters, "yyyy-MM-ddTHH:mm:ss", of an instant moved by a margin.
QString textBound(qint64 nanos, qint64 marginSeconds)
{
    if (nanos == std::numeric_limits<qint64>::max())
        return u"9999-12-31T23:59:59"_s;
    if (nanos == std::numeric_limits<qint64>::min())
        return u"0000-01-01T00:00:00"_s;
    return timestamp::fromNanos(nanos).addSecs(marginSeconds).toString(u"yyyy-MM-ddTHH:mm:ss"_s);
}

constexpr qint64 TextMarginSeconds = 48 * 3600;

} // namespace

void registerSqlFunctions(sqlite3 *db)
{
    sqlite3_create_function_v2(db, "eventdesk_instant", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                               &instantFunction, nullptr, nullptr, nullptr);
}

QString createdAtLeastSql(qint64 nanos, QVariantList &values)
{
    values.append(textBound(nanos, -TextMarginSeconds));
    values.append(nanos);
    return u"(created_at >= ? AND eventdesk_instant(created_at) >= ?)"_s;
}

QString createdBeforeSql(qint64 nanos, QVariantList &values)
{
    values.append(textBound(nanos, TextMarginSeconds));
    values.append(nanos);
    return u"(created_at < ? AND eventdesk_instant(created_at) < ?)"_s;
}

SqliteConnection::SqliteConnection(QSqlDatabase db, sqlite3 *handle, SqliteOptions options)
    : m_db(std::move(db))
    , m_handle(handle)
    , m_options(std::move(options))
{
}

SqliteConnection::~SqliteConnection()
{
    m_statements.clear();
    const QString name = m_db.connectionName();
    m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(name);
}

bool isWritableDatabase(const QString &path)
{
    const QFileInfo info(path);
    const QFileInfo folder(info.absolutePath());
    return (!info.exists() || info.isWritable()) && folder.isWritable();
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::connect(const SqliteOptions &options, const QString &role,
                                                                    const QString &name, bool snapshot)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
    if (!db.isValid()) {
        QSqlDatabase::removeDatabase(name);
        return storageError(u"the Qt SQLite driver (QSQLITE) is not installed"_s);
    }
    QString connectOptions = u"QSQLITE_BUSY_TIMEOUT=%1"_s.arg(options.busyTimeoutMs);
    if (options.readOnly)
        connectOptions += u";QSQLITE_OPEN_READONLY"_s;
    if (snapshot) {
        // immutable=1: SQLite reads the file as it is, without the shared
        // memory index it cannot create in a folder it may not write.
        connectOptions += u";QSQLITE_OPEN_URI"_s;
        const QByteArray path = QUrl::toPercentEncoding(QFileInfo(options.path).absoluteFilePath(), "/");
        db.setDatabaseName(u"file:%1?immutable=1"_s.arg(QString::fromLatin1(path)));
    } else {
        db.setDatabaseName(options.path);
    }
    db.setConnectOptions(connectOptions);
    if (!db.open()) {
        const QString why = db.lastError().text();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(name);
        return storageError(u"cannot open %1: %2"_s.arg(options.path, why));
    }
    auto *handle = *static_cast<sqlite3 *const *>(db.driver()->handle().data());
    registerSqlFunctions(handle);
    std::unique_ptr<SqliteConnection> conn(new SqliteConnection(std::exchange(db, QSqlDatabase()), handle, options));
    conn->m_snapshot = snapshot;
    Q_UNUSED(role);
    return conn;
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::open(const SqliteOptions &options, const QString &role,
                                                                 bool prepare)
{
    if (options.path.isEmpty())
        return Error{ErrorCode::Usage, {}, u"no database path given"_s};
    const QString unchanged = u"; nothing was changed"_s;
    const QFileInfo info(options.path);
    const QDir dir = info.absoluteDir();
    if (!dir.exists()) {
        if (!options.createDirectory || options.readOnly || !prepare)
            return storageError(u"the folder %1 does not exist"_s.arg(QDir::toNativeSeparators(dir.path())));
        if (!QDir().mkpath(dir.path()))
            return storageError(u"cannot create the folder %1"_s.arg(QDir::toNativeSeparators(dir.path())));
    }
    const bool isNew = !info.exists();
    if (!isNew) {
        if (!info.isFile())
            return storageError(u"%1 is not a file"_s.arg(options.path));
        // Only stat() here: opening and closing our own descriptor on the file
        // would drop every POSIX lock SQLite holds on it in this process, and
        // another process would then take the WAL away from under us.
        if (info.size() == 0 && !(options.createInExisting && prepare && !options.readOnly))
            return storageError(u"%1 is an empty file, not a database%2 (--create makes it one)"_s.arg(options.path, unchanged));
        if (info.size() > 0 && info.size() < 512)
            return storageError(u"%1 is not an SQLite database (%2 bytes is too short to be one)%3"_s.arg(options.path)
                                    .arg(info.size()).arg(unchanged));
        if (!options.readOnly && !isWritableDatabase(options.path))
            return storageError(u"%1 is read-only here: its file or folder cannot be written (read commands and the "
                                "window can still open it)"_s.arg(options.path));
    } else if (options.readOnly || !options.create || !prepare) {
        return storageError(u"there is no database at %1"_s.arg(options.path));
    }

    const QString name = u"eventdesk-%1-%2"_s.arg(role).arg(connectionCounter.fetchAndAddRelaxed(1));
    auto opened = connect(options, role, name, false);
    if (!opened)
        return opened.error();
    std::unique_ptr<SqliteConnection> conn = std::move(opened).value();

    // The first statement touches the file: a corrupt one fails here, clearly.
    QString why;
    const auto probe = [&why](SqliteConnection &c) {
        const int code = sqlite3_exec(c.handle(), "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
        why = QString::fromUtf8(sqlite3_errmsg(c.handle()));
        return code;
    };
    int rc = probe(*conn);
    if (options.readOnly && (rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY || (rc & 0xff) == SQLITE_READONLY)) {
        // A WAL database in a folder we cannot write: read it as a snapshot.
        conn.reset();
        opened = connect(options, role, name + u"-snapshot"_s, true);
        if (!opened)
            return opened.error();
        conn = std::move(opened).value();
        rc = probe(*conn);
        if (rc == SQLITE_OK)
            qCInfo(lcStore).noquote() << options.path << "is in a folder this process cannot write: read as a snapshot";
    }
    if (rc == SQLITE_NOTADB)
        return storageError(u"%1 is not an SQLite database%2"_s.arg(options.path, unchanged));
    if (rc != SQLITE_OK)
        return storageError(u"%1 cannot be read: %2"_s.arg(options.path, why));
    // Look before touching anything: a foreign app_events is reported, not altered.
    bool hasTable = false;
    if (auto e = conn->checkEngineTable(&hasTable))
        return Error{e->code, e->field, e->message + unchanged};
    const bool mayCreate = prepare && !options.readOnly && (isNew || options.createInExisting);
    if (!hasTable && !mayCreate)
        return storageError(u"%1 has no app_events table: it is not an engine database%2%3"_s.arg(
            options.path, unchanged, options.readOnly ? QString() : u" (--create adds the table)"_s));

    sqlite3_stmt *appId = nullptr;
    if (sqlite3_prepare_v2(conn->handle(), "PRAGMA application_id", -1, &appId, nullptr) == SQLITE_OK
        && sqlite3_step(appId) == SQLITE_ROW)
        conn->m_owned = sqlite3_column_int(appId, 0) == EventDeskApplicationId;
    sqlite3_finalize(appId);

    if (!hasTable) {
        // A database EventDesk makes: the engine's table, WAL (readers and the
        // writer never wait on each other), and EventDesk's mark.
        if (isNew || info.size() == 0) {
            if (auto e = conn->switchToWal())
                return *e;
            conn->execRaw(QByteArray("PRAGMA application_id=" + QByteArray::number(EventDeskApplicationId)).constData());
            conn->m_owned = true;
        }
        if (auto e = conn->exec(QString::fromLatin1(CreateAppEvents)))
            return *e;
        qCInfo(lcStore).noquote() << "created the app_events table in" << options.path;
    }
    if (!conn->m_owned) {
        // The engine's file: closing our last connection must not checkpoint its
        // WAL into it (the engine does that when it likes).
        sqlite3_db_config(conn->handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    }
    if (!options.readOnly)
        conn->execRaw(options.synchronousFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    qCDebug(lcStore).noquote() << "opened" << options.path << "as" << name << (conn->m_owned ? "(EventDesk's)" : "(the engine's)");
    return conn;
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::openDesk(const QString &path, bool readOnly, const QString &role)
{
    SqliteOptions options;
    options.path = path;
    options.readOnly = readOnly;
    const QFileInfo info(path);
    if (!info.exists() && readOnly)
        return storageError(u"there is no database at %1"_s.arg(path));
    if (!info.absoluteDir().exists() && !QDir().mkpath(info.absolutePath()))
        return storageError(u"cannot create the folder %1"_s.arg(QDir::toNativeSeparators(info.absolutePath())));
    const QString name = u"eventdesk-%1-%2"_s.arg(role).arg(connectionCounter.fetchAndAddRelaxed(1));
    auto opened = connect(options, role, name, false);
    if (!opened)
        return opened.error();
    std::unique_ptr<SqliteConnection> conn = std::move(opened).value();
    QString why;
    if (const int rc = conn->execRaw("SELECT count(*) FROM sqlite_master", &why); rc != SQLITE_OK)
        return Error{ErrorCode::Storage, u"desk"_s,
                     u"EventDesk's own database %1 cannot be read: %2. The log itself is untouched: move that file aside "
                     "(or delete it) and EventDesk starts a fresh one; its notes, challenges and names are in it"_s.arg(path, why)};
    if (!readOnly) {
        if (auto e = conn->switchToWal())
            return *e;
        conn->execRaw("PRAGMA synchronous=NORMAL");
    }
    conn->m_owned = true;
    return conn;
}

std::optional<Error> SqliteConnection::checkEngineTable(bool *exists)
{
    QSqlQuery q(m_db);
    if (!prepareAndExec(q, u"PRAGMA table_info(app_events)"_s))
        return lastError(q, u"cannot read the app_events schema"_s);
    struct Column {
        QString type;
        bool notNull;
        bool hasDefault;
        bool pk;
    };
    QHash<QString, Column> columns;
    while (q.next())
        columns.insert(q.value(1).toString().toLower(),
                       {q.value(2).toString().toUpper(), q.value(3).toBool(), !q.value(4).isNull(), q.value(5).toInt() > 0});
    q.finish();

    *exists = !columns.isEmpty();
    if (columns.isEmpty())
        return std::nullopt;
    const QList<std::pair<QString, QString>> expected = {
        {u"id"_s, u"INTEGER"_s},      {u"event_type"_s, u"TEXT"_s}, {u"payload"_s, u"TEXT"_s},
        {u"created_at"_s, u"TEXT"_s}, {u"processed"_s, u"INTEGER"_s}, {u"processed_at"_s, u"TEXT"_s},
    };
    const QString shape = u"the app_events table in %1 has a different shape: "_s.arg(m_options.path);
    for (const auto &[column, type] : expected) {
        const auto it = columns.constFind(column);
        if (it == columns.constEnd())
            return storageError(shape + u"no column %1"_s.arg(column));
        if (!it->type.contains(type))
            return storageError(shape + u"column %1 is %2, expected %3"_s.arg(column, it->type, type));
    }
    if (!columns.value(u"id"_s).pk)
        return storageError(shape + u"id is not the primary key"_s);
    for (auto it = columns.constBegin(); it != columns.constEnd(); ++it) {
        const bool known = std::any_of(expected.begin(), expected.end(), [&](const auto &e) { return e.first == it.key(); });
        if (!known && it->notNull && !it->hasDefault)
            return storageError(shape + u"extra column %1 is NOT NULL without a default"_s.arg(it.key()));
    }
    return std::nullopt;
}

std::optional<Error> SqliteConnection::switchToWal()
{
    // Switching needs a moment alone with the file; another connection may be writing.
    QString why;
    int rc = SQLITE_BUSY;
    for (int attempt = 0; attempt < 40; ++attempt) {
        rc = execRaw("PRAGMA journal_mode=WAL", &why);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            break;
        QThread::msleep(25);
    }
    if (rc != SQLITE_OK)
        return storageError(u"cannot switch %1 to WAL mode: %2"_s.arg(m_options.path, why));
    return std::nullopt;
}

bool SqliteConnection::prepareAndExec(QSqlQuery &query, const QString &sql, const QVariantList &values)
{
    if (!query.prepare(sql))
        return false;
    for (const QVariant &v : values)
        query.addBindValue(v);
    return query.exec();
}

Error SqliteConnection::lastError(const QSqlQuery &query, const QString &what) const
{
    qCWarning(lcStore).noquote() << what << "| query:" << query.lastQuery() << "| values:" << query.boundValues()
                                 << "| error:" << query.lastError().text();
    const QString text = query.lastError().text();
    const bool busy = text.contains("locked"_L1) || text.contains("busy"_L1);
    return Error{busy ? ErrorCode::Busy : ErrorCode::Storage, {}, what + u": "_s + text};
}

std::optional<Error> SqliteConnection::exec(const QString &sql, const QVariantList &values)
{
    // Statements run often (projections, cursors) stay prepared.
    auto it = m_statements.find(sql);
    if (it == m_statements.end()) {
        QSqlQuery q(m_db);
        if (!q.prepare(sql))
            return lastError(q, u"database statement failed"_s);
        if (m_statements.size() > 64)
            m_statements.clear();
        it = m_statements.insert(sql, q);
    }
    QSqlQuery &q = it.value();
    for (int i = 0; i < values.size(); ++i)
        q.bindValue(i, values.at(i));
    if (!q.exec()) {
        const Error e = lastError(q, u"database statement failed"_s);
        q.finish();
        return e;
    }
    q.finish();
    return std::nullopt;
}

int SqliteConnection::execRaw(const char *sql, QString *errorMessage)
{
    char *err = nullptr;
    const int rc = sqlite3_exec(m_handle, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        const QString text = err ? QString::fromUtf8(err) : QString::fromUtf8(sqlite3_errstr(rc));
        if (rc != SQLITE_BUSY)
            qCWarning(lcStore).noquote() << "statement failed:" << sql << "|" << text;
        if (errorMessage)
            *errorMessage = text;
    }
    sqlite3_free(err);
    return rc;
}

Error SqliteConnection::errorFromCode(int rc, const QString &what) const
{
    const int primary = rc & 0xff;
    const ErrorCode code = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? ErrorCode::Busy : ErrorCode::Storage;
    return Error{code, {}, u"%1: %2"_s.arg(what, QString::fromUtf8(sqlite3_errmsg(m_handle)))};
}

} // namespace eventdesk
