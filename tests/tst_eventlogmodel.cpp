// The live log model on 100,000 rows under QAbstractItemModelTester: rows by
// position over the whole log, windows read by keyset and by position, older
// pages while counting, live rows coalesced, filters in SQL, a bounded size.
#include "BusNotifier.h"
#include "EventLogModel.h"
#include "SampleEvents.h"
#include "SqliteEventStore.h"
#include "TestSupport.h"

#include "Timestamp.h"
#include "RowFormat.h"
#include <QAbstractItemModelTester>
#include <QPromise>
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
    void whileCounting();
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

namespace {

// The real store with its counts held back until released: what the model
// does while a big log is still being counted.
class GatedCounts final : public EventStore
{
public:
    explicit GatedCounts(EventStore &store) : m_store(store) {}
    // Answers the counts held, and every later one at once.
    void release()
    {
        m_open = true;
        for (auto &[query, promise] : std::exchange(m_held, {})) {
            promise->addResult(await(m_store.count(query)));
            promise->finish();
        }
    }
    qsizetype held() const { return m_held.size(); }

    QFuture<BatchPublishResult> append(const QList<AppEvent> &events) override { return m_store.append(events); }
    QFuture<Result<QList<StoredEvent>>> fetchSince(qint64 afterId, int limit) override { return m_store.fetchSince(afterId, limit); }
    QFuture<Result<QList<StoredEvent>>> fetchPage(const EventQuery &query) override { return m_store.fetchPage(query); }
    QFuture<Result<qint64>> count(const EventQuery &query) override
    {
        if (m_open)
            return m_store.count(query);
        auto promise = std::make_shared<QPromise<Result<qint64>>>();
        promise->start();
        m_held.append({query, promise});
        return promise->future();
    }
    QFuture<Result<QStringList>> distinctWorlds() override { return m_store.distinctWorlds(); }
    QFuture<Result<qint64>> headId() override { return m_store.headId(); }
    QFuture<Result<int>> markProcessed(const QList<qint64> &ids, bool processed) override { return m_store.markProcessed(ids, processed); }
    QFuture<Result<qint64>> loadCursor(const QString &name) override { return m_store.loadCursor(name); }
    QFuture<Result<bool>> saveCursor(const QString &name, qint64 lastId) override { return m_store.saveCursor(name, lastId); }
    QString location() const override { return m_store.location(); }

private:
    EventStore &m_store;
    bool m_open = false;
    QList<std::pair<EventQuery, std::shared_ptr<QPromise<Result<qint64>>>>> m_held;
};

// The window's rows are consecutive ids (an unfiltered log) in order.
bool windowIsContiguous(const EventLogModel &model)
{
    for (qint64 r = model.firstLoaded() + 1; r < model.firstLoaded() + model.loadedCount(); ++r)
        if (model.eventAt(int(r))->id != model.eventAt(int(r - 1))->id + 1)
            return false;
    return true;
}

// Whether a row is held, asking for it again when it is not, as a view does
// while it shows the row (a model tester's reads may move the window meanwhile).
bool held(const EventLogModel &model, qint64 row)
{
    model.ensureLoaded(int(row));
    return model.eventAt(int(row)) != nullptr;
}

// The id of the log's last row, asking for it to be read when it is not held.
qint64 lastId(const EventLogModel &model)
{
    model.ensureLoaded(model.rowCount() - 1);
    const StoredEvent *e = model.eventAt(model.rowCount() - 1);
    return e ? e->id : -1;
}

// The window holds the newest rows, asking for the last one while it does
// not, as a view does while it shows it (the model tester's own reads may
// send a window elsewhere meanwhile).
bool showsNewest(const EventLogModel &model)
{
    return lastId(model) > 0 && !model.hasNewer();
}

// Where the window is, for a failure's message.
QString windowHeld(const EventLogModel &model)
{
    return u"rows %1–%2 held of %3 counted"_s.arg(model.firstLoaded()).arg(model.firstLoaded() + model.loadedCount()).arg(model.matchingCount());
}

} // namespace

// Rows are positions in the whole log: the scrollbar spans it, and any row
// (the first, the middle, the last) is read where the view looks.
void TestEventLogModel::windowsOverALargeLog()
{
    EventLogModel model(*m_store, *m_notifier);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTRY_VERIFY(model.isCounted());
    QCOMPARE(model.matchingCount(), 100000);
    QCOMPARE(model.rowCount(), 100000);
    QCOMPARE(model.loadedCount(), 500);  // one window, not the whole table
    QCOMPARE(model.firstLoaded(), 99500);
    QCOMPARE(model.eventAt(99999)->id, 100000);
    QCOMPARE(model.data(model.index(99999, EventLogModel::IdColumn), EventLogModel::RawValueRole).toLongLong(), 100000);

    // The first row (Ctrl+Home): "loading" until its window is read.
    QSignalSpy windows(&model, &EventLogModel::windowLoaded);
    QVERIFY(model.eventAt(0) == nullptr);
    QCOMPARE(model.data(model.index(0, EventLogModel::SummaryColumn)).toString(), u"Loading…"_s);
    // The view asks again each time it paints the row: so does this.
    QTRY_VERIFY(model.data(model.index(0, EventLogModel::SummaryColumn)).toString() != u"Loading…"_s && model.eventAt(0));
    QCOMPARE(model.eventAt(0)->id, 1);
    QVERIFY(!model.data(model.index(0, EventLogModel::SummaryColumn)).toString().isEmpty());
    QVERIFY(model.hasNewer());
    // The middle (the thumb dragged there), read from the nearer end.
    QTRY_VERIFY(held(model, 50000));
    QCOMPARE(model.eventAt(50000)->id, 50001);
    QTRY_VERIFY(held(model, 70000));
    QCOMPARE(model.eventAt(70000)->id, 70001);
    QVERIFY(windowIsContiguous(model));
    // A row toggled in a window that does not start at the top: that row, no other.
    QVERIFY(model.firstLoaded() > 0);
    const bool was = model.eventAt(70000)->processed;
    const bool next = model.eventAt(70001)->processed;
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setProcessed(70001, !was);
    QCOMPARE(model.eventAt(70000)->processed, !was);
    QCOMPARE(model.eventAt(70001)->processed, next);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.first().first().value<QModelIndex>().row(), 70000);
    model.setProcessed(70001, was);
    model.setProcessed(1, true);  // not held: nothing to change here
    QCOMPARE(changed.size(), 2);
    // Scrolling up from there extends the window by keyset, bounded.
    model.setMaxRows(1200);
    for (int step = 0; step < 4; ++step) {
        const qint64 above = model.firstLoaded() - 1;
        QTRY_VERIFY(held(model, above));
        QCOMPARE(model.eventAt(int(above))->id, above + 1);
        QVERIFY(model.loadedCount() <= 1200);
        QVERIFY(windowIsContiguous(model));
    }
    // Many wishes while the thumb moves: the last one is read, not each.
    const qsizetype before = windows.size();
    for (int row = 10000; row < 30000; row += 1000)
        model.ensureLoaded(row);
    QTRY_VERIFY(held(model, 29000));
    QCOMPARE(model.eventAt(29000)->id, 29001);
    QVERIFY2(windows.size() - before <= 3, qPrintable(u"%1 windows read"_s.arg(windows.size() - before)));

    QSignalSpy jumped(&model, &EventLogModel::jumped);
    model.jumpTo(1234);
    QTRY_COMPARE(jumped.size(), 1);
    const int row = jumped.first().first().toInt();
    QCOMPARE(row, 1233);
    QCOMPARE(model.eventAt(row)->id, 1234);
    // The newest again (Follow).
    model.showNewest();
    QTRY_VERIFY2(showsNewest(model), qPrintable(windowHeld(model)));
    QCOMPARE(model.eventAt(99999)->id, 100000);
}

// Until the log is counted, the newest page shows and pages above it are
// read as the view reaches the top; the count then places them, live rows
// and a jump asked for meanwhile included.
void TestEventLogModel::whileCounting()
{
    GatedCounts gated(*m_store);
    EventLogModel model(gated, *m_notifier);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &EventLogModel::loaded);
    QTRY_COMPARE(loaded.size(), 1);
    QTRY_COMPARE(gated.held(), 1);
    QVERIFY(!model.isCounted());
    QCOMPARE(model.rowCount(), 500);
    QSignalSpy older(&model, &EventLogModel::olderLoaded);
    QVERIFY(model.canFetchOlder());
    model.fetchOlder();
    QTRY_COMPARE(older.size(), 1);
    QCOMPARE(model.rowCount(), 1000);
    QCOMPARE(model.eventAt(0)->id, 99001);
    const qint64 head = await(m_store->headId()).value();
    const qint64 live = await(m_bus->publish(test::sampleEvent(EventKind::StoryEventCreated, false))).value();
    QTRY_COMPARE(model.rowCount(), 1001);
    QCOMPARE(model.eventAt(1000)->id, live);
    QSignalSpy jumped(&model, &EventLogModel::jumped);
    model.jumpTo(5);
    QVERIFY(jumped.isEmpty());  // waits for the count

    gated.release();
    QTRY_VERIFY(model.isCounted());
    QCOMPARE(model.matchingCount(), head + 1);
    QCOMPARE(model.rowCount(), head + 1);
    QCOMPARE(older.last().first().toInt(), head - 1000);  // the rows above, in one insert
    QCOMPARE(model.eventAt(int(head) - 1000)->id, head - 999);
    QCOMPARE(model.eventAt(int(head))->id, live);
    QTRY_COMPARE(jumped.size(), 1);
    QCOMPARE(jumped.first().first().toInt(), 4);
    QCOMPARE(model.eventAt(4)->id, 5);
}

void TestEventLogModel::liveRowsAreCoalescedAndBounded()
{
    EventLogModel model(*m_store, *m_notifier);
    model.setMaxRows(800);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTRY_VERIFY(model.isCounted());
    const qint64 total = model.matchingCount();
    const qint64 before = model.eventAt(model.rowCount() - 1)->id;
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    // One commit of 1,000 rows: one wake, read in pages, inserted a page at a
    // time (never a row at a time), whatever the machine's speed.
    QList<AppEvent> batch;
    for (int i = 0; i < 1000; ++i)
        batch.append(test::sampleEvent(EventKind::ChallengeResolved, true));
    QVERIFY(await(m_bus->publishBatch(batch)).ok());
    QTRY_COMPARE(model.matchingCount(), total + 1000);
    QVERIFY2(inserted.size() <= 4, qPrintable(u"%1 inserts for 1000 rows"_s.arg(inserted.size())));  // coalesced
    QCOMPARE(model.rowCount(), total + 1000);
    QTRY_COMPARE(lastId(model), before + 1000);
    QVERIFY(model.loadedCount() <= 800);  // bounded: the window moved on
    QVERIFY(windowIsContiguous(model));
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
    QTRY_VERIFY(model.isCounted());
    QCOMPARE(model.matchingCount(), await(m_store->count(q)).value());
    const auto checkWindow = [&] {
        for (qint64 r = model.firstLoaded(); r < model.firstLoaded() + model.loadedCount(); ++r) {
            QCOMPARE(model.eventAt(int(r))->event->worldId(), u"w2"_s);
            QCOMPARE(model.eventAt(int(r))->event->kind(), EventKind::ChallengeResolved);
        }
    };
    checkWindow();
    // By position under a filter: the middle row is the middle match.
    const int middle = model.rowCount() / 2;
    EventQuery all = q;
    all.limit = 100000;
    const QList<StoredEvent> matches = await(m_store->fetchPage(all)).value();
    QTRY_VERIFY(held(model, middle));
    QCOMPARE(model.eventAt(middle)->id, matches.at(middle).id);
    checkWindow();
    model.showNewest();
    QTRY_VERIFY2(showsNewest(model), qPrintable(windowHeld(model)));
    const qint64 counted = model.matchingCount();
    // A live row that matches is added; one that does not is not.
    const int rows = model.rowCount();
    // The one that does not match goes first: once the matching one (after it in
    // the log) is on screen, the other has been seen and turned away.
    QVERIFY(await(m_bus->publish(test::sampleEvent(EventKind::ChallengeResolved, true, u"w1"_s))).ok());
    const qint64 matchingId = await(m_bus->publish(test::sampleEvent(EventKind::ChallengeResolved, true, u"w2"_s))).value();
    QTRY_COMPARE(lastId(model), matchingId);
    QCOMPARE(model.rowCount(), rows + 1);
    QCOMPARE(model.matchingCount(), counted + 1);
    // "(no world)": generation traffic.
    q = {};
    q.worlds = {QString()};
    model.setQuery(q);
    QTRY_COMPARE(loaded.size(), 3);
    for (qint64 r = model.firstLoaded(); r < model.firstLoaded() + model.loadedCount(); ++r)
        QVERIFY(model.eventAt(int(r))->event->isGlobal());
}

void TestEventLogModel::liveRowsAfterAJumpKeepTheLogInOrder()
{
    // Jumped far back: new events must not land right under old ones.
    EventLogModel model(*m_store, *m_notifier);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTRY_VERIFY(model.isCounted());
    QSignalSpy jumped(&model, &EventLogModel::jumped);
    const qint64 head = await(m_store->headId()).value();
    model.jumpTo(head - 3000);
    QTRY_COMPARE(jumped.size(), 1);
    QVERIFY(model.hasNewer());
    const qint64 counted = model.matchingCount();
    for (int i = 0; i < 20; ++i)
        QVERIFY(await(m_bus->publish(test::sampleEvent(EventKind::StoryEventCreated, false))).ok());
    QTRY_COMPARE(model.matchingCount(), counted + 20);  // the live rows were seen, and counted
    QCOMPARE(model.rowCount(), counted + 20);
    QVERIFY(windowIsContiguous(model));
    // Scrolling down reads on, in order, until the newest (live ones included).
    model.setMaxRows(1000000);
    int guard = 0;
    while (model.hasNewer() && ++guard < 1000) {
        const qint64 next = model.firstLoaded() + model.loadedCount();
        QTRY_VERIFY(held(model, next));
    }
    QVERIFY(!model.hasNewer());
    QVERIFY(windowIsContiguous(model));
    QCOMPARE(lastId(model), head + 20);
    // From here live rows join again.
    QVERIFY(await(m_bus->publish(test::sampleEvent(EventKind::StoryEventCreated, false))).ok());
    QTRY_COMPARE(lastId(model), head + 21);
    QVERIFY(windowIsContiguous(model));
    // Follow after a jump goes back to the newest rows.
    model.jumpTo(10);
    QTRY_COMPARE(jumped.size(), 2);
    QCOMPARE(model.eventAt(jumped.last().first().toInt())->id, 10);
    model.showNewest();
    QTRY_VERIFY2(showsNewest(model), qPrintable(windowHeld(model)));
    QCOMPARE(lastId(model), head + 21);
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

    // "aria" finds Aria's events: the payloads hold her UUID, and the window
    // passes the ids whose names hold the text along with it.
    QSignalSpy loaded(&model, &EventLogModel::loaded);
    EventQuery q;
    q.text = u"aria"_s;
    model.setQuery(q);
    QTRY_COMPARE(loaded.size(), 1);
    QTRY_VERIFY(model.isCounted());
    QCOMPARE(model.rowCount(), 0);
    q.textAlso = {who};
    model.setQuery(q);
    QTRY_COMPARE(loaded.size(), 2);
    QTRY_VERIFY(model.isCounted());
    QCOMPARE(model.rowCount(), 1);
    StoreEventBus bus(store, notifier);
    QVERIFY(await(bus.publish(events::StoryEventCreated{u"3f2a1b4c-0000-4000-8000-000000000003"_s, world, u"dialogue"_s})).ok());
    const qint64 hers = await(bus.publish(events::ChallengeResolved{std::nullopt, u"Swim"_s, world, who, false, 3, 5, std::nullopt})).value();
    QTRY_COMPARE(model.rowCount(), 2);  // live rows are held to the same
    QCOMPARE(model.eventAt(1)->id, hers);

    // A job whose Queued row is not among the rows held is named from the
    // Jobs projection's label, its entity by display name.
    const QString batch = u"3f2a1b4c-0000-4000-8000-0000000000b1"_s;
    const qint64 progress = await(bus.publish(events::GenerationBatchProgress{batch, 40, std::nullopt})).value();
    model.setQuery({});
    QTRY_COMPARE(loaded.size(), 3);
    const int row = model.rowOfId(progress);
    QVERIFY(row >= 0);
    QVERIFY(!model.index(row, EventLogModel::SummaryColumn).data().toString().contains(u"portrait"_s));
    model.learnJobLabels({{batch, u"portrait for character "_s + who}});
    const QString said = model.index(row, EventLogModel::SummaryColumn).data().toString();
    QVERIFY2(said.contains(u"portrait for character Aria"_s) && !said.contains(batch), qPrintable(said));
}

QTEST_MAIN(TestEventLogModel)
#include "tst_eventlogmodel.moc"
