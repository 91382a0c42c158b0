// The SQLite event store and bus: the engine's schema, durable publish then
// notify, group commit order, reads and filters, files that are not what they
// should be, a database locked by another process, rows another process writes.
#include "BusNotifier.h"
#include "DeskDatabase.h"
#include "EventCodec.h"
#include "SampleEvents.h"
#include "SqliteEventStore.h"
#include "SqliteTestStore.h"
#include "Subscriber.h"
#include "TestSupport.h"
#include "Webhooks.h"

#include <QElapsedTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <sqlite3.h>

#include <atomic>
#include <thread>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using test::await;

namespace {

// The table_info of app_events, as text, read with the raw C API (another connection).
QString tableInfo(const QString &path)
{
    sqlite3 *db = nullptr;
    sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt *st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA table_info(app_events)", -1, &st, nullptr);
    QStringList cols;
    while (sqlite3_step(st) == SQLITE_ROW) {
        QStringList parts;
        for (int c = 1; c < 6; ++c) {
            const auto *t = sqlite3_column_text(st, c);
            parts.append(t ? QString::fromUtf8(reinterpret_cast<const char *>(t)) : u"NULL"_s);
        }
        cols.append(parts.join(u' '));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return cols.join(u'\n');
}

void sqlExec(const QString &path, const char *sql)
{
    sqlite3 *db = nullptr;
    QCOMPARE(sqlite3_open(path.toUtf8().constData(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *err = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    QVERIFY2(rc == SQLITE_OK, err);
    sqlite3_close(db);
}

QByteArray fileBytes(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

constexpr char EngineSchema[] = R"(CREATE TABLE IF NOT EXISTS app_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  processed INTEGER NOT NULL DEFAULT 0,
  processed_at TEXT
);)";

} // namespace

class TestSqliteEventStore : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_immutable;  // a file given the immutable flag, to clear again
    int m_n = 0;
    QString freshPath() { return m_dir.filePath(u"db%1.sqlite"_s.arg(++m_n)); }
    std::unique_ptr<SqliteEventStore> openStore(const QString &path, SqliteOptions options = {})
    {
        return test::openSqliteStore(path, std::move(options));
    }

private Q_SLOTS:
    void cleanup()
    {
        if (!m_immutable.isEmpty())
            QProcess::execute(u"chattr"_s, {u"-i"_s, std::exchange(m_immutable, QString())});
    }
    void createsTheEngineSchema();
    void publishIsReadableElsewhereThenNotifies();
    void everyVariantRoundTrips();
    void batchIsAllOrNothing();
    void streamedImportIsAllOrNothing();
    void groupCommitKeepsCallOrder();
    void opensAnEngineDatabaseWithoutChangingIt();
    void filtersAndPages();
    void badFiles_data();
    void badFiles();
    void readOnlyInspection();
    void undecodableRowsAndGaps();
    void lockedByAnotherProcess();
    void lockOutlastsTheBudget();
    void anotherProcessesRowsArePickedUp_data();
    void anotherProcessesRowsArePickedUp();
    void markProcessedOnlyWhenAsked();
    void cursorsOnlyMoveForward();
    void challengesAndAudit();
    void deskFromSchema3IsMigrated();
    void failedUpgradeLeavesTheDeskAsItWas();
    void upgradesFromEarlierReleases_data();
    void upgradesFromEarlierReleases();
    void damagedDeskIsNamedAndMovedAside();
};

void TestSqliteEventStore::createsTheEngineSchema()
{
    const QString path = freshPath();
    auto store = openStore(path);
    QVERIFY(store);
    QCOMPARE(tableInfo(path),
             u"id INTEGER 0 NULL 1\nevent_type TEXT 1 NULL 0\npayload TEXT 1 NULL 0\ncreated_at TEXT 1 NULL 0\n"
             "processed INTEGER 1 0 0\nprocessed_at TEXT 0 NULL 0"_s);
    QByteArray out;
    QCOMPARE(test::runPython(u"import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                             "print(c.execute('pragma journal_mode').fetchone()[0]); "
                             "print(c.execute(\"select sql from sqlite_master where name='app_events'\").fetchone()[0].count('AUTOINCREMENT'))"_s,
                             {path}, &out), 0);
    QCOMPARE(out, QByteArray("wal\n1\n"));
}

void TestSqliteEventStore::publishIsReadableElsewhereThenNotifies()
{
    const QString path = freshPath();
    auto store = openStore(path);
    QVERIFY(store);
    BusNotifier notifier(0);
    StoreEventBus bus(*store, notifier);
    QSignalSpy woke(&notifier, &Notifier::eventsAvailable);

    const PublishResult r = await(bus.publish(test::sampleEvent(EventKind::ChallengeResolved, true)));
    QVERIFY(r.ok());
    QCOMPARE(r.value(), 1);
    // Committed: another connection (another process) reads it the moment the id is known.
    QByteArray out;
    QCOMPARE(test::runPython(u"import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                             "print(c.execute('select event_type, payload, created_at, processed from app_events where id=1').fetchone())"_s,
                             {path}, &out), 0);
    QVERIFY2(out.contains("'ChallengeResolved', '{\"type\":\"ChallengeResolved\",\"challenge_id\":\"c1\""), out);
    QVERIFY2(QRegularExpression(u"'\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z', 0\\)"_s).match(QString::fromUtf8(out)).hasMatch(), out);
    // One notification per commit, carrying the head.
    QTRY_COMPARE(woke.size(), 1);
    QCOMPARE(woke.first().first().toLongLong(), 1);

    // An invalid event is an error value; nothing is written, nothing is notified.
    const PublishResult bad = await(bus.publish(AppEvent(events::GenerationBatchProgress{u"b"_s, 900, std::nullopt})));
    QVERIFY(!bad.ok());
    QCOMPARE(bad.error().field, u"progress"_s);
    QCOMPARE(await(store->headId()).value(), 1);
    QCOMPARE(woke.size(), 1);
}

void TestSqliteEventStore::everyVariantRoundTrips()
{
    auto store = openStore(freshPath());
    QVERIFY(store);
    QList<AppEvent> sent;
    for (EventKind k : test::allKinds())
        for (bool opt : {true, false})
            sent.append(test::sampleEvent(k, opt));
    const BatchPublishResult ids = await(store->append(sent));
    QVERIFY(ids.ok());
    QCOMPARE(ids->size(), sent.size());
    const auto rows = await(store->fetchSince(0, 1000));
    QVERIFY(rows.ok());
    QCOMPARE(rows->size(), sent.size());
    for (qsizetype i = 0; i < sent.size(); ++i) {
        const StoredEvent &row = rows->at(i);
        QCOMPARE(row.id, ids->at(i));
        QVERIFY2(row.isDecoded(), qPrintable(row.decodeError));
        QCOMPARE(*row.event, sent.at(i));
        QCOMPARE(row.eventType, sent.at(i).typeName());
        QVERIFY(row.createdAt.isValid());
        QVERIFY(!row.processed);
    }
}

void TestSqliteEventStore::batchIsAllOrNothing()
{
    auto store = openStore(freshPath());
    QVERIFY(store);
    BusNotifier notifier(0);
    StoreEventBus bus(*store, notifier);
    QList<AppEvent> batch = {test::sampleEvent(EventKind::StoryEventCreated, true),
                             AppEvent(events::StoryEventCreated{u"s"_s, u"w"_s, QString(70 * 1024, u'x')}),
                             test::sampleEvent(EventKind::StoryEventCreated, true)};
    const BatchPublishResult r = await(bus.publishBatch(batch));
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.startsWith(u"event 2 of 3"_s), qPrintable(r.error().message));
    QCOMPARE(await(store->headId()).value(), 0);
    batch.removeAt(1);
    const BatchPublishResult ok = await(bus.publishBatch(batch));
    QVERIFY(ok.ok());
    QCOMPARE(ok.value(), (QList<qint64>{1, 2}));
}

// A streamed import whose source fails part-way (a file that changed between
// the check and the write) leaves nothing behind; a whole one lands in order.
void TestSqliteEventStore::streamedImportIsAllOrNothing()
{
    auto store = openStore(freshPath());
    QVERIFY(store);
    const auto source = [](int rows, bool failAtEnd) {
        auto given = std::make_shared<int>(0);
        return [=]() -> Result<std::optional<rows::ImportedRow>> {
            if (*given == rows)
                return failAtEnd ? Result<std::optional<rows::ImportedRow>>(Error{ErrorCode::InvalidEvent, {}, u"the file changed"_s})
                                 : std::optional<rows::ImportedRow>();
            ++*given;
            rows::ImportedRow row;
            row.event = test::sampleEvent(EventKind::StoryEventCreated, true);
            return std::optional(row);
        };
    };
    const auto failed = await(store->importStream(source(3, true), false));
    QVERIFY(!failed.ok());
    QCOMPARE(failed.error().message, u"the file changed"_s);
    QCOMPARE(await(store->headId()).value(), 0);
    const auto whole = await(store->importStream(source(3, false), false));
    QVERIFY(whole.ok());
    QCOMPARE(whole->count, 3);
    QCOMPARE(whole->firstId, 1);
    QCOMPARE(whole->lastId, 3);
}

void TestSqliteEventStore::groupCommitKeepsCallOrder()
{
    auto store = openStore(freshPath());
    QVERIFY(store);
    BusNotifier notifier(0);
    StoreEventBus bus(*store, notifier);
    QList<QFuture<PublishResult>> futures;
    for (int i = 0; i < 500; ++i)
        futures.append(bus.publish(events::GenerationBatchProgress{u"b"_s, i % 101, std::nullopt}));
    qint64 last = 0;
    for (int i = 0; i < futures.size(); ++i) {
        const PublishResult r = await(futures[i]);
        QVERIFY(r.ok());
        QVERIFY(r.value() > last);
        last = r.value();
        const auto row = await(store->fetchSince(r.value() - 1, 1));
        QCOMPARE(row->first().event->as<events::GenerationBatchProgress>()->progress, i % 101);
    }
    QCOMPARE(last, 500);
}

void TestSqliteEventStore::opensAnEngineDatabaseWithoutChangingIt()
{
    const QString path = freshPath();
    sqlExec(path, EngineSchema);
    QFile fixture(QStringLiteral(EVENTDESK_TEST_DATA "/engine_payloads.jsonl"));
    QVERIFY(fixture.open(QIODevice::ReadOnly));
    sqlite3 *db = nullptr;
    sqlite3_open(path.toUtf8().constData(), &db);
    sqlite3_stmt *ins = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO app_events(event_type, payload, created_at) VALUES(?,?,?)", -1, &ins, nullptr);
    int lines = 0;
    while (!fixture.atEnd()) {
        const QByteArray line = fixture.readLine().trimmed();
        const QByteArray type = QJsonDocument::fromJson(line).object().value(u"type"_s).toString().toUtf8();
        sqlite3_bind_text(ins, 1, type.constData(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 2, line.constData(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 3, "2026-11-26T20:01:02.345Z", -1, SQLITE_STATIC);
        QCOMPARE(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
        ++lines;
    }
    sqlite3_finalize(ins);
    sqlite3_close(db);
    const QString before = tableInfo(path);

    auto store = openStore(path);
    QVERIFY(store);
    QCOMPARE(tableInfo(path), before);
    const auto rows = await(store->fetchSince(0, 100));
    QCOMPARE(rows->size(), lines);
    for (const StoredEvent &e : rows.value())
        QVERIFY2(e.isDecoded(), qPrintable(e.decodeError));
    // The engine can still write its own way, with EventDesk's indexes in place.
    sqlExec(path, "INSERT INTO app_events(event_type, payload, created_at) VALUES('StoryEventCreated', 'not json', '2026-01-01T00:00:00.000Z')");
    QCOMPARE(await(store->headId()).value(), lines + 1);
}

void TestSqliteEventStore::filtersAndPages()
{
    auto store = openStore(freshPath());
    QVERIFY(store);
    QList<AppEvent> events;
    for (int i = 0; i < 30; ++i) {
        events.append(test::sampleEvent(EventKind::ChallengeResolved, true, i % 3 == 0 ? u"w1"_s : u"w2"_s));
        events.append(test::sampleEvent(EventKind::GenerationBatchProgress, true));
        events.append(test::sampleEvent(EventKind::SuggestionQueued, i % 2 == 0, u"w3"_s));
    }
    QVERIFY(await(store->append(events)).ok());
    await(store->appendRaw({{u"Mystery"_s, "{\"type\":\"Mystery\"}"}}));

    EventQuery q;
    QCOMPARE(await(store->count(q)).value(), 91);
    q.worlds = {u"w1"_s};
    QCOMPARE(await(store->count(q)).value(), 10);
    q.worlds = {QString()};  // "(no world)": generation, world-less suggestions, the unknown row
    QCOMPARE(await(store->count(q)).value(), 30 + 15 + 1);
    q.worlds = {u"w1"_s, QString()};
    QCOMPARE(await(store->count(q)).value(), 56);
    q = {};
    q.kinds = {EventKind::SuggestionQueued};
    QCOMPARE(await(store->count(q)).value(), 30);
    q.includeUndecodable = false;
    q.kinds = {};
    QCOMPARE(await(store->count(q)).value(), 90);
    q = {};
    q.text = u"pc7"_s;
    QCOMPARE(await(store->count(q)).value(), 30);  // only the challenges mention pc7
    q.text = u"100%_"_s;                           // LIKE wildcards are literal
    QCOMPARE(await(store->count(q)).value(), 0);

    q = {};
    q.limit = 7;
    q.newestFirst = true;
    auto page = await(store->fetchPage(q));
    QCOMPARE(page->size(), 7);
    QCOMPARE(page->first().id, 91);
    QVERIFY(!page->first().isDecoded());
    q.beforeId = page->last().id;
    page = await(store->fetchPage(q));
    QCOMPARE(page->first().id, 84);

    QCOMPARE(await(store->distinctWorlds()).value(), (QStringList{u"w1"_s, u"w2"_s, u"w3"_s}));
}

void TestSqliteEventStore::badFiles_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("says");
    QTest::newRow("missing folder") << u"missing-folder"_s << u"does not exist"_s;
    QTest::newRow("not SQLite") << u"text"_s << u"is not an SQLite database"_s;
    QTest::newRow("truncated") << u"truncated"_s << u"too short to be one"_s;
    QTest::newRow("corrupt pages") << u"corrupt"_s << u"cannot be read"_s;
    QTest::newRow("read-only file") << u"readonly"_s << u"read-only"_s;
    QTest::newRow("a folder") << u"folder"_s << u"not a file"_s;
    QTest::newRow("other app_events shape") << u"shape"_s << u"different shape: no column payload"_s;
    QTest::newRow("app_events with mistyped column") << u"mistyped"_s << u"column processed is TEXT"_s;
}

void TestSqliteEventStore::badFiles()
{
    QFETCH(QString, kind);
    QFETCH(QString, says);
    QString path = freshPath();
    if (kind == u"missing-folder"_s) {
        path = m_dir.filePath(u"nowhere/at/all/events.db"_s);
    } else if (kind == u"text"_s) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("id,event_type\n1,StoryEventCreated\n");
    } else if (kind == u"truncated"_s || kind == u"corrupt"_s) {
        const QString good = freshPath();
        {
            auto s = openStore(good);
            QVERIFY(s);
            QVERIFY(await(s->append({test::sampleEvent(EventKind::StoryEventCreated, true)})).ok());
        }
        sqlExec(good, "PRAGMA wal_checkpoint(TRUNCATE)");
        QByteArray bytes = fileBytes(good);
        if (kind == u"truncated"_s) {
            bytes.truncate(200);
        } else {
            for (qsizetype i = 100; i < bytes.size(); ++i)
                bytes[i] = char(0xA5 ^ (i & 0xff));
        }
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes);
    } else if (kind == u"readonly"_s) {
        { auto s = openStore(path); QVERIFY(s); }
        QFile::setPermissions(path, QFile::ReadOwner | QFile::ReadGroup);
        // Root writes read-only files anyway; the immutable flag stops root too.
        if (QFileInfo(path).isWritable() && QProcess::execute(u"chattr"_s, {u"+i"_s, path}) != 0)
            QSKIP("cannot make a file read-only for this user");
        m_immutable = path;
    } else if (kind == u"folder"_s) {
        QVERIFY(QDir().mkpath(path));
    } else if (kind == u"shape"_s) {
        sqlExec(path, "CREATE TABLE app_events (id INTEGER PRIMARY KEY, event_type TEXT NOT NULL, body TEXT, created_at TEXT, processed INTEGER, processed_at TEXT)");
    } else if (kind == u"mistyped"_s) {
        sqlExec(path, "CREATE TABLE app_events (id INTEGER PRIMARY KEY, event_type TEXT NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL, processed TEXT, processed_at TEXT)");
    }
    const QByteArray before = QFileInfo(path).isFile() ? fileBytes(path) : QByteArray();

    SqliteOptions options;
    options.path = path;
    SqliteEventStore store(options);
    const Result<bool> r = store.openAndWait();
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.contains(says), qPrintable(r.error().message));
    QVERIFY2(r.error().message.contains(QFileInfo(path).fileName()) || kind == u"missing-folder"_s,
             qPrintable(r.error().message));
    // Nothing overwritten, nothing created.
    if (QFileInfo(path).isFile())
        QCOMPARE(fileBytes(path), before);
    QVERIFY(!QFileInfo::exists(path + u"-wal"_s) || kind == u"readonly"_s || kind == u"shape"_s || kind == u"mistyped"_s);
    if (!m_immutable.isEmpty()) {
        QProcess::execute(u"chattr"_s, {u"-i"_s, m_immutable});
        m_immutable.clear();
    }
    // A store that failed to open answers with errors, not crashes.
    QVERIFY(!await(store.append({test::sampleEvent(EventKind::StoryEventCreated, true)})).ok());
    QVERIFY(!await(store.fetchSince(0, 10)).ok());
}

void TestSqliteEventStore::readOnlyInspection()
{
    const QString path = freshPath();
    {
        auto s = openStore(path);
        QVERIFY(await(s->append({test::sampleEvent(EventKind::StoryEventCreated, true)})).ok());
    }
    sqlExec(path, "PRAGMA wal_checkpoint(TRUNCATE)");
    const QByteArray before = fileBytes(path);
    SqliteOptions options;
    options.readOnly = true;
    auto store = openStore(path, options);
    QVERIFY(store);
    QCOMPARE(await(store->fetchSince(0, 10))->size(), 1);
    QVERIFY(!await(store->append({test::sampleEvent(EventKind::StoryEventCreated, true)})).ok());
    // A publish, from the main thread (queued) and a producer thread (committed
    // there when the writer is idle), is answered with why, and wakes no one.
    struct CountingNotifier final : Notifier {
        std::atomic<int> calls = 0;
        void notifyAppended(qint64) override { ++calls; }
    } notifier;
    StoreEventBus bus(*store, notifier);
    const PublishResult fromMain = await(bus.publish(test::sampleEvent(EventKind::StoryEventCreated, true)));
    QVERIFY(!fromMain.ok());
    QVERIFY2(fromMain.error().message.contains(u"read-only"_s), qPrintable(fromMain.error().message));
    PublishResult fromThread = 0;
    std::thread([&] {
        QFuture<PublishResult> f = bus.publish(test::sampleEvent(EventKind::StoryEventCreated, true));
        f.waitForFinished();
        fromThread = f.result();
    }).join();
    QVERIFY(!fromThread.ok());
    QVERIFY2(fromThread.error().message.contains(u"read-only"_s), qPrintable(fromThread.error().message));
    QCOMPARE(notifier.calls.load(), 0);
    QCOMPARE(fileBytes(path), before);
}

void TestSqliteEventStore::undecodableRowsAndGaps()
{
    const QString path = freshPath();
    auto store = openStore(path);
    QVERIFY(store);
    BusNotifier notifier(0);
    await(store->append({test::sampleEvent(EventKind::StoryEventCreated, true)}));
    await(store->appendRaw({{u"StoryEventCreated"_s, "{not json"},
                            {u"DragonSlain"_s, R"({"type":"DragonSlain","dragon":"Smaug"})"},
                            {u"ChallengeResolved"_s, R"({"type":"ChallengeResolved","world_id":"w1"})"}}));
    await(store->append({test::sampleEvent(EventKind::NarrativeEventTriggered, true),
                         test::sampleEvent(EventKind::NarrativeEventTriggered, true),
                         test::sampleEvent(EventKind::NarrativeEventTriggered, true)}));
    sqlExec(path, "DELETE FROM app_events WHERE id IN (5, 6)");  // the engine pruned some rows

    Subscriber sub(*store, notifier, {.name = u"gaps"_s, .batchSize = 2});
    QList<StoredEvent> seen;
    connect(&sub, &Subscriber::eventsReceived, this, [&](const QList<StoredEvent> &batch) { seen += batch; });
    QSignalSpy done(&sub, &Subscriber::caughtUp);
    sub.start();
    QTRY_VERIFY(done.size() >= 1);
    QList<qint64> ids;
    for (const StoredEvent &e : seen)
        ids.append(e.id);
    QCOMPARE(ids, (QList<qint64>{1, 2, 3, 4, 7}));
    QVERIFY(!seen[1].isDecoded());
    QVERIFY(seen[1].decodeError.contains(u"not valid JSON"_s));
    QVERIFY(seen[2].decodeError.contains(u"unknown event variant \"DragonSlain\""_s));
    QVERIFY(seen[3].decodeError.contains(u"challenge_name"_s));
    QCOMPARE(sub.cursor(), 7);
}

void TestSqliteEventStore::lockedByAnotherProcess()
{
    const QString path = freshPath();
    auto store = openStore(path);
    QVERIFY(store);
    BusNotifier notifier(0);
    StoreEventBus bus(*store, notifier);

    // The engine (another process) takes the database for 3 s.
    QProcess *holder = test::startPython(
        u"import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN EXCLUSIVE'); "
        "c.execute(\"INSERT INTO app_events(event_type,payload,created_at) VALUES('x','{}','2026-01-01T00:00:00.000Z')\"); "
        "print('locked', flush=True); time.sleep(3); print('committing', flush=True); c.execute('COMMIT')"_s,
        {path}, this);
    QVERIFY(holder->waitForReadyRead(10000));

    // The event loop keeps turning while the publish waits: a timer keeps firing
    // (a blocked loop would fire it once, after the wait), and the publish lands
    // only after the engine committed.
    QByteArray said = holder->readAll();
    int ticksWhileWaiting = 0;
    bool finishedBeforeCommit = false;
    QFuture<PublishResult> f = bus.publish(test::sampleEvent(EventKind::StoryEventCreated, true));
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, this, [&] {
        said += holder->readAll();
        if (!f.isFinished())
            ++ticksWhileWaiting;
        else if (!said.contains("committing"))
            finishedBeforeCommit = true;
    });
    ticker.start(5);
    QTRY_VERIFY_WITH_TIMEOUT(f.isFinished(), 10000);
    ticker.stop();
    said += holder->readAll();
    const PublishResult r = f.result();
    QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
    QCOMPARE(r.value(), 2);  // after the engine's row
    QVERIFY2(said.contains("committing") && !finishedBeforeCommit, "published through an exclusive lock?");
    QVERIFY2(ticksWhileWaiting >= 10, qPrintable(u"the event loop turned %1 times while the publish waited"_s.arg(ticksWhileWaiting)));
    QTRY_COMPARE_WITH_TIMEOUT(holder->state(), QProcess::NotRunning, 10000);
    QCOMPARE(holder->exitCode(), 0);
}

void TestSqliteEventStore::lockOutlastsTheBudget()
{
    const QString path = freshPath();
    SqliteOptions options;
    options.busyBudgetMs = 800;
    auto store = openStore(path, options);
    QVERIFY(store);
    QProcess *holder = test::startPython(
        u"import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN EXCLUSIVE'); "
        "print('locked', flush=True); time.sleep(2.5); c.execute('COMMIT')"_s,
        {path}, this);
    QVERIFY(holder->waitForReadyRead(10000));
    const BatchPublishResult r = await(store->append({test::sampleEvent(EventKind::StoryEventCreated, true)}));
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::Busy);
    QVERIFY2(r.error().message.contains(u"locked"_s), qPrintable(r.error().message));
    QTRY_COMPARE_WITH_TIMEOUT(holder->state(), QProcess::NotRunning, 10000);
    // Nothing half-written; the next publish goes through.
    QCOMPARE(await(store->headId()).value(), 0);
    const BatchPublishResult again = await(store->append({test::sampleEvent(EventKind::StoryEventCreated, true)}));
    QVERIFY(again.ok());
    QCOMPARE(again->first(), 1);
}

void TestSqliteEventStore::anotherProcessesRowsArePickedUp_data()
{
    QTest::addColumn<int>("pollMs");
    QTest::newRow("polled") << 250;
    // A poll of ten minutes: only the file's own change can wake the store
    // within the five seconds this allows.
    QTest::newRow("woken by the file") << 600000;
}

void TestSqliteEventStore::anotherProcessesRowsArePickedUp()
{
    QFETCH(int, pollMs);
    const QString path = freshPath();
    SqliteOptions options;
    options.dataVersionPollMs = pollMs;
    auto store = openStore(path, options);
    QVERIFY(store);
    BusNotifier notifier(0);  // no fallback poll: data_version alone must do it
    connect(store.get(), &SqliteEventStore::externalRowsDetected, &notifier, &BusNotifier::externalRowsDetected);
    Subscriber sub(*store, notifier, {.name = u"external"_s});
    QList<qint64> seen;
    connect(&sub, &Subscriber::eventsReceived, this, [&](const QList<StoredEvent> &batch) {
        for (const StoredEvent &e : batch)
            seen.append(e.id);
    });
    QSignalSpy done(&sub, &Subscriber::caughtUp);
    sub.start();
    QTRY_COMPARE(done.size(), 1);

    const QByteArray line = codec::encode(test::sampleEvent(EventKind::ChallengeResolved, true));
    QCOMPARE(test::runPython(u"import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                             "c.execute('INSERT INTO app_events(event_type,payload,created_at) VALUES(?,?,?)', "
                             "('ChallengeResolved', sys.argv[2], '2026-11-26T20:01:02.345Z')); c.commit()"_s,
                             {path, QString::fromUtf8(line)}), 0);
    QTRY_COMPARE_WITH_TIMEOUT(seen, QList<qint64>{1}, 5000);
}

void TestSqliteEventStore::markProcessedOnlyWhenAsked()
{
    auto store = openStore(freshPath());
    await(store->append({test::sampleEvent(EventKind::StoryEventCreated, true), test::sampleEvent(EventKind::StoryEventCreated, true)}));
    QVERIFY(!await(store->fetchSince(0, 10))->first().processed);
    QCOMPARE(await(store->markProcessed({1}, true)).value(), 1);
    QCOMPARE(await(store->markProcessed({1}, true)).value(), 0);  // already
    const auto rows = await(store->fetchSince(0, 10));
    QVERIFY(rows->at(0).processed);
    QVERIFY(rows->at(0).processedAt.isValid());
    QVERIFY(!rows->at(1).processed);
    QCOMPARE(await(store->markProcessed({1}, false)).value(), 1);
    QVERIFY(!await(store->fetchSince(0, 1))->first().processedAt.isValid());
}

void TestSqliteEventStore::cursorsOnlyMoveForward()
{
    auto store = openStore(freshPath());
    QCOMPARE(await(store->loadCursor(u"a"_s)).value(), 0);
    QVERIFY(await(store->saveCursor(u"a"_s, 10)).ok());
    QVERIFY(await(store->saveCursor(u"a"_s, 4)).ok());
    QCOMPARE(await(store->loadCursor(u"a"_s)).value(), 10);
    QCOMPARE(await(store->loadCursor(u"b"_s)).value(), 0);
}

// EventDesk's own database as schema 3 left it (no timeout per webhook rule,
// no archive state, no outbox index by rule), with a rule and an archive in
// it: opening it runs step 4, and what was there is kept, with the defaults.
void TestSqliteEventStore::deskFromSchema3IsMigrated()
{
    const QString path = freshPath();
    { auto store = openStore(path); }
    const QString desk = DeskDatabase::pathFor(path);
    QVERIFY(QFileInfo::exists(desk));
    sqlExec(desk, "ALTER TABLE eventdesk_webhooks DROP COLUMN timeout_ms;"
                  "ALTER TABLE eventdesk_archives DROP COLUMN state;"
                  "DROP INDEX eventdesk_outbox_rule;"
                  "UPDATE eventdesk_meta SET value = '3' WHERE key = 'schema_version';"
                  "INSERT INTO eventdesk_webhooks(url, format, types, worlds, template, enabled, created_at) "
                  "VALUES('http://127.0.0.1:9/h', 'json', '', '', '', 1, '2026-01-01T00:00:00.000Z');"
                  "INSERT INTO eventdesk_archives(at, target, cutoff, first_id, last_id, rows) "
                  "VALUES('2026-01-01T00:00:00.000Z', 'a.jsonl.gz', '2025-12-01T00:00:00.000Z', 1, 5, 5);");
    const auto value = [&desk](const char *sql) {
        sqlite3 *db = nullptr;
        sqlite3_open_v2(desk.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr);
        sqlite3_stmt *st = nullptr;
        sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
        QString out;
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            out = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(st, 0)));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
    };
    QCOMPARE(value("SELECT value FROM eventdesk_meta WHERE key = 'schema_version'"), u"3"_s);
    auto store = openStore(path);
    QVERIFY(store->desk());
    const auto rules = await(WebhookBook(*store->desk()).rules());
    QVERIFY(rules.ok());
    QCOMPARE(rules->size(), 1);
    QCOMPARE(rules->first().url, u"http://127.0.0.1:9/h"_s);
    QCOMPARE(rules->first().timeoutMs, 10000);
    QCOMPARE(value("SELECT value FROM eventdesk_meta WHERE key = 'schema_version'"), QString::number(DeskDatabase::SchemaVersion));
    QCOMPARE(value("SELECT state FROM eventdesk_archives"), u"done"_s);
    QCOMPARE(value("SELECT count(*) FROM sqlite_master WHERE name = 'eventdesk_outbox_rule'"), u"1"_s);
    // A newer EventDesk's file is shown read-only, says why, and is left as it was, byte for byte.
    store.reset();
    sqlExec(desk, "UPDATE eventdesk_meta SET value = '99' WHERE key = 'schema_version'; PRAGMA wal_checkpoint(TRUNCATE);");
    const auto bytes = [&desk] {
        QFile f(desk);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    };
    const QByteArray before = bytes();
    {
        SqliteOptions o;
        o.path = path;
        SqliteEventStore newer(o);
        const Result<bool> opened = newer.openAndWait();
        QVERIFY2(opened.ok(), qPrintable(opened.ok() ? QString() : opened.error().message));
        QVERIFY(newer.desk() && newer.desk()->isReadOnly());
        QVERIFY2(newer.desk()->readOnlyReason().contains(u"newer EventDesk (schema 99"_s), qPrintable(newer.desk()->readOnlyReason()));
        QCOMPARE(await(newer.desk()->displayNames())->size(), 0);  // it is read
        const Result<bool> named = await(newer.desk()->setDisplayName(u"world"_s, u"w1"_s, u"Ravenmoor"_s));
        QVERIFY(!named.ok() && named.error().message.contains(u"newer EventDesk"_s));
        QVERIFY(await(newer.append({test::sampleEvent(EventKind::StoryEventCreated, true)})).ok());  // the log is still the DM's
    }
    QCOMPARE(value("SELECT value FROM eventdesk_meta WHERE key = 'schema_version'"), u"99"_s);
    QVERIFY2(bytes() == before, "a newer EventDesk's file is never rewritten");
}

// An upgrade that fails half-way (step 4 done, step 5 refused: something
// already has the name its table takes) puts the file back as it was, from
// the copy made first, and says so; the copy is not left behind.
void TestSqliteEventStore::failedUpgradeLeavesTheDeskAsItWas()
{
    const QString path = freshPath();
    {
        auto store = openStore(path);
        QVERIFY(await(store->desk()->setDisplayName(u"world"_s, u"w1"_s, u"Ravenmoor"_s)).ok());
        QVERIFY(await(store->desk()->addChallenge(u"w1"_s, u"Climb the cliff"_s, 12)).ok());
    }
    const QString desk = DeskDatabase::pathFor(path);
    sqlExec(desk, "ALTER TABLE eventdesk_webhooks DROP COLUMN timeout_ms;"
                  "ALTER TABLE eventdesk_archives DROP COLUMN state;"
                  "DROP INDEX eventdesk_outbox_rule;"
                  "DROP TABLE eventdesk_recorded;"
                  "CREATE INDEX eventdesk_recorded ON eventdesk_names(name);"
                  "UPDATE eventdesk_meta SET value = '3' WHERE key = 'schema_version';"
                  "PRAGMA wal_checkpoint(TRUNCATE);");
    const auto dump = [&desk] {
        sqlite3 *db = nullptr;
        sqlite3_open_v2(desk.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr);
        QStringList out;
        sqlite3_stmt *tables = nullptr;
        sqlite3_prepare_v2(db, "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name", -1, &tables, nullptr);
        QStringList names;
        while (sqlite3_step(tables) == SQLITE_ROW) {
            out.append(QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(tables, 1))));
            if (out.last().startsWith(u"CREATE TABLE"_s))
                names.append(QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(tables, 0))));
        }
        sqlite3_finalize(tables);
        for (const QString &t : names) {
            sqlite3_stmt *rows = nullptr;
            sqlite3_prepare_v2(db, u"SELECT * FROM %1 ORDER BY rowid"_s.arg(t).toUtf8().constData(), -1, &rows, nullptr);
            while (sqlite3_step(rows) == SQLITE_ROW) {
                QStringList row{t};
                for (int i = 0; i < sqlite3_column_count(rows); ++i)
                    row.append(QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(rows, i))));
                out.append(row.join(u'|'));
            }
            sqlite3_finalize(rows);
        }
        sqlite3_close(db);
        return out;
    };
    const QStringList before = dump();
    QVERIFY(before.join(u'\n').contains(u"Ravenmoor"_s) && before.join(u'\n').contains(u"Climb the cliff"_s));
    SqliteOptions o;
    o.path = path;
    o.deskWritable = true;
    {
        SqliteEventStore store(o);
        const Result<bool> opened = store.openAndWait();
        QVERIFY(!opened.ok());
        QCOMPARE(opened.error().field, u"desk"_s);
        QVERIFY2(opened.error().message.contains(u"schema 5"_s) && opened.error().message.contains(u"as it was before (schema 3)"_s),
                 qPrintable(opened.error().message));
    }
    QCOMPARE(dump(), before);
    const QString copy = desk + u".before-schema-%1"_s.arg(DeskDatabase::SchemaVersion);
    QVERIFY(!QFileInfo::exists(copy));

    // No copy can be made (a folder stands where it goes): nothing is upgraded, nothing changes.
    QVERIFY(QDir().mkpath(copy + u"/in-the-way"_s));
    {
        SqliteEventStore store(o);
        const Result<bool> opened = store.openAndWait();
        QVERIFY(!opened.ok());
        QVERIFY2(opened.error().message.contains(u"cannot keep a copy"_s) && opened.error().message.contains(u"nothing was changed"_s),
                 qPrintable(opened.error().message));
    }
    QCOMPARE(dump(), before);
}

// EventDesk's own database as each earlier release left it (tests/fixtures/
// desk/schemaN, made by that release's binary with make.sh there): opened by
// this one, it is brought to the newest schema, and every row of every table
// it had is still there, column for column; the DM's names, challenges,
// webhook rule and archive read back through the ports; the row index still
// answers the filters.
void TestSqliteEventStore::upgradesFromEarlierReleases_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<int>("version");
    QTest::newRow("schema 3") << u"schema3"_s << 3;
    QTest::newRow("schema 4") << u"schema4"_s << 4;
}

void TestSqliteEventStore::upgradesFromEarlierReleases()
{
    QFETCH(QString, fixture);
    QFETCH(int, version);
    const QString from = QStringLiteral(EVENTDESK_TEST_FIXTURES) + u"/desk/"_s + fixture;
    const QString path = m_dir.filePath(fixture + u".db"_s);
    const QString desk = DeskDatabase::pathFor(path);
    QVERIFY(QFile::copy(from + u"/events.db"_s, path));
    QVERIFY(QFile::copy(from + u"/events.db.eventdesk"_s, desk));
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
    QFile::setPermissions(desk, QFile::ReadOwner | QFile::WriteOwner);

    // Every table's rows, by the columns it had.
    const auto rowsOf = [&desk](const QStringList &tables, const QHash<QString, QStringList> &columns) {
        sqlite3 *db = nullptr;
        sqlite3_open_v2(desk.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr);
        QHash<QString, QStringList> out;
        for (const QString &t : tables) {
            sqlite3_stmt *q = nullptr;
            const QString sql = u"SELECT %1 FROM %2 ORDER BY rowid"_s.arg(columns.value(t).join(u','), t);
            sqlite3_prepare_v2(db, sql.toUtf8().constData(), -1, &q, nullptr);
            while (sqlite3_step(q) == SQLITE_ROW) {
                QStringList row;
                for (int i = 0; i < sqlite3_column_count(q); ++i)
                    row.append(sqlite3_column_type(q, i) == SQLITE_NULL
                                   ? u"NULL"_s
                                   : QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(q, i))));
                out[t].append(row.join(u'|'));
            }
            sqlite3_finalize(q);
        }
        sqlite3_close(db);
        return out;
    };
    QStringList tables;
    QHash<QString, QStringList> columns;
    {
        sqlite3 *db = nullptr;
        sqlite3_open_v2(desk.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr);
        sqlite3_stmt *q = nullptr;
        sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'eventdesk%' ORDER BY name", -1, &q, nullptr);
        while (sqlite3_step(q) == SQLITE_ROW)
            tables.append(QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(q, 0))));
        sqlite3_finalize(q);
        for (const QString &t : tables) {
            sqlite3_prepare_v2(db, u"PRAGMA table_info(%1)"_s.arg(t).toUtf8().constData(), -1, &q, nullptr);
            while (sqlite3_step(q) == SQLITE_ROW)
                columns[t].append(QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(q, 1))));
            sqlite3_finalize(q);
        }
        sqlite3_close(db);
    }
    QHash<QString, QStringList> before = rowsOf(tables, columns);
    QCOMPARE(before.value(u"eventdesk_meta"_s).filter(u"schema_version|"_s), QStringList{u"schema_version|%1"_s.arg(version)});
    QVERIFY(before.value(u"eventdesk_rows"_s).size() > 100);

    SqliteOptions o;
    o.path = path;
    o.deskWritable = true;
    {
        SqliteEventStore store(o);
        const Result<bool> opened = store.openAndWait();
        QVERIFY2(opened.ok(), qPrintable(opened.ok() ? QString() : opened.error().message));
        DeskDatabase *d = store.desk();
        QVERIFY(d && !d->isReadOnly());
        const auto names = await(d->displayNames());
        QVERIFY(names->values().contains(u"Ravenmoor of old"_s));
        const auto challenges = await(d->challenges());
        QCOMPARE(challenges->size(), 1);
        QCOMPARE(challenges->first().name, u"Climb the sea wall"_s);
        QCOMPARE(challenges->first().difficulty, 14);
        const auto rules = await(WebhookBook(*d).rules());
        QCOMPARE(rules->size(), 1);
        QCOMPARE(rules->first().timeoutMs, 10000);  // the column step 4 added, its default
        QVERIFY(!await(d->auditLog(10))->isEmpty());
        // The row index answers a world's filter as a scan of the log does.
        const QString world = names->key(u"Ravenmoor of old"_s);
        EventQuery q;
        q.worlds = {world};
        q.limit = 1000;
        const auto indexed = await(store.fetchPage(q));
        QVERIFY(indexed.ok() && !indexed->isEmpty());
        for (const StoredEvent &e : indexed.value())
            QCOMPARE(e.worldId(), world);
        QCOMPARE(await(store.count(q)).value(), qint64(indexed->size()));
    }
    // Brought to the newest schema, nothing lost: the old columns of every old row as they were.
    QHash<QString, QStringList> after = rowsOf(tables, columns);
    const QString newest = u"schema_version|%1"_s.arg(DeskDatabase::SchemaVersion);
    QCOMPARE(after.value(u"eventdesk_meta"_s).filter(u"schema_version|"_s), QStringList{newest});
    before[u"eventdesk_meta"_s].removeIf([](const QString &r) { return r.startsWith(u"schema_version|"_s) || r.startsWith(u"index_"_s); });
    after[u"eventdesk_meta"_s].removeIf([](const QString &r) { return r.startsWith(u"schema_version|"_s) || r.startsWith(u"index_"_s); });
    for (const QString &t : tables) {
        if (t == u"eventdesk_cursors"_s || t == u"sqlite_sequence"_s)
            continue;  // the index's own progress and AUTOINCREMENT's counters move on by themselves
        QCOMPARE(after.value(t), before.value(t));
    }
    QVERIFY(!QFileInfo::exists(desk + u".before-schema-%1"_s.arg(DeskDatabase::SchemaVersion)));
}

// A damaged desk database is named as such (the window offers to move it
// aside); moved aside, it is kept byte for byte and a fresh one is made.
void TestSqliteEventStore::damagedDeskIsNamedAndMovedAside()
{
    const QString path = freshPath();
    {
        auto store = openStore(path);
        QVERIFY(await(store->append({test::sampleEvent(EventKind::StoryEventCreated, true)})).ok());
    }
    const QString desk = DeskDatabase::pathFor(path);
    const QByteArray garbage(4096, 'x');
    {
        QFile::remove(desk + u"-wal"_s);
        QFile::remove(desk + u"-shm"_s);
        QFile f(desk);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(garbage);
    }
    const QByteArray engineBefore = fileBytes(path);
    SqliteOptions o;
    o.path = path;
    {
        SqliteEventStore broken(o);
        const Result<bool> opened = broken.openAndWait();
        QVERIFY(!opened.ok());
        QCOMPARE(opened.error().field, u"desk"_s);
        QVERIFY2(opened.error().message.contains(u"move that file aside"_s), qPrintable(opened.error().message));
    }
    QCOMPARE(fileBytes(path), engineBefore);
    const Result<QString> aside = DeskDatabase::moveAside(desk);
    QVERIFY(aside.ok());
    QCOMPARE(fileBytes(aside.value()), garbage);
    QVERIFY(!QFileInfo::exists(desk));
    auto fresh = openStore(path);
    QVERIFY(fresh->desk());
    QCOMPARE(await(fresh->headId()).value(), 1);
}

void TestSqliteEventStore::challengesAndAudit()
{
    auto store = openStore(freshPath());
    const auto c = await(store->desk()->addChallenge(u"w1"_s, u"Pick the lock"_s, 15));
    QVERIFY(c.ok());
    QVERIFY(!await(store->desk()->addChallenge(u"w1"_s, u"Pick the lock"_s, 12)).ok());
    QVERIFY(!await(store->desk()->addChallenge(u"w1"_s, u"Lift the gate"_s, 99)).ok());
    QVERIFY(await(store->desk()->addChallenge(u"w2"_s, u"Pick the lock"_s, 10)).ok());
    QCOMPARE(await(store->desk()->challenges(u"w1"_s))->size(), 1);
    QCOMPARE(await(store->desk()->challenges())->size(), 2);
    Challenge changed = c.value();
    changed.difficulty = 18;
    QVERIFY(await(store->desk()->updateChallenge(changed)).ok());
    QCOMPARE(await(store->desk()->challenge(c->id)).value()->difficulty, 18);
    QVERIFY(!await(store->desk()->challenge(u"nope"_s)).value().has_value());

    QVERIFY(await(store->desk()->audit(u"dm"_s, u"replay"_s, u"ids 1-5 to 3 clients"_s)).ok());
    const auto log = await(store->desk()->auditLog(10));
    QCOMPARE(log->size(), 1);
    QCOMPARE(log->first().action, u"replay"_s);
}

QTEST_GUILESS_MAIN(TestSqliteEventStore)
#include "tst_sqliteeventstore.moc"
