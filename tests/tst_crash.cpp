// Durability under SIGKILL: an `eventdesk publish` process is killed at random
// moments while it publishes. Every id it printed is on disk, the file passes
// integrity_check, ids only grow, and a subscriber resuming from its cursor sees
// each event exactly once. EVENTDESK_CRASH_KILLS sets the number of kills (50).
#include "BusNotifier.h"
#include "EventCodec.h"
#include "SampleEvents.h"
#include "SqliteEventStore.h"
#include "Subscriber.h"
#include "TestSupport.h"

#include <QProcess>
#include <QRandomGenerator>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>

#include <sqlite3.h>

using namespace Qt::StringLiterals;
using namespace eventdesk;

class TestCrash : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void killedPublisherLosesNothing();
};

void TestCrash::killedPublisherLosesNothing()
{
    const int kills = qEnvironmentVariableIntValue("EVENTDESK_CRASH_KILLS") > 0
        ? qEnvironmentVariableIntValue("EVENTDESK_CRASH_KILLS") : 50;
    QTemporaryDir dir;
    const QString path = dir.filePath(u"crash.db"_s);

    SqliteOptions options;
    options.path = path;
    SqliteEventStore store(options);
    QVERIFY(store.openAndWait().ok());
    BusNotifier notifier(0);
    connect(&store, &SqliteEventStore::externalRowsDetected, &notifier, &BusNotifier::externalRowsDetected);

    QList<qint64> seen;
    std::unique_ptr<Subscriber> watcher;
    const auto startWatcher = [&] {
        watcher = std::make_unique<Subscriber>(store, notifier, Subscriber::Options{.name = u"crash-watch"_s, .batchSize = 300});
        connect(watcher.get(), &Subscriber::eventsReceived, this, [&](const QList<StoredEvent> &batch) {
            for (const StoredEvent &e : batch)
                seen.append(e.id);
        });
        watcher->start();
    };
    startWatcher();

    // Enough input that the publisher is still busy when it is killed.
    QByteArray input;
    for (int i = 0; i < 4000; ++i)
        input += codec::encode(test::sampleEvent(test::allKinds().at(i % EventKindCount), i % 2 == 0)) + '\n';

    const int seed = qEnvironmentVariableIntValue("EVENTDESK_CRASH_SEED");
    QRandomGenerator rng(quint32(seed ? seed : 4242));
    QList<qint64> printed;
    qint64 lastMax = 0;
    int killedMidway = 0;
    for (int k = 0; k < kills; ++k) {
        QProcess publisher;
        publisher.start(QStringLiteral(EVENTDESK_BINARY), {u"publish"_s, u"--db"_s, path});
        QVERIFY(publisher.waitForStarted(10000));
        publisher.write(input);
        bool killed = false;
        QTimer::singleShot(int(rng.bounded(20, 400)), &publisher, [&] {
            killed = publisher.state() == QProcess::Running;
            publisher.kill();  // SIGKILL
        });
        QTRY_VERIFY_WITH_TIMEOUT(publisher.state() == QProcess::NotRunning, 60000);
        killedMidway += killed ? 1 : 0;

        const QByteArray out = publisher.readAllStandardOutput();
        const QList<QByteArray> lines = out.split('\n');
        // The last piece may be a half-written line: only whole lines count.
        for (qsizetype i = 0; i + 1 < lines.size(); ++i) {
            bool ok = false;
            const qint64 id = lines.at(i).toLongLong(&ok);
            QVERIFY2(ok, lines.at(i).constData());
            QVERIFY2(id > lastMax, "ids must only grow, across restarts too");
            lastMax = id;
            printed.append(id);
        }
        if (k % 10 == 9)
            startWatcher();  // a subscriber restarting resumes from its saved cursor
    }
    QVERIFY2(killedMidway >= kills / 2, qPrintable(u"only %1 of %2 kills hit a running publisher"_s.arg(killedMidway).arg(kills)));
    QVERIFY(!printed.isEmpty());

    // Every printed id is on disk, and the file is sound.
    sqlite3 *db = nullptr;
    QCOMPARE(sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt *st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
    QCOMPARE(sqlite3_step(st), SQLITE_ROW);
    QCOMPARE(QByteArray(reinterpret_cast<const char *>(sqlite3_column_text(st, 0))), QByteArray("ok"));
    sqlite3_finalize(st);
    QSet<qint64> onDisk;
    QList<qint64> order;
    sqlite3_prepare_v2(db, "SELECT id FROM app_events ORDER BY id", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
        onDisk.insert(sqlite3_column_int64(st, 0));
        order.append(sqlite3_column_int64(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    for (qint64 id : std::as_const(printed))
        QVERIFY2(onDisk.contains(id), qPrintable(u"published id %1 is missing"_s.arg(id)));

    // The subscriber saw each stored event once, in order.
    QTRY_COMPARE_WITH_TIMEOUT(seen.size() >= order.size() ? seen.mid(0, order.size()) : seen, order, 30000);
    QCOMPARE(seen.size(), order.size());
    qInfo("%d kills (%d mid-publish), %lld ids printed, %lld rows stored", kills, killedMidway,
          qlonglong(printed.size()), qlonglong(order.size()));
}

QTEST_GUILESS_MAIN(TestCrash)
#include "tst_crash.moc"
