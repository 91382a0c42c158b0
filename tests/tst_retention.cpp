// Retention: archive then delete in pages, keep unprocessed rows unless forced,
// a dry run that changes nothing, and an archive that reads back whole.
#include "Retention.h"
#include "Timestamp.h"
#include "RowFormat.h"
#include "SampleEvents.h"
#include "SqliteEventStore.h"
#include "TestSupport.h"

#include <QFile>
#include <QFutureWatcher>
#include <QTemporaryDir>

#include <sqlite3.h>

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
#include "tst_retention.moc"
