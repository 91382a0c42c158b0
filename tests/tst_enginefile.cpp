// The engine's file stays the engine's (DESIGN §4): every read command, serve,
// index and the window leave an engine database byte-identical (same sha256,
// schema and journal mode); files that are not engine databases are refused
// and left as they were; reads never create a file and work from a read-only
// folder (the window: tst_enginewindow); the row index gives the answers a scan gives, resumes after a kill,
// and starts over for a replaced file; an older release's tables move out.
#include "BusNotifier.h"
#include "EngineFile.h"
#include "EventCodec.h"
#include "EventLogModel.h"
#include "Retention.h"
#include "SampleEvents.h"
#include "SessionServer.h"
#include "SqliteEventStore.h"
#include "TestSupport.h"
#include "Timestamp.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTest>
#include <QTimeZone>

#include <sqlite3.h>
#include <unistd.h>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using namespace eventdesk::test;


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
    void publishOnlyInsertsAndMarkOnlyUpdates();
    void refusesWhatIsNotAnEngineDatabase_data();
    void refusesWhatIsNotAnEngineDatabase();
    void createMakesADatabaseWhenAsked();
    void readsNeverCreateAFile();
    void readsFromAReadOnlyFolder();
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
    // A name's text, or the ids named so (a world's UUID here).
    q.worlds = {};
    q.textAlso = {worldUuid(1)};
    qs.append(q);
    q.textAlso = {};
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
    // Several worlds, merged page by page (one read per world), with "no
    // world" among them, a text condition and a kind.
    q = EventQuery{};
    q.worlds = {worldUuid(0), worldUuid(2), QString(), worldUuid(3)};
    q.newestFirst = true;
    q.beforeId = 1700;
    q.limit = 60;
    qs.append(q);
    q.newestFirst = false;
    q.beforeId = 0;
    q.afterId = 400;
    qs.append(q);
    q.text = u"lock"_s;
    qs.append(q);
    q.text.clear();
    q.kinds = {EventKind::ChallengeResolved};
    q.newestFirst = true;
    q.afterId = 0;
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
    // By position: every query's page at an offset is the slice of its whole answer.
    const auto compareOffsets = [&](const char *when) {
        const QList<EventQuery> qs = sampleQueries();
        for (int i = 0; i < qs.size(); ++i) {
            EventQuery all = qs.at(i);
            all.limit = 100000;
            const QList<qint64> whole = ids(await(store.fetchPage(all)));
            for (const qint64 offset : {qint64(1), whole.size() / 3, whole.size() / 2 + 7, whole.size() - 1, whole.size(), whole.size() + 5}) {
                EventQuery page = qs.at(i);
                page.limit = 40;
                page.offset = offset;
                all.offset = 0;
                const QList<qint64> want = whole.mid(std::min<qsizetype>(offset, whole.size()), page.limit);
                QVERIFY2(ids(await(store.fetchPage(page))) == want,
                         qPrintable(u"%1: query %2 at offset %3"_s.arg(QLatin1StringView(when)).arg(i).arg(offset)));
            }
        }
    };
    compareOffsets("complete index");
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
    compareOffsets("index half-way");
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
