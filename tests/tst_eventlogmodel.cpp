// The live log model on 100,000 rows under QAbstractItemModelTester: windowed
// loading, older pages, live rows coalesced, filters in SQL, a bounded size.
#include "BusNotifier.h"
#include "EventLogModel.h"
#include "SampleEvents.h"
#include "SqliteEventStore.h"
#include "TestSupport.h"

#include "Timestamp.h"
#include "RowFormat.h"
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using test::await;

class TestEventLogModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void windowsOverALargeLog();
    void liveRowsAreCoalescedAndBounded();
    void filtersRunInTheStore();
    void liveRowsAfterAJumpKeepTheLogInOrder();
    void timeFilterComparesInstants();
    void displayNamesInsteadOfUuids();

private:
    QTemporaryDir m_dir;
    std::unique_ptr<SqliteEventStore> m_store;
    std::unique_ptr<BusNotifier> m_notifier;
    std::unique_ptr<StoreEventBus> m_bus;
};

void TestEventLogModel::initTestCase()
{
    SqliteOptions o;
    o.path = m_dir.filePath(u"log.db"_s);
    m_store = std::make_unique<SqliteEventStore>(o);
    QVERIFY(m_store->openAndWait().ok());
    m_notifier = std::make_unique<BusNotifier>(0);
    m_bus = std::make_unique<StoreEventBus>(*m_store, *m_notifier);
    for (int batch = 0; batch < 100; ++batch) {
        QList<AppEvent> events;
        for (int i = 0; i < 1000; ++i) {
            const int n = batch * 1000 + i;
            events.append(test::sampleEvent(test::allKinds().at(n % EventKindCount), n % 2 == 0, n % 3 ? u"w1"_s : u"w2"_s));
        }
        QVERIFY(await(m_store->append(events)).ok());
    }
    QCOMPARE(await(m_store->headId()).value(), 100000);
}

void TestEventLogModel::windowsOverALargeLog()
{
    EventLogModel model(*m_store, *m_notifier);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &EventLogModel::loaded);
    QTRY_COMPARE(loaded.size(), 1);
    QCOMPARE(model.rowCount(), 500);  // one window, not the whole table
    QCOMPARE(model.eventAt(model.rowCount() - 1)->id, 100000);
    QTRY_COMPARE(model.matchingCount(), 100000);
    QSignalSpy older(&model, &EventLogModel::olderLoaded);
    model.fetchOlder();
    QTRY_COMPARE(older.size(), 1);
    QCOMPARE(model.rowCount(), 1000);
    QCOMPARE(model.eventAt(0)->id, 99001);
    QCOMPARE(model.data(model.index(0, EventLogModel::IdColumn), EventLogModel::RawValueRole).toLongLong(), 99001);
    QVERIFY(!model.data(model.index(0, EventLogModel::SummaryColumn)).toString().isEmpty());

    QSignalSpy jumped(&model, &EventLogModel::jumped);
    model.jumpTo(1234);
    QTRY_COMPARE(jumped.size(), 1);
    const int row = jumped.first().first().toInt();
    QCOMPARE(model.eventAt(row)->id, 1234);
}

void TestEventLogModel::liveRowsAreCoalescedAndBounded()
{
    EventLogModel model(*m_store, *m_notifier);
    model.setMaxRows(800);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &EventLogModel::loaded);
    QTRY_COMPARE(loaded.size(), 1);
    const qint64 before = model.eventAt(model.rowCount() - 1)->id;
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    // One commit of 1,000 rows: one wake, read in pages, inserted a page at a
    // time (never a row at a time), whatever the machine's speed.
    QList<AppEvent> batch;
    for (int i = 0; i < 1000; ++i)
        batch.append(test::sampleEvent(EventKind::ChallengeResolved, true));
    QVERIFY(await(m_bus->publishBatch(batch)).ok());
    QTRY_COMPARE(model.eventAt(model.rowCount() - 1)->id, before + 1000);
    QVERIFY2(inserted.size() <= 4, qPrintable(u"%1 inserts for 1000 rows"_s.arg(inserted.size())));  // coalesced
    QCOMPARE(model.rowCount(), 800);  // bounded: the oldest went
    for (int r = 1; r < model.rowCount(); ++r)
        QVERIFY(model.eventAt(r)->id > model.eventAt(r - 1)->id);
}

void TestEventLogModel::filtersRunInTheStore()
{
    EventLogModel model(*m_store, *m_notifier);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &EventLogModel::loaded);
    QTRY_COMPARE(loaded.size(), 1);
    EventQuery q;
    q.worlds = {u"w2"_s};
    q.kinds = {EventKind::ChallengeResolved};
    model.setQuery(q);
    QTRY_COMPARE(loaded.size(), 2);
    QVERIFY(model.rowCount() > 0);
    for (int r = 0; r < model.rowCount(); ++r) {
        QCOMPARE(model.eventAt(r)->event->worldId(), u"w2"_s);
        QCOMPARE(model.eventAt(r)->event->kind(), EventKind::ChallengeResolved);
    }
    QTRY_VERIFY(model.matchingCount() > 0);
    const qint64 counted = model.matchingCount();
    // A live row that matches is added; one that does not is not.
    const int rows = model.rowCount();
    // The one that does not match goes first: once the matching one (after it in
    // the log) is on screen, the other has been seen and turned away.
    QVERIFY(await(m_bus->publish(test::sampleEvent(EventKind::ChallengeResolved, true, u"w1"_s))).ok());
    const qint64 matchingId = await(m_bus->publish(test::sampleEvent(EventKind::ChallengeResolved, true, u"w2"_s))).value();
    QTRY_COMPARE(model.eventAt(model.rowCount() - 1)->id, matchingId);
    QCOMPARE(model.rowCount(), rows + 1);
    QCOMPARE(model.matchingCount(), counted + 1);
    // "(no world)": generation traffic.
    q = {};
    q.worlds = {QString()};
    model.setQuery(q);
    QTRY_COMPARE(loaded.size(), 3);
    for (int r = 0; r < model.rowCount(); ++r)
        QVERIFY(model.eventAt(r)->event->isGlobal());
}

void TestEventLogModel::liveRowsAfterAJumpKeepTheLogInOrder()
{
    // Jumped far back: new events must not land right under old ones.
    EventLogModel model(*m_store, *m_notifier);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &EventLogModel::loaded);
    QTRY_COMPARE(loaded.size(), 1);
    QSignalSpy jumped(&model, &EventLogModel::jumped);
    const qint64 head = await(m_store->headId()).value();
    model.jumpTo(head - 3000);
    QTRY_COMPARE(jumped.size(), 1);
    QVERIFY(model.hasNewer());
    QTRY_VERIFY(model.matchingCount() >= 0);
    const qint64 counted = model.matchingCount();
    for (int i = 0; i < 20; ++i)
        QVERIFY(await(m_bus->publish(test::sampleEvent(EventKind::StoryEventCreated, false))).ok());
    QTRY_COMPARE(model.matchingCount(), counted + 20);  // the live rows were seen, and counted
    const auto contiguous = [&] {
        for (int r = 1; r < model.rowCount(); ++r)
            if (model.eventAt(r)->id != model.eventAt(r - 1)->id + 1)
                return false;
        return true;
    };
    QVERIFY(contiguous());
    QVERIFY(model.eventAt(model.rowCount() - 1)->id < head);
    // Scrolling down reads on, in order, until the newest (live ones included).
    model.setMaxRows(1000000);
    int guard = 0;
    while (model.hasNewer() && ++guard < 1000) {
        model.fetchNewer();
        QTRY_VERIFY(model.canFetchNewer() || !model.hasNewer());
    }
    QVERIFY(!model.hasNewer());
    QVERIFY(contiguous());
    QCOMPARE(model.eventAt(model.rowCount() - 1)->id, head + 20);
    // From here live rows join again.
    QVERIFY(await(m_bus->publish(test::sampleEvent(EventKind::StoryEventCreated, false))).ok());
    QTRY_COMPARE(model.eventAt(model.rowCount() - 1)->id, head + 21);
    // Follow after a jump goes back to the newest page.
    model.jumpTo(10);
    QTRY_COMPARE(jumped.size(), 2);
    model.showNewest();
    QTRY_VERIFY(!model.hasNewer() && model.rowCount() > 0 && model.eventAt(model.rowCount() - 1)->id == head + 21);
}

// The window's time filter on rows stamped as the engine stamps them: an
// instant, whatever the offset and precision; live rows are held to the same.
void TestEventLogModel::timeFilterComparesInstants()
{
    QTemporaryDir dir;
    SqliteOptions o;
    o.path = dir.filePath(u"times.db"_s);
    SqliteEventStore store(o);
    QVERIFY(store.openAndWait().ok());
    BusNotifier notifier(0);
    StoreEventBus bus(store, notifier);
    QList<rows::ImportedRow> rowsIn;
    for (const QString &at : {u"2026-11-26T03:04:05+00:00"_s, u"2026-11-26T03:04:05.190137281+00:00"_s,
                              u"2026-11-26T05:04:06.5+02:00"_s}) {
        rows::ImportedRow r;
        r.event = test::sampleEvent(EventKind::StoryEventCreated, true);
        r.createdAt = at;
        rowsIn.append(r);
    }
    QVERIFY(await(store.importRows(rowsIn, false)).ok());
    EventLogModel model(store, notifier);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &EventLogModel::loaded);
    QTRY_COMPARE(loaded.size(), 1);
    const auto shown = [&] {
        QList<qint64> ids;
        for (int r = 0; r < model.rowCount(); ++r)
            ids.append(model.eventAt(r)->id);
        return ids;
    };
    EventQuery q;
    q.createdFrom = timestamp::parseNanos(u"2026-11-26T03:04:05.123Z"_s);
    model.setQuery(q);
    QTRY_COMPARE(loaded.size(), 2);
    QCOMPARE(shown(), (QList<qint64>{2, 3}));
    q.createdFrom = timestamp::parseNanos(u"2026-11-26T03:04:05Z"_s);
    q.createdTo = timestamp::parseNanos(u"2026-11-26T03:04:06.5Z"_s);
    model.setQuery(q);
    QTRY_COMPARE(loaded.size(), 3);
    QCOMPARE(shown(), (QList<qint64>{1, 2}));
    // A live row stamped now is outside this window and stays out; with no upper bound it comes in.
    QVERIFY(await(bus.publish(test::sampleEvent(EventKind::StoryEventCreated, true))).ok());
    q.createdTo.reset();
    model.setQuery(q);
    QTRY_COMPARE(loaded.size(), 4);
    QCOMPARE(shown(), (QList<qint64>{1, 2, 3, 4}));
}

// The window names worlds and characters; the UUIDs stay in the data (and the detail pane).
void TestEventLogModel::displayNamesInsteadOfUuids()
{
    QTemporaryDir dir;
    SqliteOptions o;
    o.path = dir.filePath(u"names.db"_s);
    SqliteEventStore store(o);
    QVERIFY(store.openAndWait().ok());
    BusNotifier notifier(0);
    const QString world = u"3f2a1b4c-0000-4000-8000-000000000001"_s, who = u"3f2a1b4c-0000-4000-8000-000000000002"_s;
    QVERIFY(await(store.append({events::ChallengeResolved{std::nullopt, u"Climb the wall"_s, world, who, true, 15, 17, std::nullopt}})).ok());
    EventLogModel model(store, notifier);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTRY_COMPARE(model.rowCount(), 1);
    const QModelIndex worldCell = model.index(0, EventLogModel::WorldColumn), summary = model.index(0, EventLogModel::SummaryColumn);
    QCOMPARE(worldCell.data().toString(), world);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setDisplayNames({{world, u"Ravenmoor"_s}, {who, u"Aria"_s}});
    QCOMPARE(changed.size(), 1);
    QCOMPARE(worldCell.data().toString(), u"Ravenmoor"_s);
    QVERIFY(worldCell.data(Qt::ToolTipRole).toString().contains(world));
    QVERIFY2(summary.data().toString().contains(u"Aria"_s) && !summary.data().toString().contains(who), qPrintable(summary.data().toString()));
    QCOMPARE(worldCell.data(EventLogModel::RawValueRole).toString(), world);  // filters and sorting keep the id
}

QTEST_MAIN(TestEventLogModel)
#include "tst_eventlogmodel.moc"
