// Retention: archive then delete in pages, keep unprocessed rows unless forced,
// a dry run that changes nothing, and an archive that reads back whole.
#include "Retention.h"
#include "Timestamp.h"
#include "RowFormat.h"
#include "SampleEvents.h"
#include "SqliteEventStore.h"
#include "TestSupport.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QFutureWatcher>
#include <QTemporaryDir>

#include <sqlite3.h>

#include <csignal>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using test::await;

class TestRetention : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<SqliteEventStore> m_store;

    // 2,500 old rows (every 4th unprocessed), then 10 recent ones.
    void fill()
    {
        SqliteOptions options;
        options.path = m_dir.filePath(u"r%1.db"_s.arg(QDateTime::currentMSecsSinceEpoch()));
        m_store = std::make_unique<SqliteEventStore>(options);
        QVERIFY(m_store->openAndWait().ok());
        QList<AppEvent> batch;
        for (int i = 0; i < 2510; ++i)
            batch.append(test::sampleEvent(test::allKinds().at(i % EventKindCount), true));
        QVERIFY(await(m_store->append(batch)).ok());
        sqlite3 *db = nullptr;
        sqlite3_open(options.path.toUtf8().constData(), &db);
        sqlite3_busy_timeout(db, 5000);
        sqlite3_exec(db, "UPDATE app_events SET created_at = '2026-01-01T00:00:00.000Z', processed = (id % 4 != 0) WHERE id <= 2500",
                     nullptr, nullptr, nullptr);
        sqlite3_close(db);
    }

private Q_SLOTS:
    void dryRunChangesNothing();
    void archivesThenDeletesInPages();
    void forceTakesUnprocessedToo();
    void archiveThatExistsIsRefused();
    void cancelWhileArchivingLeavesNothing();
    void engineLogAgeAloneAndInstants();
    void killedAnywhereLosesNothing();
};

// The engine never marks a row processed and stamps rows with "+00:00" and up
// to nine fraction digits: age alone decides, and the cutoff is an instant.
void TestRetention::engineLogAgeAloneAndInstants()
{
    SqliteOptions options;
    options.path = m_dir.filePath(u"engine.db"_s);
    m_store = std::make_unique<SqliteEventStore>(options);
    QVERIFY(m_store->openAndWait().ok());
    QVERIFY(await(m_store->append({test::sampleEvent(EventKind::StoryEventCreated, true), test::sampleEvent(EventKind::StoryEventCreated, true),
                                   test::sampleEvent(EventKind::StoryEventCreated, true), test::sampleEvent(EventKind::StoryEventCreated, true)}))
                .ok());
    sqlite3 *db = nullptr;
    sqlite3_open(options.path.toUtf8().constData(), &db);
    sqlite3_busy_timeout(db, 5000);
    // Cutoff 2026-06-01T00:00:00Z. Rows 1 and 2 are before it (2 only as an
    // instant: its text sorts after the cutoff), 3 is exactly at it, 4 after.
    sqlite3_exec(db, "UPDATE app_events SET created_at = CASE id "
                     "WHEN 1 THEN '2026-05-31T23:59:59.999999999+00:00' "
                     "WHEN 2 THEN '2026-06-01T01:59:59.5+02:00' "
                     "WHEN 3 THEN '2026-06-01T00:00:00+00:00' "
                     "ELSE '2026-06-01T00:00:00.000000001Z' END",
                 nullptr, nullptr, nullptr);
    sqlite3_close(db);
    PruneOptions o;
    o.cutoff = QDateTime(QDate(2026, 6, 1), QTime(0, 0), Qt::UTC);
    o.dryRun = true;
    auto r = await(prune(*m_store, o));
    QVERIFY(r.ok());
    QVERIFY(r->ageAlone);
    QCOMPARE(r->matched, 2);
    QCOMPARE(r->keptUnprocessed, 0);
    o.dryRun = false;
    o.archivePath = m_dir.filePath(u"engine.jsonl.gz"_s);
    r = await(prune(*m_store, o));
    QVERIFY(r.ok());
    QCOMPARE(r->deleted, 2);
    QCOMPARE(r->firstId, 1);
    QCOMPARE(r->lastId, 2);
    QCOMPARE(await(m_store->count({})).value(), 2);
    // Once a row is marked processed, unprocessed rows are kept again.
    QVERIFY(await(m_store->markProcessed({4}, true)).ok());
    o.cutoff = QDateTime(QDate(2027, 1, 1), QTime(0, 0), Qt::UTC);
    o.dryRun = true;
    r = await(prune(*m_store, o));
    QVERIFY(r.ok());
    QVERIFY(!r->ageAlone);
    QCOMPARE(r->keptUnprocessed, 1);
}

void TestRetention::dryRunChangesNothing()
{
    fill();
    PruneOptions o;
    o.cutoff = QDateTime(QDate(2026, 6, 1), QTime(0, 0), Qt::UTC);
    o.dryRun = true;
    const auto r = await(prune(*m_store, o));
    QVERIFY(r.ok());
    QCOMPARE(r->matched, 2500);
    QCOMPARE(r->keptUnprocessed, 625);
    QCOMPARE(r->deleted, 0);
    QCOMPARE(await(m_store->count({})).value(), 2510);
}

void TestRetention::archivesThenDeletesInPages()
{
    fill();
    PruneOptions o;
    o.cutoff = QDateTime(QDate(2026, 6, 1), QTime(0, 0), Qt::UTC);
    o.archivePath = m_dir.filePath(u"a1.jsonl.gz"_s);
    // What should go: processed rows older than the cutoff, as the export form.
    EventQuery old;
    old.createdTo = timestamp::nanos(o.cutoff);
    old.limit = 100000;
    QList<QByteArray> expected;
    for (const StoredEvent &e : await(m_store->fetchPage(old)).value())
        if (e.processed)
            expected.append(rows::toJsonLine(e));
    QCOMPARE(expected.size(), 1875);
    const auto r = await(prune(*m_store, o));
    QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
    QCOMPARE(r->deleted, 1875);
    QCOMPARE(r->transactions, 2);  // pages of at most 1,000
    QCOMPARE(await(m_store->count({})).value(), 2510 - 1875);
    QVERIFY(!QFile::exists(o.archivePath + u".part"_s));  // written under a temporary name, then renamed

    // The archive is gzip (not plain text that gzread would also accept) and
    // holds exactly the rows that were deleted, row for row.
    QFile archive(o.archivePath);
    QVERIFY(archive.open(QIODevice::ReadOnly));
    QCOMPARE(archive.read(2), QByteArray("\x1f\x8b"));
    const auto lines = readArchive(o.archivePath);
    QVERIFY(lines.ok());
    QCOMPARE(lines.value(), expected);
    for (const QByteArray &line : lines.value())
        QVERIFY(rows::eventFromImportLine(line).ok());
    // Every unprocessed row stayed.
    EventQuery q;
    q.createdTo = timestamp::nanos(o.cutoff);
    for (const StoredEvent &e : await(m_store->fetchPage(q)).value())
        QVERIFY(!e.processed);
    const auto audit = await(m_store->desk()->auditLog(5));
    QCOMPARE(audit->first().action, u"prune"_s);
    QVERIFY(audit->first().detail.contains(u"1875"_s));
}

void TestRetention::forceTakesUnprocessedToo()
{
    fill();
    PruneOptions o;
    o.cutoff = QDateTime(QDate(2026, 6, 1), QTime(0, 0), Qt::UTC);
    o.includeUnprocessed = true;
    o.pageSize = 500;
    o.archivePath = m_dir.filePath(u"a2.jsonl.gz"_s);
    const auto r = await(prune(*m_store, o));
    QVERIFY(r.ok());
    QCOMPARE(r->deleted, 2500);
    QCOMPARE(r->transactions, 5);
    QCOMPARE(await(m_store->count({})).value(), 10);
}

void TestRetention::archiveThatExistsIsRefused()
{
    fill();
    const QString path = m_dir.filePath(u"taken.jsonl.gz"_s);
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("precious");
    f.close();
    PruneOptions o;
    o.cutoff = QDateTime(QDate(2026, 6, 1), QTime(0, 0), Qt::UTC);
    o.archivePath = path;
    const auto r = await(prune(*m_store, o));
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.contains(u"cannot create the archive"_s));
    QCOMPARE(await(m_store->count({})).value(), 2510);  // nothing deleted without its archive
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("precious"));
}

// Cancelled while the archive is written (the first phase): the log is as it
// was, and neither the archive nor its temporary file is left. The future
// reports progress as it goes.
void TestRetention::cancelWhileArchivingLeavesNothing()
{
    fill();
    const qint64 before = await(m_store->count({})).value();
    PruneOptions o;
    o.cutoff = QDateTime(QDate(2026, 6, 1), QTime(0, 0), Qt::UTC);
    o.archivePath = m_dir.filePath(u"cancelled.jsonl.gz"_s);
    o.pageSize = 1;  // a page a row: the cancel lands between two of them
    o.cancel = std::make_shared<std::atomic<bool>>(false);
    QFuture<Result<PruneReport>> running = prune(*m_store, o);
    QFutureWatcher<Result<PruneReport>> watcher;
    QObject::connect(&watcher, &QFutureWatcherBase::progressValueChanged, &watcher, [cancel = o.cancel](int archived) {
        if (archived >= 10)
            cancel->store(true);  // as the window's Cancel does
    });
    watcher.setFuture(running);
    const auto r = await(running);
    QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
    QVERIFY(r->cancelled);
    QCOMPARE(r->deleted, 0);
    QCOMPARE(await(m_store->count({})).value(), before);
    QVERIFY(!QFile::exists(o.archivePath));
    QVERIFY(!QFile::exists(o.archivePath + u".part"_s));
    QVERIFY(running.progressMaximum() >= 2 * 1875);  // archived, then deleted: each row counts twice

    // Not cancelled, the same prune runs to its end.
    o.cancel->store(false);
    o.pageSize = 1000;
    const auto whole = await(prune(*m_store, o));
    QVERIFY(whole.ok() && !whole->cancelled);
    QCOMPARE(whole->deleted, 1875);
}

QTEST_GUILESS_MAIN(TestRetention)
// eventdesk prune SIGKILLed at random points of its archive phase and of its
// delete phase, 24 times, each kill followed by a normal run: every event is
// then in exactly one archive or still in the log, no .part is left, and both
// databases pass integrity_check.
void TestRetention::killedAnywhereLosesNothing()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"table.db"_s);
    {
        SqliteOptions options;
        options.path = path;
        SqliteEventStore store(options);
        QVERIFY(store.openAndWait().ok());
    }
    sqlite3 *db = nullptr;
    QCOMPARE(sqlite3_open(path.toUtf8().constData(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    QSet<qint64> written;
    const auto addOldRows = [&](int n) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
        sqlite3_stmt *st = nullptr;
        sqlite3_prepare_v2(db, "INSERT INTO app_events(event_type, payload, created_at) VALUES('StoryEventCreated', ?, "
                               "'2025-01-01T00:00:00.000Z')", -1, &st, nullptr);
        for (int i = 0; i < n; ++i) {
            const QByteArray payload = R"({"type":"StoryEventCreated","story_event_id":"s)" + QByteArray::number(i)
                + R"(","world_id":"w1","event_type":"dialogue"})";
            sqlite3_bind_text(st, 1, payload.constData(), int(payload.size()), SQLITE_TRANSIENT);
            sqlite3_step(st);
            sqlite3_reset(st);
            written.insert(sqlite3_last_insert_rowid(db));
        }
        sqlite3_finalize(st);
        QCOMPARE(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    };
    const QStringList prune = {u"prune"_s, u"--db"_s, path, u"--older-than"_s, u"30d"_s, u"--quiet"_s};
    const auto files = [&dir](const QString &pattern) { return QDir(dir.path()).entryList({pattern}, QDir::Files); };
    int killedArchiving = 0, killedDeleting = 0, resumed = 0;
    for (int run = 0; run < 24; ++run) {
        addOldRows(20000);
        // Even runs die while the archive is written, odd ones while its rows are deleted.
        const bool inDeletes = run % 2 == 1;
        const QStringList before = files(u"*.jsonl.gz"_s);
        QProcess p;
        p.start(QStringLiteral(EVENTDESK_BINARY), prune);
        QVERIFY(p.waitForStarted());
        const auto phaseReached = [&] {
            if (!inDeletes)
                return !files(u"*.part"_s).isEmpty();
            return files(u"*.jsonl.gz"_s).size() > before.size();
        };
        const auto running = [&p] { return p.state() != QProcess::NotRunning; };
        (void)QTest::qWaitFor([&] { return !running() || phaseReached(); }, 30000);
        if (running()) {
            // Then a random moment into that phase (or the end, should it come first).
            QElapsedTimer into;
            into.start();
            const qint64 at = QRandomGenerator::global()->bounded(inDeletes ? 15 : 10);  // each look may come 10 ms late
            (void)QTest::qWaitFor([&] { return !running() || into.elapsed() >= at; }, 1000);
            if (running()) {
                ::kill(pid_t(p.processId()), SIGKILL);
                ++(inDeletes ? killedDeleting : killedArchiving);
            }
        }
        QVERIFY(!running() || p.waitForFinished(30000));
        QProcess again;
        again.start(QStringLiteral(EVENTDESK_BINARY), prune);
        QVERIFY(again.waitForFinished(60000));
        const QByteArray out = again.readAllStandardOutput();
        QVERIFY2(again.exitCode() == 0, again.readAllStandardError().constData());
        resumed += out.contains("interrupted prune");
        QVERIFY2(files(u"*.part"_s).isEmpty(), qPrintable(files(u"*.part"_s).join(u' ')));
    }
    qInfo("killed %d times while archiving and %d while deleting; %d runs finished an interrupted prune",
          killedArchiving, killedDeleting, resumed);
    QVERIFY(killedArchiving >= 6 && killedDeleting >= 6);

    // Every event in exactly one place.
    QHash<qint64, int> seen;
    for (const QString &name : files(u"*.jsonl.gz"_s)) {
        const auto lines = readArchive(dir.filePath(name));
        QVERIFY(lines.ok());
        for (const QByteArray &line : lines.value())
            ++seen[QJsonDocument::fromJson(line).object().value(u"id"_s).toInteger()];
    }
    sqlite3_stmt *st = nullptr;
    sqlite3_prepare_v2(db, "SELECT id FROM app_events", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW)
        ++seen[sqlite3_column_int64(st, 0)];
    sqlite3_finalize(st);
    qint64 twice = 0, lost = 0;
    for (qint64 id : std::as_const(written)) {
        const int n = seen.value(id);
        twice += n > 1;
        lost += n == 0;
    }
    QCOMPARE(twice, 0);
    QCOMPARE(lost, 0);
    QCOMPARE(qint64(seen.size()), qint64(written.size()));
    const auto integrity = [](const QString &file) {
        sqlite3 *c = nullptr;
        sqlite3_open_v2(file.toUtf8().constData(), &c, SQLITE_OPEN_READONLY, nullptr);
        sqlite3_stmt *q = nullptr;
        sqlite3_prepare_v2(c, "PRAGMA integrity_check", -1, &q, nullptr);
        QString out;
        if (sqlite3_step(q) == SQLITE_ROW)
            out = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(q, 0)));
        sqlite3_finalize(q);
        sqlite3_close(c);
        return out;
    };
    sqlite3_close(db);
    QCOMPARE(integrity(path), u"ok"_s);
    QCOMPARE(integrity(path + u".eventdesk"_s), u"ok"_s);
}

#include "tst_retention.moc"
