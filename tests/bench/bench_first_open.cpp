// Benchmark: the window's first open of a big engine database (5,000,000 rows;
// EVENTDESK_BENCH_QUICK=1 uses 200,000). The database is the engine's own
// (rollback journal, no EventDesk marks). Prints: window shown → newest page
// shown, event-loop lateness while the row index builds, the progress the
// status bar showed, a world filter before and after the index is complete
// (checked against the count known from writing), the index build rate and
// its bytes per row, and whether the engine's file is byte-identical after.
// Never fails on time; exits non-zero when the work did not happen.
#include "BenchSupport.h"
#include "BusNotifier.h"
#include "EventLogModel.h"
#include "MainWindow.h"
#include "Retention.h"
#include "SqliteEventStore.h"

#include <QApplication>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <sqlite3.h>

#include <cstdio>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using namespace eventdesk::bench;

namespace {

constexpr int Worlds = 20;

QByteArray uuid(int kind, qint64 n)
{
    return QByteArray::number(kind).rightJustified(8, '0') + "-0000-4000-8000-" + QByteArray::number(n).rightJustified(12, '0');
}

// Rows like the engine's own: its payload JSON, "+00:00" times with milliseconds.
// Returns how many rows have world 6.
qint64 writeEngineDatabase(const QString &path, int rows)
{
    sqlite3 *db = nullptr;
    sqlite3_open(QFile::encodeName(path).constData(), &db);
    sqlite3_exec(db, "PRAGMA journal_mode=delete; PRAGMA synchronous=OFF; CREATE TABLE app_events (id INTEGER PRIMARY KEY "
                     "AUTOINCREMENT, event_type TEXT NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL, processed "
                     "INTEGER NOT NULL DEFAULT 0, processed_at TEXT); BEGIN",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt *insert = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO app_events(event_type, payload, created_at) VALUES(?1, ?2, ?3)", -1, &insert, nullptr);
    const qint64 start = QDateTime(QDate(2026, 1, 1), QTime(0, 0), Qt::UTC).toMSecsSinceEpoch();
    qint64 seven = 0;
    for (int i = 0; i < rows; ++i) {
        const int w = i % Worlds;
        seven += w == 6 ? 1 : 0;  // world 6 falls on NarrativeEventTriggered rows
        const QByteArray world = uuid(1, w);
        QByteArray type, payload;
        switch (i % 4) {
        case 0:
            type = "StoryEventCreated";
            payload = R"({"type":"StoryEventCreated","story_event_id":")" + uuid(2, i) + R"(","world_id":")" + world
                + R"(","event_type":"dialogue"})";
            break;
        case 1:
            type = "ChallengeResolved";
            payload = R"({"type":"ChallengeResolved","challenge_id":null,"challenge_name":"Pick the lock","world_id":")"
                + world + R"(","character_id":")" + uuid(3, i % 6) + R"(","success":true,"roll":12,"total":15,"modifier":null})";
            break;
        case 2:
            type = "NarrativeEventTriggered";
            payload = R"({"type":"NarrativeEventTriggered","event_id":")" + uuid(4, i) + R"(","world_id":")" + world
                + R"(","event_name":"The bridge gives way","outcome_text":null})";
            break;
        default:
            type = "GenerationBatchProgress";
            payload = R"({"type":"GenerationBatchProgress","batch_id":")" + uuid(5, i / 100) + R"(","progress":)"
                + QByteArray::number(i % 101) + R"(,"message":null})";
            break;
        }
        const QByteArray at = QDateTime::fromMSecsSinceEpoch(start + qint64(i) * 1500, Qt::UTC)
                                  .toString(u"yyyy-MM-ddTHH:mm:ss.zzz"_s).toUtf8() + "+00:00";
        sqlite3_bind_text(insert, 1, type.constData(), int(type.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 2, payload.constData(), int(payload.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 3, at.constData(), int(at.size()), SQLITE_TRANSIENT);
        sqlite3_step(insert);
        sqlite3_reset(insert);
        if (i % 200000 == 199999)
            sqlite3_exec(db, "COMMIT; BEGIN", nullptr, nullptr, nullptr);
    }
    sqlite3_finalize(insert);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return seven;
}

QByteArray sha256(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(&f);
    return h.result().toHex();
}

bool waitFor(const std::function<bool()> &done, int ms)
{
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < ms)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 2);
    return done();
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QLoggingCategory::setFilterRules(u"eventdesk.*.info=false"_s);
    const bool quick = qEnvironmentVariableIntValue("EVENTDESK_BENCH_QUICK") != 0;
    const int rows = quick ? 200000 : 5000000;
    QTemporaryDir dir;
    const QString path = dir.filePath(u"engine.db"_s);
    QElapsedTimer t;
    t.start();
    const qint64 worldSeven = writeEngineDatabase(path, rows);
    std::printf("first open of an engine database: %d rows (%.0f MB, rollback journal) written in %.1f s\n", rows,
                double(QFileInfo(path).size()) / 1e6, double(t.elapsed()) / 1000.0);
    const QByteArray before = sha256(path);

    int failures = 0;
    {
        SqliteOptions o;
        o.path = path;
        t.restart();
        SqliteEventStore store(o);
        if (!store.openAndWait()) {
            std::printf("cannot open the database\n");
            return 1;
        }
        const qint64 openMs = t.elapsed();
        BusNotifier notifier(0);
        StoreEventBus bus(store, notifier);
        LogRetention retention(store);
        QElapsedTimer buildClock;
        qint64 doneAt = -1;
        QList<int> percents;
        QObject::connect(&store, &LogWatch::indexProgress, &store, [&](qint64 done, qint64 head) {
            if (head > 0)
                percents.append(int(done * 100 / head));
            if (done >= head && doneAt < 0)
                doneAt = buildClock.elapsed();
        });
        MainWindow window(MainWindowDeps{store, bus, notifier, store.desk(), &store, &retention, nullptr, path});
        window.resize(1280, 800);
        buildClock.start();
        store.startIndexing();
        window.show();
        if (!QTest::qWaitForWindowExposed(&window))
            ++failures;
        t.restart();
        waitFor([&] { return window.model()->rowCount() > 0; }, 60000);
        const qint64 firstPageMs = t.elapsed();
        std::printf("open the store: %lld ms; window shown → newest page shown: %lld ms (goal <= 300)\n",
                    qlonglong(openMs), qlonglong(firstPageMs));
        const bool newest = window.model()->rowCount() > 0
            && window.model()->eventAt(window.model()->rowCount() - 1)->id == rows;
        if (!newest)
            ++failures;

        // Event-loop lateness while the index builds; a filter meanwhile.
        LatenessProbe probe;
        probe.start();
        QString statusSeen;
        EventQuery seven;
        seven.worlds = {QString::fromLatin1(uuid(1, 6))};
        std::optional<qint64> earlyCount;
        qint64 earlyMs = 0;
        bool earlyDuring = false;
        QElapsedTimer filterClock;
        filterClock.start();
        store.count(seven).then(&window, [&](const Result<qint64> &r) {
            earlyMs = filterClock.elapsed();
            earlyDuring = doneAt < 0;
            if (r)
                earlyCount = r.value();
        });
        waitFor([&] {
            if (window.indexLabel()->isVisible() && statusSeen.isEmpty())
                statusSeen = window.indexLabel()->text();
            return doneAt >= 0 && earlyCount.has_value();
        }, quick ? 120000 : 900000);
        probe.stop();
        if (doneAt < 0) {
            std::printf("the index did not complete\n");
            return 1;
        }
        std::printf("event loop lateness while the index built: p50 %.1f ms, p99 %.1f ms, max %.1f ms (goal p99 <= 50)\n",
                    probe.percentile(0.5), probe.percentile(0.99), probe.percentile(1.0));
        std::printf("progress: %lld updates, status bar showed \"%s\"\n", qlonglong(percents.size()),
                    qPrintable(statusSeen.isEmpty() ? u"(too quick to see)"_s : statusSeen));
        std::printf("world filter count %s the index was complete: %lld ms, %s (expected %lld)\n",
                    earlyDuring ? "before" : "after", qlonglong(earlyMs), earlyCount == worldSeven ? "right" : "WRONG",
                    qlonglong(worldSeven));
        if (earlyCount != worldSeven)
            ++failures;
        filterClock.restart();
        const Result<qint64> late = wait(store.count(seven));
        const qint64 lateCountMs = filterClock.elapsed();
        EventQuery page = seven;
        page.newestFirst = true;
        page.limit = 200;
        filterClock.restart();
        const auto pageRows = wait(store.fetchPage(page));
        std::printf("after: world filter count %lld ms (%s), its newest page of 200 %lld ms\n", qlonglong(lateCountMs),
                    late && late.value() == worldSeven ? "right" : "WRONG", qlonglong(filterClock.elapsed()));
        if (!late || late.value() != worldSeven || !pageRows || pageRows->size() != 200)
            ++failures;
        std::printf("index build: %.1f s, %.0f rows/s\n", double(doneAt) / 1000.0, double(rows) * 1000.0 / double(std::max<qint64>(1, doneAt)));
        window.close();
    }
    // The desk checkpoints its WAL when closed: its file is the index now.
    const qint64 deskBytes = QFileInfo(path + u".eventdesk"_s).size() + QFileInfo(path + u".eventdesk-wal"_s).size();
    std::printf("EventDesk's own database: %.1f MB, %.1f bytes per row (goal <= 64)\n", double(deskBytes) / 1e6,
                double(deskBytes) / double(rows));
    const bool same = sha256(path) == before;
    std::printf("engine file byte-identical after the window closed: %s\n", same ? "yes" : "NO");
    if (!same)
        ++failures;
    return failures ? 1 : 0;
}
