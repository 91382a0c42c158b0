// The engine's file stays the engine's (DESIGN §4): every read command, serve,
// index and the window leave an engine database byte-identical (same sha256,
// schema and journal mode); files that are not engine databases are refused
// and left as they were; reads never create a file and work from a read-only
// folder; the row index gives the answers a scan gives, resumes after a kill,
// and starts over for a replaced file; an older release's tables move out.
#include "Banners.h"
#include "BusNotifier.h"
#include "EventCodec.h"
#include "EventLogModel.h"
#include "MainWindow.h"
#include "QuickActions.h"
#include "Retention.h"
#include "SampleEvents.h"
#include "SessionServer.h"
#include "SqliteEventStore.h"
#include "TestSupport.h"
#include "Timestamp.h"

#include <QComboBox>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMenuBar>
#include <QProcess>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QSqlQuery>
#include <QTableView>
#include <QStandardPaths>
#include <QTest>
#include <QTimeZone>

#include <sqlite3.h>
#include <unistd.h>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using namespace eventdesk::test;

namespace {

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// prefix: run the binary through another program (setpriv, to read as nobody).
Run run(const QStringList &args, const QByteArray &input = {}, const QStringList &prefix = {},
        const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
{
    QProcess p;
    p.setProcessEnvironment(env);
    if (prefix.isEmpty())
        p.start(QStringLiteral(EVENTDESK_BINARY), args);
    else
        p.start(prefix.first(), prefix.mid(1) + QStringList{QStringLiteral(EVENTDESK_BINARY)} + args);
    if (!input.isNull()) {
        p.write(input);
        p.closeWriteChannel();
    } else {
        p.closeWriteChannel();
    }
    if (!p.waitForFinished(120000))
        return {};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, p.readAllStandardOutput(), p.readAllStandardError()};
}

bool oneClearLine(const QByteArray &err) { return err.startsWith("eventdesk: ") && err.count('\n') == 1; }

QString worldUuid(int i) { return u"00000000-0000-4000-8000-%1"_s.arg(i, 12, 10, QLatin1Char('0')); }

// The engine's side: its table exactly, its own journal mode, its own rows.
class Engine
{
public:
    explicit Engine(const QString &path, const char *journal = "delete") : m_path(path)
    {
        sqlite3_open(QFile::encodeName(path).constData(), &m_db);
        exec(QByteArray("PRAGMA journal_mode=") + journal);
        exec("CREATE TABLE IF NOT EXISTS app_events (id INTEGER PRIMARY KEY AUTOINCREMENT, event_type TEXT NOT NULL, "
             "payload TEXT NOT NULL, created_at TEXT NOT NULL, processed INTEGER NOT NULL DEFAULT 0, processed_at TEXT)");
    }
    ~Engine() { sqlite3_close(m_db); }

    void exec(const QByteArray &sql) { sqlite3_exec(m_db, sql.constData(), nullptr, nullptr, nullptr); }

    // count rows: worlds cycle over `worlds` (every 7th row has none, every
    // 11th a payload that is not JSON), types over every variant, times one a
    // second from base with a sub-second part.
    void add(int count, int worlds = 5, qint64 baseSecond = 1764000000)
    {
        exec("BEGIN");
        sqlite3_stmt *insert = nullptr;
        sqlite3_prepare_v2(m_db, "INSERT INTO app_events(event_type, payload, created_at) VALUES(?1, ?2, ?3)", -1, &insert, nullptr);
        const QList<EventKind> kinds = allKinds();
        for (int i = 0; i < count; ++i, ++m_added) {
            const int n = m_added;
            const EventKind kind = kinds.at(n % kinds.size());
            QByteArray type = catalog::name(kind).toUtf8();
            QByteArray payload = codec::encode(sampleEvent(kind, n % 2 == 0, n % 7 == 0 ? QString() : worldUuid(n % worlds)));
            if (n % 11 == 0)
                payload = "not json at all";
            if (n % 13 == 0)
                type = "SomethingNew";  // a variant this EventDesk does not know
            const QByteArray at = QDateTime::fromSecsSinceEpoch(baseSecond + n, Qt::UTC)
                                      .toString(u"yyyy-MM-ddTHH:mm:ss"_s).toUtf8()
                + (n % 3 == 0 ? ".250+00:00" : n % 3 == 1 ? ".5Z" : ".123456Z");
            sqlite3_bind_text(insert, 1, type.constData(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(insert, 2, payload.constData(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(insert, 3, at.constData(), -1, SQLITE_TRANSIENT);
            sqlite3_step(insert);
            sqlite3_reset(insert);
        }
        sqlite3_finalize(insert);
        exec("COMMIT");
    }

private:
    QString m_path;
    sqlite3 *m_db = nullptr;
    int m_added = 0;
};

struct Fingerprint {
    QByteArray sha256;
    QString schema;
    QString journal;
    bool operator==(const Fingerprint &) const = default;
};

Fingerprint fingerprint(const QString &path)
{
    Fingerprint f;
    QFile file(path);
    if (file.open(QIODevice::ReadOnly))
        f.sha256 = QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256).toHex();
    file.close();
    // Read-only, and never a checkpoint on close: looking must not change it.
    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
        sqlite3_stmt *q = nullptr;
        sqlite3_prepare_v2(db, "SELECT group_concat(type || ' ' || name || ' ' || coalesce(sql, ''), char(10)) "
                               "FROM (SELECT * FROM sqlite_master ORDER BY name)", -1, &q, nullptr);
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
            f.schema = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(q, 0)));
        sqlite3_finalize(q);
        sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, nullptr);
        if (sqlite3_step(q) == SQLITE_ROW)
            f.journal = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(q, 0)));
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return f;
}

QByteArray fileBytes(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

qint64 scalar(const QString &path, const char *sql)
{
    sqlite3 *db = nullptr;
    qint64 v = -1;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt *q = nullptr;
        if (sqlite3_prepare_v2(db, sql, -1, &q, nullptr) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
            v = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return v;
}

QList<qint64> ids(const Result<QList<StoredEvent>> &rows)
{
    QList<qint64> out;
    if (rows)
        for (const StoredEvent &e : rows.value())
            out.append(e.id);
    return out;
}

} // namespace

class TestEngineFile : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString path(const QString &name) { return m_dir.filePath(name); }
    QList<EventQuery> sampleQueries() const;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
        QVERIFY(m_dir.isValid());
    }
    void readCommandsLeaveTheFileAlone_data();
    void readCommandsLeaveTheFileAlone();
    void serveLeavesTheFileAlone();
    void windowLeavesTheFileAlone();
    void publishOnlyInsertsAndMarkOnlyUpdates();
    void refusesWhatIsNotAnEngineDatabase_data();
    void refusesWhatIsNotAnEngineDatabase();
    void createMakesADatabaseWhenAsked();
    void readsNeverCreateAFile();
    void readsFromAReadOnlyFolder();
    void windowOnAReadOnlyLog();
    void filtersAreRememberedPerDatabase();
    void anEmptyLogSaysWhatToDo();
    void indexAnswersEqualTheScan();
    void indexResumesAfterAKill();
    void indexStartsOverForAReplacedFile();
    void movesAnOlderReleasesTables();
};

QList<EventQuery> TestEngineFile::sampleQueries() const
{
    QList<EventQuery> qs;
    EventQuery q;
    q.limit = 100000;
    qs.append(q);
    q.worlds = {worldUuid(2)};
    qs.append(q);
    q.worlds = {worldUuid(1), QString()};  // and "no world" (missing or not JSON)
    qs.append(q);
    q.worlds = {};
    q.kinds = {EventKind::ChallengeResolved, EventKind::StoryEventCreated};
    qs.append(q);
    q.kinds = {};
    q.includeUndecodable = false;
    qs.append(q);
    q.includeUndecodable = true;
    // Bounds inside a second: the index keeps whole seconds and must decide these exactly.
    q.createdFrom = timestamp::nanos(QDateTime::fromSecsSinceEpoch(1764000000 + 700, Qt::UTC)) + 300'000'000;
    q.createdTo = timestamp::nanos(QDateTime::fromSecsSinceEpoch(1764000000 + 1500, Qt::UTC)) + 250'000'000;
    qs.append(q);
    q.worlds = {worldUuid(3)};
    q.kinds = {EventKind::ChallengeResolved};
    qs.append(q);
    q = EventQuery{};
    q.limit = 100000;
    q.text = u"lock"_s;
    q.worlds = {worldUuid(4)};
    qs.append(q);
    // Pages: newest first from an id, oldest first after one.
    q = EventQuery{};
    q.worlds = {worldUuid(0)};
    q.newestFirst = true;
    q.beforeId = 1900;
    q.limit = 50;
    qs.append(q);
    q.newestFirst = false;
    q.beforeId = 0;
    q.afterId = 950;
    qs.append(q);
    return qs;
}

void TestEngineFile::readCommandsLeaveTheFileAlone_data()
{
    QTest::addColumn<QString>("journal");
    QTest::newRow("rollback journal") << u"delete"_s;
    QTest::newRow("wal") << u"wal"_s;
}

void TestEngineFile::readCommandsLeaveTheFileAlone()
{
    QFETCH(QString, journal);
    const QString db = path(u"read-%1.db"_s.arg(journal));
    {
        Engine engine(db, journal.toLatin1().constData());
        engine.add(3000);
    }
    const Fingerprint before = fingerprint(db);
    QCOMPARE(before.journal, journal);
    const QList<QStringList> commands = {
        {u"tail"_s}, {u"tail"_s, u"--world"_s, worldUuid(2), u"--format"_s, u"table"_s}, {u"stats"_s},
        {u"export"_s}, {u"export"_s, u"--format"_s, u"csv"_s}, {u"prune"_s, u"--dry-run"_s, u"--older-than"_s, u"1d"_s},
        {u"challenge"_s, u"list"_s}, {u"name"_s, u"list"_s},
    };
    for (const QStringList &c : commands) {
        const Run r = run(c + QStringList{u"--db"_s, db});
        QVERIFY2(r.exitCode == 0, qPrintable(c.join(u' ') + u": "_s + QString::fromUtf8(r.err)));
        QCOMPARE(fingerprint(db), before);
        QVERIFY2(!QFileInfo::exists(db + u".eventdesk"_s), qPrintable(c.join(u' ')));  // reads create nothing
    }
    // index writes only its own database, beside.
    const Run r = run({u"index"_s, u"--db"_s, db});
    QVERIFY2(r.exitCode == 0, r.err);
    QVERIFY(QFileInfo::exists(db + u".eventdesk"_s));
    QCOMPARE(fingerprint(db), before);
    // And the reads that follow use it, still without touching the log.
    QCOMPARE(run({u"tail"_s, u"--db"_s, db, u"--world"_s, worldUuid(2)}).exitCode, 0);
    QCOMPARE(fingerprint(db), before);
}

void TestEngineFile::serveLeavesTheFileAlone()
{
    const QString db = path(u"serve.db"_s);
    {
        Engine engine(db);
        engine.add(20000);
    }
    const Fingerprint before = fingerprint(db);
    QProcess serve;
    serve.start(QStringLiteral(EVENTDESK_BINARY), {u"serve"_s, u"--db"_s, db, u"--listen"_s, u"127.0.0.1:0"_s});
    QVERIFY(serve.waitForStarted());
    QByteArray said;
    QTRY_VERIFY_WITH_TIMEOUT((said += serve.readAllStandardOutput()).contains("listening on"), 20000);
    // serve builds the row index beside the log while it runs.
    QTRY_COMPARE_WITH_TIMEOUT(scalar(db + u".eventdesk"_s, "SELECT value FROM eventdesk_meta WHERE key = 'index_to'"), 20000, 30000);
    serve.terminate();
    QVERIFY(serve.waitForFinished(20000));
    QCOMPARE(serve.exitCode(), 0);
    QCOMPARE(fingerprint(db), before);
}

void TestEngineFile::windowLeavesTheFileAlone()
{
    const QString db = path(u"window.db"_s);
    Engine engine(db);
    engine.add(4000);
    const Fingerprint before = fingerprint(db);
    {
        SqliteOptions o;
        o.path = db;
        o.dataVersionPollMs = 50;
        SqliteEventStore store(o);
        QVERIFY2(store.openAndWait().ok(), "open");
        BusNotifier notifier(0);
        QObject::connect(&store, &SqliteEventStore::externalRowsDetected, &notifier, &BusNotifier::externalRowsDetected);
        StoreEventBus bus(store, notifier);
        LogRetention retention(store);
        QSignalSpy progress(&store, &LogWatch::indexProgress);
        store.startIndexing();
        MainWindow window(MainWindowDeps{store, bus, notifier, store.desk(), &store, &retention, nullptr, db});
        window.show();
        QTRY_VERIFY(window.model()->rowCount() > 0);
        QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty() && progress.last().at(0).toLongLong() == 4000, 20000);
        QCOMPARE(fingerprint(db), before);

        // The engine writes; the window follows and filters; nothing of it reaches the file.
        engine.add(25);
        const Fingerprint afterEngine = fingerprint(db);
        window.setFollowing(true);
        QTRY_VERIFY_WITH_TIMEOUT(window.model()->eventAt(window.model()->rowCount() - 1)
                                     && window.model()->eventAt(window.model()->rowCount() - 1)->id == 4025, 10000);
        QComboBox *world = window.worldFilter();
        QTRY_VERIFY(world->findData(worldUuid(2)) >= 0);
        world->setCurrentIndex(world->findData(worldUuid(2)));
        Q_EMIT world->activated(world->currentIndex());
        QTRY_VERIFY(window.model()->matchingCount() > 0);
        QCOMPARE(window.model()->matchingCount(), await(store.count(window.model()->query())).value());
        window.close();
        QCOMPARE(fingerprint(db), afterEngine);
    }
    const Fingerprint closed = fingerprint(db);
    QCOMPARE(closed.schema, before.schema);
    QCOMPARE(closed.journal, u"delete"_s);
}

void TestEngineFile::publishOnlyInsertsAndMarkOnlyUpdates()
{
    const QString db = path(u"publish.db"_s);
    {
        Engine engine(db);
        engine.add(100);
    }
    const Fingerprint before = fingerprint(db);
    Run r = run({u"publish"_s, u"--db"_s, db, u"--json"_s, QString::fromUtf8(codec::encode(sampleEvent(EventKind::StoryEventCreated, true)))});
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.out, QByteArray("101\n"));
    const Fingerprint after = fingerprint(db);
    QCOMPARE(after.schema, before.schema);  // no table, no index
    QCOMPARE(after.journal, u"delete"_s);   // the engine's journal mode, kept
    QCOMPARE(scalar(db, "SELECT count(*) FROM app_events"), 101);
    {
        SqliteOptions o;
        o.path = db;
        SqliteEventStore store(o);
        QVERIFY(store.openAndWait().ok());
        QCOMPARE(await(store.markProcessed({5, 6}, true)).value(), 2);
    }
    QCOMPARE(scalar(db, "SELECT count(*) FROM app_events WHERE processed = 1 AND processed_at IS NOT NULL"), 2);
    QCOMPARE(fingerprint(db).schema, before.schema);
    QCOMPARE(fingerprint(db).journal, u"delete"_s);
}

void TestEngineFile::refusesWhatIsNotAnEngineDatabase_data()
{
    QTest::addColumn<QString>("kind");
    QTest::newRow("not SQLite") << u"text"_s;
    QTest::newRow("zero-length") << u"empty"_s;
    QTest::newRow("SQLite without app_events") << u"other"_s;
    QTest::newRow("a different app_events") << u"shape"_s;
}

void TestEngineFile::refusesWhatIsNotAnEngineDatabase()
{
    QFETCH(QString, kind);
    const QString db = path(u"refuse-%1.db"_s.arg(kind));
    if (kind == u"text"_s) {
        QFile f(db);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(4096, 'x').prepend("a shopping list, not a database\n"));
    } else if (kind == u"empty"_s) {
        QFile f(db);
        QVERIFY(f.open(QIODevice::WriteOnly));
    } else {
        sqlite3 *h = nullptr;
        sqlite3_open(QFile::encodeName(db).constData(), &h);
        sqlite3_exec(h, kind == u"other"_s ? "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES('x')"
                                           : "CREATE TABLE app_events(id TEXT PRIMARY KEY, body TEXT)",
                     nullptr, nullptr, nullptr);
        sqlite3_close(h);
    }
    const QByteArray bytes = fileBytes(db);
    const QByteArray event = codec::encode(sampleEvent(EventKind::StoryEventCreated, true));
    const QList<QStringList> commands = {
        {u"publish"_s, u"--json"_s, QString::fromUtf8(event)}, {u"import"_s}, {u"challenge"_s, u"add"_s, u"--world"_s, u"w"_s,
        u"--name"_s, u"n"_s, u"--difficulty"_s, u"10"_s}, {u"prune"_s, u"--dry-run"_s, u"--older-than"_s, u"1d"_s},
        {u"tail"_s}, {u"stats"_s}, {u"export"_s}, {u"index"_s}, {u"challenge"_s, u"list"_s},
    };
    for (const QStringList &c : commands) {
        const Run r = run(c + QStringList{u"--db"_s, db}, c.first() == u"import"_s ? event + '\n' : QByteArray());
        QVERIFY2(r.exitCode == 1 && oneClearLine(r.err), qPrintable(c.join(u' ') + u": "_s + QString::fromUtf8(r.err)));
        QVERIFY2(r.err.contains("nothing was changed") || r.err.contains("not an SQLite database"), r.err);
        QCOMPARE(fileBytes(db), bytes);
        QVERIFY(!QFileInfo::exists(db + u".eventdesk"_s));
        QVERIFY(!QFileInfo::exists(db + u"-wal"_s));
    }
}

void TestEngineFile::createMakesADatabaseWhenAsked()
{
    const QByteArray event = codec::encode(sampleEvent(EventKind::StoryEventCreated, true));
    const QString empty = path(u"create-empty.db"_s);
    QFile(empty).open(QIODevice::WriteOnly);
    Run r = run({u"publish"_s, u"--db"_s, empty, u"--create"_s, u"--json"_s, QString::fromUtf8(event)});
    QVERIFY2(r.exitCode == 0, r.err);
    QCOMPARE(scalar(empty, "SELECT count(*) FROM app_events"), 1);
    QCOMPARE(scalar(empty, "PRAGMA application_id"), 0x45564453);  // EventDesk's own now

    const QString other = path(u"create-other.db"_s);
    sqlite3 *h = nullptr;
    sqlite3_open(QFile::encodeName(other).constData(), &h);
    sqlite3_exec(h, "CREATE TABLE notes(id INTEGER PRIMARY KEY); INSERT INTO notes DEFAULT VALUES", nullptr, nullptr, nullptr);
    sqlite3_close(h);
    r = run({u"publish"_s, u"--db"_s, other, u"--create"_s, u"--json"_s, QString::fromUtf8(event)});
    QVERIFY2(r.exitCode == 0, r.err);
    QCOMPARE(scalar(other, "SELECT count(*) FROM app_events"), 1);
    QCOMPARE(scalar(other, "SELECT count(*) FROM notes"), 1);  // theirs, untouched

    // --create never turns a file that is not SQLite into one.
    const QString text = path(u"create-text.db"_s);
    QFile f(text);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(2048, 'y'));
    f.close();
    r = run({u"publish"_s, u"--db"_s, text, u"--create"_s, u"--json"_s, QString::fromUtf8(event)});
    QCOMPARE(r.exitCode, 1);
    QCOMPARE(fileBytes(text), QByteArray(2048, 'y'));

    // A new path is a new database for a writing command, as before.
    const QString fresh = path(u"fresh/none.db"_s);
    r = run({u"publish"_s, u"--db"_s, fresh, u"--json"_s, QString::fromUtf8(event)});
    QCOMPARE(r.exitCode, 1);  // not a missing folder, though
    QVERIFY2(r.err.contains("does not exist") && oneClearLine(r.err), r.err);
}

void TestEngineFile::readsNeverCreateAFile()
{
    const QString missing = path(u"missing.db"_s);
    for (const QStringList &c : QList<QStringList>{{u"tail"_s}, {u"stats"_s}, {u"export"_s},
                                                   {u"prune"_s, u"--dry-run"_s, u"--older-than"_s, u"1d"_s},
                                                   {u"challenge"_s, u"list"_s}, {u"index"_s}}) {
        const Run r = run(c + QStringList{u"--db"_s, missing});
        QVERIFY2(r.exitCode == 1 && oneClearLine(r.err) && r.err.contains("there is no database at"),
                 qPrintable(c.join(u' ') + u": "_s + QString::fromUtf8(r.err)));
        QVERIFY(!QFileInfo::exists(missing));
        QVERIFY(!QFileInfo::exists(missing + u".eventdesk"_s));
    }
}

void TestEngineFile::readsFromAReadOnlyFolder()
{
    // A WAL database in a folder nobody may write, read as someone who may not.
    const QString folder = path(u"readonly"_s);
    QVERIFY(QDir().mkpath(folder));
    const QString db = folder + u"/engine.db"_s;
    {
        Engine engine(db, "wal");
        engine.add(500);
    }
    QVERIFY(!QFileInfo::exists(db + u"-wal"_s));
    QFile::setPermissions(db, QFile::ReadOwner | QFile::ReadGroup | QFile::ReadOther);
    QFile::setPermissions(folder, QFile::ReadOwner | QFile::ExeOwner | QFile::ReadGroup | QFile::ExeGroup | QFile::ReadOther
                                      | QFile::ExeOther);
    QStringList prefix;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const QString home = path(u"nobody-home"_s);
    QVERIFY(QDir().mkpath(home));
    QFile::setPermissions(home, QFile::Permissions(0x7777));
    env.insert(u"HOME"_s, home);
    env.insert(u"XDG_DATA_HOME"_s, home);
    if (::geteuid() == 0) {
        // root may write anywhere: read as nobody, who may not.
        prefix = {u"setpriv"_s, u"--reuid=65534"_s, u"--regid=65534"_s, u"--clear-groups"_s};
        QFile::setPermissions(m_dir.path(), QFile::Permissions(0x7755));
    }
    const Fingerprint before = fingerprint(db);
    Run r = run({u"tail"_s, u"--db"_s, db}, {}, prefix, env);
    QVERIFY2(r.exitCode == 0, r.err);
    QCOMPARE(r.out.count('\n'), 500);
    r = run({u"stats"_s, u"--db"_s, db, u"--format"_s, u"json"_s}, {}, prefix, env);
    QVERIFY2(r.exitCode == 0, r.err);
    QCOMPARE(QJsonDocument::fromJson(r.out).object().value(u"total"_s).toInteger(), 500);
    r = run({u"export"_s, u"--db"_s, db, u"--format"_s, u"csv"_s}, {}, prefix, env);
    QVERIFY2(r.exitCode == 0, r.err);
    r = run({u"tail"_s, u"--db"_s, db, u"--world"_s, worldUuid(1)}, {}, prefix, env);
    QVERIFY2(r.exitCode == 0 && r.out.count('\n') > 10, r.err);
    // Writing is refused, clearly.
    r = run({u"publish"_s, u"--db"_s, db, u"--json"_s, QString::fromUtf8(codec::encode(sampleEvent(EventKind::StoryEventCreated, true)))},
            {}, prefix, env);
    QVERIFY2(r.exitCode == 1 && r.err.contains("read-only") && oneClearLine(r.err), r.err);
    QCOMPARE(fingerprint(db), before);
    QVERIFY(!QFileInfo::exists(db + u".eventdesk"_s));
    QFile::setPermissions(folder, QFile::Permissions(0x7700));
}

void TestEngineFile::windowOnAReadOnlyLog()
{
    const QString db = path(u"window-ro.db"_s);
    {
        Engine engine(db);
        engine.add(50);
    }
    const Fingerprint before = fingerprint(db);
    SqliteOptions o;
    o.path = db;
    o.readOnly = true;  // what the composition root does for a file it cannot write
    SqliteEventStore store(o);
    QVERIFY(store.openAndWait().ok());
    BusNotifier notifier(0);
    StoreEventBus bus(store, notifier);
    MainWindow window(MainWindowDeps{store, bus, notifier, store.desk(), &store, nullptr, nullptr, db});
    window.show();
    QTRY_COMPARE(window.model()->rowCount(), 50);
    QVERIFY(window.windowTitle().contains(u"read-only"_s));
    for (QAction *menu : window.menuBar()->actions()) {
        if (!menu->menu() || !menu->isEnabled())
            continue;
        for (QAction *a : menu->menu()->actions()) {
            QVERIFY2(!a->text().contains(u"Prune"_s), "no prune on a read-only log");
            if (a->text().contains(u"Trigger"_s) || a->text().contains(u"Re-publish"_s))
                QVERIFY2(!a->isEnabled(), qPrintable(a->text()));
        }
    }
    QVERIFY(!window.quickActions()->menu()->menuAction()->isEnabled());
    const Result<QList<qint64>> published = await(bus.publishBatch({sampleEvent(EventKind::StoryEventCreated, true)}));
    QVERIFY(!published.ok());
    QVERIFY2(published.error().message.contains(u"read-only"_s), qPrintable(published.error().message));
    window.close();
    QCOMPARE(fingerprint(db), before);
}

void TestEngineFile::filtersAreRememberedPerDatabase()
{
    // A world chosen in one campaign's log is restored there, and nowhere else.
    const QString first = path(u"filters-a.db"_s);
    const QString second = path(u"filters-b.db"_s);
    for (const QString &db : {first, second}) {
        Engine engine(db);
        engine.add(60);
    }
    auto openWindow = [](const QString &db, auto &&check) {
        SqliteOptions o;
        o.path = db;
        SqliteEventStore store(o);
        QVERIFY(store.openAndWait().ok());
        BusNotifier notifier(0);
        StoreEventBus bus(store, notifier);
        MainWindow window(MainWindowDeps{store, bus, notifier, store.desk(), &store, nullptr, nullptr, db});
        window.show();
        QTRY_VERIFY(window.worldFilter()->findData(worldUuid(2)) >= 0);
        check(window);
        window.close();
    };
    openWindow(first, [](MainWindow &window) {
        QComboBox *world = window.worldFilter();
        world->setCurrentIndex(world->findData(worldUuid(2)));
        Q_EMIT world->activated(world->currentIndex());
        QTRY_VERIFY(window.model()->matchingCount() > 0 && window.model()->matchingCount() < 60);
    });
    openWindow(second, [](MainWindow &window) {
        QCOMPARE(window.worldFilter()->currentData().toString(), QString());
        QTRY_COMPARE(window.model()->rowCount(), 60);
    });
    openWindow(first, [](MainWindow &window) {
        QCOMPARE(window.worldFilter()->currentData().toString(), worldUuid(2));
        QTRY_VERIFY(window.model()->matchingCount() > 0 && window.model()->matchingCount() < 60);
    });
}

void TestEngineFile::anEmptyLogSaysWhatToDo()
{
    SqliteOptions o;
    o.path = path(u"empty.db"_s);
    SqliteEventStore store(o);
    QVERIFY(store.openAndWait().ok());
    BusNotifier notifier(0);
    StoreEventBus bus(store, notifier);
    MainWindow window(MainWindowDeps{store, bus, notifier, store.desk(), &store, nullptr, nullptr, o.path});
    window.show();
    QTRY_VERIFY(window.emptyState()->isVisible());
    QCOMPARE(window.emptyState()->title(), u"No events yet"_s);
    // The first event replaces the advice with the log.
    QVERIFY(await(bus.publishBatch({sampleEvent(EventKind::StoryEventCreated, true)})).ok());
    QTRY_COMPARE(window.model()->rowCount(), 1);
    QTRY_VERIFY(!window.emptyState()->isVisible());
    QVERIFY(window.view()->isVisible());
}

void TestEngineFile::indexAnswersEqualTheScan()
{
    const QString db = path(u"answers.db"_s);
    {
        Engine engine(db);
        engine.add(2000);
    }
    // The scan's answers: a read-only store without EventDesk's own database.
    QList<QList<qint64>> expected;
    QList<qint64> expectedCounts;
    {
        SqliteOptions o;
        o.path = db;
        o.readOnly = true;
        o.deskWritable = false;
        SqliteEventStore scan(o);
        QVERIFY(scan.openAndWait().ok());
        QVERIFY(scan.desk() == nullptr);
        for (const EventQuery &q : sampleQueries()) {
            expected.append(ids(await(scan.fetchPage(q))));
            expectedCounts.append(await(scan.count(q)).value());
        }
    }
    QVERIFY(expectedCounts.at(1) > 100);
    SqliteOptions o;
    o.path = db;
    SqliteEventStore store(o);
    QVERIFY(store.openAndWait().ok());
    QCOMPARE(await(store.desk()->indexNow()).value(), 2000);
    const auto compare = [&](const char *when) {
        const QList<EventQuery> qs = sampleQueries();
        for (int i = 0; i < qs.size(); ++i) {
            QVERIFY2(ids(await(store.fetchPage(qs.at(i)))) == expected.at(i), qPrintable(u"%1: query %2"_s.arg(QLatin1StringView(when)).arg(i)));
            QVERIFY2(await(store.count(qs.at(i))).value() == expectedCounts.at(i), qPrintable(u"%1: count %2"_s.arg(QLatin1StringView(when)).arg(i)));
        }
    };
    compare("complete index");
    // Half-way: rows up to 1000 through the index, the rest by scanning (the
    // index as a build stopped there would leave it, signature included).
    const Result<QString> signature = await(store.read<QString>([](SqliteConnection &conn) -> Result<QString> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT created_at || '|' || event_type FROM app_events WHERE id = 1000"_s) || !q.next())
            return conn.lastError(q, u"signature"_s);
        return q.value(0).toString();
    }));
    QVERIFY(signature.ok());
    QVERIFY(await(store.desk()->write([sig = signature.value()](SqliteConnection &conn) -> std::optional<Error> {
        if (auto e = conn.exec(u"UPDATE eventdesk_meta SET value = '1000' WHERE key = 'index_to'"_s))
            return e;
        return conn.exec(u"UPDATE eventdesk_meta SET value = ? WHERE key = 'index_sig'"_s, {sig});
    })).ok());
    compare("index half-way");
}

void TestEngineFile::indexResumesAfterAKill()
{
    const QString db = path(u"resume.db"_s);
    {
        Engine engine(db);
        engine.add(400000, 20);
    }
    QProcess first;
    // Slowed down (as for a busy disk) so that the kill lands half-way whatever the machine's speed.
    first.start(QStringLiteral(EVENTDESK_BINARY), {u"index"_s, u"--db"_s, db, u"--max-rate"_s, u"50000"_s});
    QVERIFY(first.waitForStarted());
    // Killed once it has committed something, before the end.
    QTRY_VERIFY_WITH_TIMEOUT(scalar(db + u".eventdesk"_s, "SELECT value FROM eventdesk_meta WHERE key = 'index_to'") > 0, 30000);
    first.kill();
    QVERIFY(first.waitForFinished());
    const qint64 stoppedAt = scalar(db + u".eventdesk"_s, "SELECT value FROM eventdesk_meta WHERE key = 'index_to'");
    QVERIFY2(stoppedAt > 0 && stoppedAt < 400000, qPrintable(QString::number(stoppedAt)));
    QCOMPARE(scalar(db + u".eventdesk"_s, "SELECT count(*) FROM eventdesk_rows"), stoppedAt);

    const Run again = run({u"index"_s, u"--db"_s, db});
    QVERIFY2(again.exitCode == 0, again.err);
    // It went on from where it stopped, not from the start.
    QVERIFY2(again.out.contains(u"(%1 rows added"_s.arg(400000 - stoppedAt).toUtf8()), again.out);
    QCOMPARE(scalar(db + u".eventdesk"_s, "SELECT count(*) FROM eventdesk_rows"), 400000);
    QCOMPARE(scalar(db + u".eventdesk"_s, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'eventdesk_rows_%'"), 3);
    const Run world = run({u"stats"_s, u"--db"_s, db, u"--format"_s, u"json"_s});
    QCOMPARE(world.exitCode, 0);
}

void TestEngineFile::indexStartsOverForAReplacedFile()
{
    const QString db = path(u"replaced.db"_s);
    {
        Engine engine(db);
        engine.add(3000, 5);
    }
    SqliteOptions o;
    o.path = db;
    {
        SqliteEventStore store(o);
        QVERIFY(store.openAndWait().ok());
        QCOMPARE(await(store.desk()->indexNow()).value(), 3000);
    }
    // Another log under the same name: fewer rows (ids went back) …
    QVERIFY(QFile::remove(db));
    {
        Engine engine(db);
        engine.add(1000, 3, 1700000000);
    }
    EventQuery world;
    world.worlds = {worldUuid(4)};  // only in the old file
    {
        SqliteEventStore store(o);
        QVERIFY(store.openAndWait().ok());
        QCOMPARE(await(store.count(world)).value(), 0);  // never the old file's index
        QCOMPARE(await(store.desk()->indexNow()).value(), 1000);
        QCOMPARE(await(store.count(world)).value(), 0);
        QCOMPARE(scalar(db + u".eventdesk"_s, "SELECT count(*) FROM eventdesk_rows"), 1000);
    }
    // … or as many rows, but other ones.
    QVERIFY(QFile::remove(db));
    {
        Engine engine(db);
        engine.add(1000, 2, 1600000000);
    }
    SqliteEventStore store(o);
    QVERIFY(store.openAndWait().ok());
    EventQuery two;
    two.worlds = {worldUuid(2)};
    QCOMPARE(await(store.count(two)).value(), 0);
    QCOMPARE(await(store.desk()->indexNow()).value(), 1000);
    QCOMPARE(await(store.count(two)).value(), 0);
    EventQuery one;
    one.worlds = {worldUuid(1)};
    const qint64 expected = scalar(db, "SELECT count(*) FROM app_events WHERE json_valid(payload) AND json_extract(payload, '$.world_id') = '00000000-0000-4000-8000-000000000001'");
    QCOMPARE(await(store.count(one)).value(), expected);
}

void TestEngineFile::movesAnOlderReleasesTables()
{
    // Made by the previous release (0.1.0 before this change), which kept its
    // tables inside the log: events, two challenges, audit entries, display
    // names, a projector cursor.
    const QString fixture = QStringLiteral(EVENTDESK_TEST_FIXTURES) + u"/previous_release.db"_s;
    QVERIFY(QFileInfo::exists(fixture));
    const QString db = path(u"previous.db"_s);
    QVERIFY(QFile::copy(fixture, db));
    QFile::setPermissions(db, QFile::ReadOwner | QFile::WriteOwner);
    const Fingerprint before = fingerprint(db);
    const qint64 oldChallenges = scalar(db, "SELECT count(*) FROM eventdesk_challenges");
    const qint64 oldAudit = scalar(db, "SELECT count(*) FROM eventdesk_audit");
    const qint64 oldNames = scalar(db, "SELECT count(*) FROM eventdesk_names");
    QVERIFY(oldChallenges >= 2 && oldAudit >= 1 && oldNames >= 1);

    Run r = run({u"challenge"_s, u"list"_s, u"--db"_s, db});  // a read: nothing moves yet, nothing is created
    QCOMPARE(r.exitCode, 0);
    QVERIFY(!QFileInfo::exists(db + u".eventdesk"_s));
    {
        SqliteOptions o;
        o.path = db;
        SqliteEventStore store(o);
        QVERIFY(store.openAndWait().ok());
        QCOMPARE(await(store.desk()->challenges()).value().size(), oldChallenges);
        QCOMPARE(await(store.desk()->auditLog(1000)).value().size(), oldAudit);
        QCOMPARE(await(store.desk()->displayNames()).value().size(), oldNames);
        QVERIFY(await(store.loadCursor(u"eventdesk.projections"_s)).value() > 0);
    }
    QCOMPARE(fingerprint(db), before);  // copied out, never changed
    r = run({u"challenge"_s, u"list"_s, u"--db"_s, db});
    QCOMPARE(r.out.count('\n'), oldChallenges);
    // Opened again: moved once, not twice.
    {
        SqliteOptions o;
        o.path = db;
        SqliteEventStore store(o);
        QVERIFY(store.openAndWait().ok());
        QCOMPARE(await(store.desk()->auditLog(1000)).value().size(), oldAudit);
    }
}

QTEST_MAIN(TestEngineFile)
#include "tst_enginefile.moc"
