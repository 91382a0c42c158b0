// Who writes the log and who follows it: appends committed on the producers'
// own threads (durable before the id comes back, ids dense and in each
// thread's order, a lock waited out), the file watch that folds a burst of
// writes into one wake, and another process's rows picked up while this
// process is writing the same file.
#include "BusNotifier.h"
#include "EventCodec.h"
#include "FileWatch.h"
#include "SampleEvents.h"
#include "SqliteEventStore.h"
#include "SqliteTestStore.h"
#include "Subscriber.h"
#include "TestSupport.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonObject>
#include <QScopeGuard>
#include <QSemaphore>
#include <QTimer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include <atomic>
#include <thread>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using test::await;

namespace {

// Whether row id is in the file, read by a connection of its own.
bool onDisk(const QString &path, qint64 id)
{
    sqlite3 *db = nullptr;
    sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st = nullptr;
    sqlite3_prepare_v2(db, "SELECT 1 FROM app_events WHERE id = ?1", -1, &st, nullptr);
    sqlite3_bind_int64(st, 1, id);
    const bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return found;
}

void appendTo(const QString &path, const QByteArray &bytes, int times)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::Append));
    for (int i = 0; i < times; ++i) {
        f.write(bytes);
        f.flush();  // one write(2) each
    }
}

// 500 events of about 1 KB each: a few hundred WAL pages a batch.
QList<AppEvent> bulkyBatch()
{
    QList<AppEvent> batch;
    for (int i = 0; i < 500; ++i) {
        AppEvent e = test::sampleEvent(EventKind::StoryEventCreated, true);
        e.setExtraFields(QJsonObject{{u"notes"_s, QString(1000, QChar(u'a' + i % 26))}});
        batch.append(e);
    }
    return batch;
}

qint64 size(const QString &file)
{
    return QFileInfo(file).size();
}

} // namespace

class TestStoreThreads : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_n = 0;
    QString freshPath() { return m_dir.filePath(u"db%1.sqlite"_s.arg(++m_n)); }
    std::unique_ptr<SqliteEventStore> openStore(const QString &path, int pollMs = 250)
    {
        SqliteOptions options;
        options.dataVersionPollMs = pollMs;
        return test::openSqliteStore(path, options);
    }

private Q_SLOTS:
    void fileWatchFoldsABurst();
    void fileWatchWithoutWrites();
    void fileWatchMissingAndHostilePaths();
    void producerThreadsCommitInline();
    void pendingAppendsAnnouncedOnRequest();
    void producerThreadWaitsOutALock();
    void anotherProcessWhileThisOneWrites();
    void checkpointsKeepTheWalShort();
    void checkpointWaitsOutAReader();
};

void TestStoreThreads::fileWatchFoldsABurst()
{
    const QString path = m_dir.filePath(u"burst.txt"_s);
    appendTo(path, "start\n", 1);
    int wakes = 0;
    FileWatch watch([&] { ++wakes; }, 2);
    QVERIFY(watch.isAvailable());
    QVERIFY(watch.watch(QFile::encodeName(path)));
    QVERIFY(watch.watch(QFile::encodeName(path)));  // twice: still one watch
    QCOMPARE(watch.count(), 1);
    // A thousand writes while the loop is busy: one wake.
    appendTo(path, "line\n", 1000);
    QTRY_COMPARE(wakes, 1);
    // After the quiet period the watch listens again (and had not woken meanwhile).
    appendTo(path, "one more\n", 1);
    QTRY_COMPARE(wakes, 2);
}

void TestStoreThreads::fileWatchWithoutWrites()
{
    const QString path = m_dir.filePath(u"quiet.txt"_s);
    appendTo(path, "start\n", 1);
    int wakes = 0;
    FileWatch watch([&] { ++wakes; }, 2);
    QVERIFY(watch.watch(QFile::encodeName(path)));
    watch.setWrites(false);
    QCOMPARE(watch.count(), 1);
    appendTo(path, "unreported\n", 50);
    // Deleting is still said; the file is dropped from the watch.
    QVERIFY(QFile::remove(path));
    QTRY_COMPARE(watch.count(), 0);
    QVERIFY(wakes >= 1);
    // Made anew and watched again, with writes: a write wakes it.
    appendTo(path, "again\n", 1);
    watch.setWrites(true);
    QVERIFY(watch.watch(QFile::encodeName(path)));
    const int before = wakes;
    appendTo(path, "seen\n", 1);
    QTRY_VERIFY(wakes > before);
}

void TestStoreThreads::fileWatchMissingAndHostilePaths()
{
    int wakes = 0;
    FileWatch watch([&] { ++wakes; }, 2);
    QVERIFY(!watch.watch({}));
    QVERIFY(!watch.watch(QFile::encodeName(m_dir.filePath(u"missing/nothing.db"_s))));
    QVERIFY(!watch.watch(QByteArray(5000, 'a')));  // longer than any path
    QVERIFY(!watch.watch("/proc/self/../../nonexistent\n"));
    const QString real = m_dir.filePath(u"real.txt"_s);
    appendTo(real, "x", 1);
    QVERIFY(!watch.watch(QFile::encodeName(real) + QByteArray("\0.other", 7)));  // would watch real.txt
    QCOMPARE(watch.count(), 0);
    QCOMPARE(wakes, 0);
}

// Appends from other threads are announced by one queued call with the latest
// id; a long piece of work on the notifier's thread may ask for it sooner
// (announcePending), and the queued call then announces nothing twice.
void TestStoreThreads::pendingAppendsAnnouncedOnRequest()
{
    BusNotifier notifier(0);
    QList<qint64> heads;
    connect(&notifier, &Notifier::eventsAvailable, &notifier, [&](qint64 head) { heads.append(head); });
    QVERIFY(!notifier.announcePending());  // nothing pending

    std::thread([&] {
        notifier.notifyAppended(5);
        notifier.notifyAppended(6);
    }).join();
    bool fromElsewhere = true;
    std::thread([&] { fromElsewhere = notifier.announcePending(); }).join();
    QVERIFY(!fromElsewhere);  // its receivers live on its own thread
    QVERIFY(heads.isEmpty());

    QVERIFY(notifier.announcePending());
    QCOMPARE(heads, QList<qint64>{6});
    QVERIFY(!notifier.announcePending());
    QCoreApplication::sendPostedEvents(&notifier);  // the queued call: already carried
    QCOMPARE(heads, QList<qint64>{6});

    // The next append is announced as before.
    std::thread([&] { notifier.notifyAppended(7); }).join();
    QCoreApplication::sendPostedEvents(&notifier);
    QCOMPARE(heads, (QList<qint64>{6, 7}));
    // And one on the notifier's own thread at once, whatever is pending.
    notifier.notifyAppended(8);
    QCOMPARE(heads, (QList<qint64>{6, 7, 8}));
}

// Four producer threads publish one at a time, waiting each time (committed on
// their own threads); the main thread's publishes are queued to the writer's
// thread meanwhile. Every id is on disk when it comes back; ids are dense,
// each thread's in its own order.
void TestStoreThreads::producerThreadsCommitInline()
{
    const QString path = freshPath();
    auto store = openStore(path);
    QVERIFY(store);
    BusNotifier notifier(0);
    StoreEventBus bus(*store, notifier);
    constexpr int Threads = 4, PerThread = 150, FromMain = 150;
    QList<QList<qint64>> ids(Threads);
    std::atomic<int> notOnDisk{0}, failed{0};
    std::vector<std::thread> producers;
    for (int t = 0; t < Threads; ++t) {
        producers.emplace_back([&, t] {
            for (int i = 0; i < PerThread; ++i) {
                QFuture<PublishResult> f = bus.publish(test::sampleEvent(EventKind::ChallengeResolved, i % 2, u"w%1"_s.arg(t)));
                f.waitForFinished();
                const PublishResult r = f.result();
                if (!r) {
                    ++failed;
                    continue;
                }
                ids[t].append(*r);
                if (i % 10 == 0 && !onDisk(path, *r))
                    ++notOnDisk;
            }
        });
    }
    QList<QFuture<PublishResult>> queued;
    for (int i = 0; i < FromMain; ++i)
        queued.append(bus.publish(test::sampleEvent(EventKind::StoryEventCreated, true, u"main"_s)));
    for (std::thread &p : producers)
        p.join();
    QList<qint64> all;
    for (QFuture<PublishResult> &f : queued) {
        const PublishResult r = await(f);
        QVERIFY(r.ok());
        all.append(*r);
    }
    QCOMPARE(failed.load(), 0);
    QCOMPARE(notOnDisk.load(), 0);
    for (const QList<qint64> &mine : ids) {
        QCOMPARE(mine.size(), PerThread);
        QVERIFY(std::is_sorted(mine.cbegin(), mine.cend()));
        all += mine;
    }
    std::sort(all.begin(), all.end());
    QCOMPARE(all.size(), Threads * PerThread + FromMain);
    for (qsizetype i = 0; i < all.size(); ++i)
        QCOMPARE(all.at(i), i + 1);
    QCOMPARE(await(store->headId()).value(), all.size());
}

// Another process holds the write lock: a producer thread's commit is not
// lost; it is queued and goes through once the lock is gone.
void TestStoreThreads::producerThreadWaitsOutALock()
{
    const QString path = freshPath();
    auto store = openStore(path);
    QVERIFY(store);
    QProcess *holder = test::startPython(
        u"import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN EXCLUSIVE'); "
        "print('locked', flush=True); time.sleep(0.8); c.execute('COMMIT')"_s,
        {path}, this);
    QVERIFY(holder->waitForReadyRead(10000));
    BatchPublishResult r(QList<qint64>{});
    std::thread producer([&] {
        QFuture<BatchPublishResult> f = store->append({test::sampleEvent(EventKind::StoryEventCreated, true)});
        f.waitForFinished();
        r = f.result();
    });
    producer.join();
    QVERIFY2(r.ok(), r.ok() ? "" : qPrintable(r.error().message));
    QCOMPARE(r->first(), 1);
    QVERIFY(onDisk(path, 1));
    QTRY_COMPARE_WITH_TIMEOUT(holder->state(), QProcess::NotRunning, 10000);
}

// While this process writes the file itself (its reader polls then, the
// kernel's write events turned off), a row another process adds is still
// seen, and seen again by the watch once this process has stopped writing.
// The fallback poll is ten minutes: only the watch or the polling can do it.
void TestStoreThreads::anotherProcessWhileThisOneWrites()
{
    const QString path = freshPath();
    auto store = openStore(path, 600000);
    QVERIFY(store);
    BusNotifier notifier(0);
    connect(store.get(), &SqliteEventStore::externalRowsDetected, &notifier, &BusNotifier::externalRowsDetected);
    StoreEventBus bus(*store, notifier);
    Subscriber sub(*store, notifier, {.name = u"follower"_s});
    QStringList worlds;
    connect(&sub, &Subscriber::eventsReceived, this, [&](const QList<StoredEvent> &batch) {
        for (const StoredEvent &e : batch)
            if (e.event)
                worlds.append(e.event->worldId());
    });
    QSignalSpy caughtUp(&sub, &Subscriber::caughtUp);
    sub.start();
    QTRY_COMPARE(caughtUp.size(), 1);

    // A game's pace, set by a timer here: fast enough to keep the reader
    // polling (a write each millisecond or two), slow enough that the other
    // process's busy handler gets the lock between commits.
    QSemaphore pace;
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    connect(&tick, &QTimer::timeout, this, [&pace] {
        if (pace.available() < 2)
            pace.release();
    });
    tick.start(1);
    std::atomic<bool> stop{false};
    std::atomic<int> published{0};
    std::thread writer([&] {
        while (!stop.load()) {
            if (!pace.tryAcquire(1, 50))
                continue;
            bus.publish(test::sampleEvent(EventKind::StoryEventCreated, true, u"ours"_s)).waitForFinished();
            ++published;
        }
    });
    const auto stopWriter = [&] {
        stop = true;
        if (writer.joinable())
            writer.join();
    };
    const auto joinOnFailure = qScopeGuard(stopWriter);
    QTRY_VERIFY(published.load() > 20);
    const auto insertExternal = [&](const QString &world) {
        const QByteArray line = codec::encode(test::sampleEvent(EventKind::ChallengeResolved, true, world));
        // BEGIN IMMEDIATE: a deferred transaction whose snapshot another
        // commit overtook would fail at once instead of waiting its turn.
        // Run while this loop turns, so that the pace keeps our writes coming.
        QProcess *p = test::startPython(u"import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None); "
                                        "c.execute('BEGIN IMMEDIATE'); "
                                        "c.execute('INSERT INTO app_events(event_type,payload,created_at) VALUES(?,?,?)', "
                                        "('ChallengeResolved', sys.argv[2], '2026-11-26T20:01:02.345Z')); c.execute('COMMIT')"_s,
                                        {path, QString::fromUtf8(line)}, this);
        if (!QTest::qWaitFor([p] { return p->state() == QProcess::NotRunning; }, 60000))
            return -1;
        return p->exitStatus() == QProcess::NormalExit ? p->exitCode() : -1;
    };
    QCOMPARE(insertExternal(u"theirs-while-writing"_s), 0);
    const int before = published.load();
    QTRY_VERIFY(published.load() > before + 20);  // still writing after it
    stopWriter();
    QTRY_VERIFY_WITH_TIMEOUT(worlds.contains(u"theirs-while-writing"_s), 5000);
    // Quiet now: the next row is the watch's to report.
    QTRY_COMPARE(int(worlds.count(u"ours"_s)), published.load());
    QCOMPARE(insertExternal(u"theirs-after"_s), 0);
    QTRY_VERIFY_WITH_TIMEOUT(worlds.contains(u"theirs-after"_s), 5000);
}

// In a file EventDesk made, checkpoints run on a thread of their own (not
// inside COMMIT): the rows reach the main file while the store is open, and
// the WAL starts over instead of growing with every commit.
void TestStoreThreads::checkpointsKeepTheWalShort()
{
    const QString path = freshPath();
    auto store = openStore(path);
    QVERIFY(store);
    const QList<AppEvent> batch = bulkyBatch();
    for (int round = 0; round < 40; ++round)  // 20,000 rows of ~1 KB, faster than the checkpoints
        QVERIFY(await(store->append(batch)).ok());
    // The rows reach the main file while the store is open (~10 MB of payloads).
    QTRY_VERIFY_WITH_TIMEOUT(size(path) > 8'000'000, 10000);
    // Once a checkpoint has copied everything, the next commit starts the WAL
    // over and cuts it back to 16 MB, however large the burst made it.
    const AppEvent small = test::sampleEvent(EventKind::StoryEventCreated, true);
    QTRY_VERIFY_WITH_TIMEOUT(await(store->append({small})).ok() && size(path + u"-wal"_s) <= 16 * 1024 * 1024, 10000);
}

// Another process reads an old snapshot while the rows come: checkpoints can
// copy none of them. Once it lets go, they are copied without another commit
// to ask (the checkpointer tries again, backing off, until the WAL is whole).
void TestStoreThreads::checkpointWaitsOutAReader()
{
    const QString path = freshPath();
    auto store = openStore(path);
    QVERIFY(store);
    QProcess *reader = test::startPython(
        u"import sqlite3,sys; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN'); "
        "c.execute('SELECT count(*) FROM app_events').fetchone(); print('reading', flush=True); "
        "sys.stdin.readline(); c.execute('COMMIT')"_s,
        {path}, this);
    QVERIFY(reader->waitForReadyRead(10000));
    const QList<AppEvent> batch = bulkyBatch();
    for (int round = 0; round < 10; ++round)  // 5,000 rows of ~1 KB
        QVERIFY(await(store->append(batch)).ok());
    QVERIFY2(size(path) < 1'000'000, qPrintable(u"%1 bytes copied past the reader's snapshot"_s.arg(size(path))));
    reader->write("done\n");
    reader->closeWriteChannel();
    QTRY_COMPARE_WITH_TIMEOUT(reader->state(), QProcess::NotRunning, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(size(path) > 4'000'000, 10000);  // no commit since
}

QTEST_GUILESS_MAIN(TestStoreThreads)
#include "tst_storethreads.moc"
