// The live tail: rows this process's writer just committed answer a
// subscriber's "what follows my cursor" at once, exactly as the reader would
// have, and step aside for the reader whenever it may know better (a gap,
// another process's rows, rows marked or pruned here, time passing).
#include "RecentRows.h"
#include "SampleEvents.h"
#include "SqliteEventStore.h"
#include "SqliteTestStore.h"
#include "TestSupport.h"

#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using test::await;

namespace {

QList<qint64> idsOf(const QList<StoredEvent> &rows)
{
    QList<qint64> out;
    for (const StoredEvent &r : rows)
        out.append(r.id);
    return out;
}

std::vector<RecentRows::Row> run(qint64 first, qint64 last)
{
    std::vector<RecentRows::Row> rows;
    for (qint64 id = first; id <= last; ++id)
        rows.push_back({id, "StoryEventCreated", R"({"type":"StoryEventCreated","story_event_id":"s","world_id":"w1","kind":"k"})",
                        "2026-11-28T12:00:00.000Z"});
    return rows;
}

// A row inserted by another connection, as the engine would.
void insertElsewhere(const QString &path)
{
    sqlite3 *db = nullptr;
    QCOMPARE(sqlite3_open(path.toUtf8().constData(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const int rc = sqlite3_exec(db,
                                "INSERT INTO app_events(event_type, payload, created_at) VALUES('StoryEventCreated', "
                                "'{\"type\":\"StoryEventCreated\",\"story_event_id\":\"x\",\"world_id\":\"w9\",\"kind\":\"k\"}', "
                                "'2026-11-28T12:00:00.000Z')",
                                nullptr, nullptr, nullptr);
    sqlite3_close(db);
    QCOMPARE(rc, SQLITE_OK);
}

} // namespace

class TestRecentRows : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_n = 0;
    QString freshPath() { return m_dir.filePath(u"tail%1.sqlite"_s.arg(++m_n)); }

private Q_SLOTS:
    // The cache alone: a run of ids, what lies strictly inside it, nothing else.
    void answersOnlyInsideItsRun()
    {
        RecentRows recent;
        std::optional<qint64> others = 1;  // the writer connection's data_version, as the store asks it
        const auto probe = [&] { return others; };
        QVERIFY(!recent.since(0, 10, probe));  // empty
        recent.add(run(5, 9), 1);
        QCOMPARE(idsOf(*recent.since(4, 100, probe)), (QList<qint64>{5, 6, 7, 8, 9}));
        QCOMPARE(idsOf(*recent.since(6, 2, probe)), (QList<qint64>{7, 8}));
        QVERIFY(!recent.since(3, 10, probe));   // row 4 is not known here
        QVERIFY(!recent.since(9, 10, probe));   // past the newest: the reader may know more
        QVERIFY(!recent.since(-1, 10, probe));
        QVERIFY(!recent.since(std::numeric_limits<qint64>::max(), 10, probe));
        QVERIFY(!recent.since(6, 0, probe));
        // A commit that does not follow on (another process's rows between) starts over.
        recent.add(run(12, 13), 1);
        QVERIFY(!recent.since(8, 10, probe));
        QCOMPARE(idsOf(*recent.since(11, 10, probe)), (QList<qint64>{12, 13}));
        // Bounded: the oldest go first.
        recent.add(run(14, 14 + qint64(RecentRows::MaxRows) + 10), 1);
        QVERIFY(!recent.since(11, 10, probe));
        QVERIFY(recent.since(14 + 20, 1, probe));
        recent.clear();
        QVERIFY(!recent.since(14 + 20, 1, probe));
        // The writer busy: the reader answers, and the rows stay for later.
        recent.add(run(100, 102), 1);
        others = std::nullopt;
        QVERIFY(!recent.since(99, 10, probe));
        others = 1;
        QCOMPARE(idsOf(*recent.since(99, 10, probe)), (QList<qint64>{100, 101, 102}));
        // Another process committed since: the rows are let go.
        others = 2;
        QVERIFY(!recent.since(99, 10, probe));
        QVERIFY(!recent.since(99, 10, [] { return std::optional<qint64>(1); }));
        // A commit after another process's (the version moved between commits) starts over too.
        recent.add(run(103, 104), 2);
        recent.add(run(105, 105), 3);
        others = 3;
        QVERIFY(!recent.since(102, 10, probe));
        QCOMPARE(idsOf(*recent.since(104, 10, probe)), QList<qint64>{105});
    }

    // What the tail answers is what the reader answers, field by field.
    void freshRowsAnswerAsTheReaderWould()
    {
        const QString path = freshPath();
        auto store = test::openSqliteStore(path);
        QVERIFY(store);
        QVERIFY(await(store->fetchSince(0, 10)).value().isEmpty());  // a subscriber follows from here on
        QList<AppEvent> events;
        for (EventKind k : test::allKinds())
            events.append(test::sampleEvent(k, true));
        const BatchPublishResult ids = await(store->append(events));
        QVERIFY(ids.ok());
        QFuture<Result<QList<StoredEvent>>> fresh = store->fetchSince(0, 1000);
        QVERIFY(fresh.isFinished());  // no turn of the reader's thread
        const QList<StoredEvent> tail = fresh.result().value();
        EventQuery all;
        all.limit = 1000;
        const QList<StoredEvent> truth = await(store->fetchPage(all)).value();
        QCOMPARE(tail.size(), truth.size());
        for (qsizetype i = 0; i < tail.size(); ++i) {
            QCOMPARE(tail[i].id, truth[i].id);
            QCOMPARE(tail[i].eventType, truth[i].eventType);
            QCOMPARE(tail[i].payload, truth[i].payload);
            QCOMPARE(tail[i].createdAtText, truth[i].createdAtText);
            QCOMPARE(tail[i].createdAt, truth[i].createdAt);
            QCOMPARE(tail[i].processed, truth[i].processed);
            QCOMPARE(tail[i].processedAt, truth[i].processedAt);
            QCOMPARE(tail[i].event, truth[i].event);
        }
        QCOMPARE(idsOf(await(store->fetchSince(2, 2)).value()), (QList<qint64>{3, 4}));
        // At the head, the reader answers (another process may have written more).
        QVERIFY(await(store->fetchSince(ids->last(), 10)).value().isEmpty());
    }

    // Rows marked here are read again; rows another process put between
    // this one's commits are read from the file; and after a while, all are.
    void stepsAsideForTheReader()
    {
        const QString path = freshPath();
        auto store = test::openSqliteStore(path);
        QVERIFY(store);
        QVERIFY(await(store->fetchSince(0, 10)).value().isEmpty());
        QVERIFY(await(store->append({test::sampleEvent(EventKind::StoryEventCreated, true),
                                     test::sampleEvent(EventKind::ChallengeResolved, true)})).ok());
        QCOMPARE(await(store->markProcessed({2}, true)).value(), 1);
        const QList<StoredEvent> marked = await(store->fetchSince(0, 10)).value();
        QCOMPARE(idsOf(marked), (QList<qint64>{1, 2}));
        QVERIFY(marked[1].processed);
        QVERIFY(marked[1].processedAt.isValid());

        insertElsewhere(path);  // id 3
        QCOMPARE(await(store->append({test::sampleEvent(EventKind::StoryEventCreated, true)})).value(), QList<qint64>{4});
        QCOMPARE(idsOf(await(store->fetchSince(2, 10)).value()), (QList<qint64>{3, 4}));
        QFuture<Result<QList<StoredEvent>>> after3 = store->fetchSince(3, 10);
        QVERIFY(after3.isFinished());  // 4 is this process's, just committed
        QCOMPARE(idsOf(after3.result().value()), QList<qint64>{4});
        // Another process deletes it (the engine pruning): gone at once.
        sqlite3 *db = nullptr;
        QCOMPARE(sqlite3_open(path.toUtf8().constData(), &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        QCOMPARE(sqlite3_exec(db, "DELETE FROM app_events WHERE id = 4", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
        QVERIFY(await(store->fetchSince(3, 10)).value().isEmpty());
        const qint64 next = await(store->append({test::sampleEvent(EventKind::StoryEventCreated, true)})).value().first();
        QVERIFY(next > 4);  // the table hands out an id once
        QVERIFY(store->fetchSince(next - 1, 10).isFinished());  // this process's again
        // Not fresh any more: the reader answers.
        QTRY_VERIFY_WITH_TIMEOUT(!store->fetchSince(next - 1, 10).isFinished(), 10000);
        QCOMPARE(idsOf(await(store->fetchSince(3, 10)).value()), QList<qint64>{next});
    }
};

QTEST_GUILESS_MAIN(TestRecentRows)
#include "tst_recentrows.moc"
